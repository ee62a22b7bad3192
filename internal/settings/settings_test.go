package settings_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestDefaultsBeforeAnythingIsSaved: a first run tracks opens and clicks
// with the subscriber, signs nothing, and shows the default publication.
func TestDefaultsBeforeAnythingIsSaved(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tr, err := settings.LoadTracking(ctx, s)
		if err != nil || tr != (settings.Tracking{Opens: true, Clicks: true}) {
			t.Fatalf("tracking %+v, %v", tr, err)
		}
		set := settings.New(s, "https://news.example.com")
		if k, err := set.SigningKey(ctx); err != nil || k != nil {
			t.Fatalf("signing key %v, %v", k, err)
		}
		if anon, err := set.Anonymous(ctx); err != nil || anon {
			t.Fatalf("anonymous %v, %v", anon, err)
		}
		pub, err := set.Brand(ctx)
		if err != nil || pub.Name != model.DefaultPublication("https://news.example.com").Name {
			t.Fatalf("brand %+v, %v", pub, err)
		}
	})
}

// TestSavedSettingsReadBack: what the admin saves is what every reader
// gets, and the configuration's fixed choices rank above it.
func TestSavedSettingsReadBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		want := settings.Tracking{Opens: false, Clicks: true, Anonymous: true}
		if err := settings.SaveTracking(ctx, s, want, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, err := settings.LoadTracking(ctx, s); err != nil || got != want {
			t.Fatalf("tracking %+v, %v; want %+v", got, err, want)
		}
		pem, err := message.GenerateKey("ed25519")
		if err != nil {
			t.Fatal(err)
		}
		if err := settings.SaveDKIM(ctx, s, pem, "h2026", "news.example.com"); err != nil {
			t.Fatal(err)
		}
		set := settings.New(s, "https://news.example.com")
		k, err := set.SigningKey(ctx)
		if err != nil || k == nil || k.Selector != "h2026" || k.Domain != "news.example.com" || set.KeySource() != "generated here" {
			t.Fatalf("signing key %+v, %v", k, err)
		}
		if anon, err := set.Anonymous(ctx); err != nil || !anon {
			t.Fatalf("anonymous %v, %v; the admin asked for anonymous events", anon, err)
		}
		pub := model.DefaultPublication("https://news.example.com")
		pub.Name = "The Ledger"
		if err := settings.SavePublication(ctx, s, pub); err != nil {
			t.Fatal(err)
		}
		if got, err := set.Brand(ctx); err != nil || got.Name != "The Ledger" {
			t.Fatalf("brand %+v, %v", got, err)
		}

		// The configuration's key signs instead of the generated one.
		other, err := message.GenerateKey("ed25519")
		if err != nil {
			t.Fatal(err)
		}
		key, err := message.ParseKey(other)
		if err != nil {
			t.Fatal(err)
		}
		set.DKIM = &message.DKIM{Domain: "file.example", Selector: "f1", Key: key}
		if k, err := set.SigningKey(ctx); err != nil || k.Domain != "file.example" || set.KeySource() != "configuration file" {
			t.Fatalf("with a key file: %+v, %v", k, err)
		}
		// Tracking off in the configuration turns it off whatever is saved.
		set.Tracking = settings.TrackOff
		if !set.NoTracking() {
			t.Fatal("tracking = off in the configuration did not turn tracking off")
		}
	})
}

// TestAuditRetention: a year until an owner says otherwise; 0 keeps rows
// for ever; a number out of range is refused with a message for people
// and not saved.
func TestAuditRetention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if d, err := settings.LoadAuditRetention(ctx, s); err != nil || d != settings.DefaultAuditRetentionDays {
			t.Fatalf("default = %d, %v", d, err)
		}
		for _, days := range []int{30, 0} {
			if err := settings.SaveAuditRetention(ctx, s, days); err != nil {
				t.Fatal(err)
			}
			if d, err := settings.LoadAuditRetention(ctx, s); err != nil || d != days {
				t.Fatalf("after saving %d: %d, %v", days, d, err)
			}
		}
		var inv *settings.InvalidError
		if err := settings.SaveAuditRetention(ctx, s, -1); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "from 0 (keep for ever)") {
			t.Fatalf("-1 = %v", err)
		}
		if _, err := settings.ParseAuditRetention("a year"); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "whole number of days") {
			t.Fatalf(`"a year" = %v`, err)
		}
		if d, _ := settings.LoadAuditRetention(ctx, s); d != 0 {
			t.Fatalf("a refused value was saved: %d", d)
		}
	})
}
