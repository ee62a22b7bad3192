package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// auditOf returns the audit rows of action, newest first.
func auditOf(t *testing.T, s *store.Store, action string) []audit.Entry {
	t.Helper()
	es, err := s.AuditEntries(context.Background(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAuditRowsCommitWithTheirChange: a change made under an actor writes
// one row with who, how, from where, what and the fields that changed; a
// change that fails writes none; background work (no actor) writes none.
func TestAuditRowsCommitWithTheirChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		bg := context.Background()
		ctx := audit.WithActor(bg, audit.Actor{UserID: 7, Name: "ed@example.com", Via: audit.ViaAdmin, IP: "192.0.2.9"})
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		c := &model.Campaign{Name: "Monday", EditionID: 1, ListIDs: []int64{l.ID}, From: "news@example.com"}
		if err := s.CreateCampaign(bg, c); err != nil { // no actor: not recorded
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignPaused); err != nil {
			t.Fatal(err)
		}
		// A refused change writes nothing.
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignPaused); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("pausing a paused campaign = %v, want ErrBadTransition", err)
		}
		if err := s.CreateList(ctx, &model.List{Slug: "daily", Name: "Again"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate list = %v", err)
		}
		if err := s.SetCampaignStatus(ctx, c.ID, model.CampaignCancelled); err != nil {
			t.Fatal(err)
		}

		all, err := s.AuditEntries(bg, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range all {
			got = append(got, e.Action+" "+e.Object)
		}
		want := []string{"campaign.cancel campaign/1", "campaign.pause campaign/1", "campaign.start campaign/1", "list.create list/1"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Fatalf("audit rows = %q, want %q", got, want)
		}
		p := all[1]
		if p.Actor != "ed@example.com" || p.UserID != 7 || p.Via != audit.ViaAdmin || p.IP != "192.0.2.9" || p.At.IsZero() {
			t.Errorf("pause row = %+v", p)
		}
		if ch := p.Changes["status"]; ch.Before != "sending" || ch.After != "paused" {
			t.Errorf("pause changes = %+v, want status sending → paused", p.Changes)
		}
		if ch := all[2].Changes["recipients"]; ch.After != float64(0) {
			t.Errorf("start changes = %+v", all[2].Changes)
		}

		// Filters.
		if es := auditOf(t, s, "campaign."); len(es) != 3 {
			t.Errorf("campaign.* rows = %d, want 3", len(es))
		}
		for _, f := range []audit.Filter{{User: "ed@example.com"}, {Object: "campaign"}, {Object: "campaign/1"}, {Since: time.Now().Add(-time.Hour)}} {
			if es, err := s.AuditEntries(bg, f); err != nil || len(es) < 3 {
				t.Errorf("filter %+v: %d rows, %v", f, len(es), err)
			}
		}
		for _, f := range []audit.Filter{{User: "someone@example.com"}, {Object: "campaign/2"}, {Action: "campaign"}, {Until: time.Now().Add(-time.Hour)}} {
			if es, err := s.AuditEntries(bg, f); err != nil || len(es) != 0 {
				t.Errorf("filter %+v: %d rows, %v; want none", f, len(es), err)
			}
		}
		if es, err := s.AuditEntries(bg, audit.Filter{Limit: 2}); err != nil || len(es) != 2 {
			t.Fatalf("limit 2: %d, %v", len(es), err)
		} else if older, err := s.AuditEntries(bg, audit.Filter{BeforeID: es[1].ID}); err != nil || len(older) != 2 {
			t.Errorf("the page before %d: %d rows, %v", es[1].ID, len(older), err)
		}
	})
}

// TestAuditKeepsSecretsOut: passwords, keys and tokens are recorded as
// changed, never with their values, and an erased address is not in the
// row that records its erasure.
func TestAuditKeepsSecretsOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := audit.WithActor(context.Background(), audit.Actor{Name: "cli:ops", Via: audit.ViaCLI})
		u := &store.User{Email: "ed@example.com", Name: "Ed", Role: "editor", PasswordHash: "$2a$10$firsthashfirsthashfirsthash"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.PasswordHash = "$2a$10$secondhashsecondhashsecond"
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.Role = "owner"
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tok := &store.APIToken{UserID: u.ID, Name: "ci", Role: "editor", Prefix: "hrld_abc123", Hash: "tokenhashtokenhashtokenhash"}
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSettings(ctx, map[string]string{"dkim.key": "-----BEGIN PRIVATE KEY-----pemdata", "dkim.selector": "s1"}); err != nil {
			t.Fatal(err)
		}
		wh := &model.WebhookEndpoint{URL: "https://hooks.example.com/h", Secret: "whsec_secretsecretsecret", Events: []model.WebhookEvent{model.EventCampaignSent}, Active: true}
		if err := s.CreateWebhookEndpoint(ctx, wh); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSubscriber(ctx, &model.Subscriber{Email: "reader@example.com", Name: "Reader"}); err != nil {
			t.Fatal(err)
		}
		if err := s.EraseSubscriber(ctx, "reader@example.com"); err != nil {
			t.Fatal(err)
		}

		all, err := s.AuditEntries(context.Background(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(all)
		dump := string(b)
		for _, secret := range []string{"firsthash", "secondhash", "tokenhash", "pemdata", "PRIVATE", "whsec_", "reader@example.com"} {
			if strings.Contains(dump, secret) {
				t.Errorf("the audit log holds %q:\n%s", secret, dump)
			}
		}
		var actions []string
		for _, e := range all {
			actions = append(actions, e.Action)
		}
		want := "subscriber.erase subscriber.create webhook.create settings.update token.create user.role user.password user.create"
		if strings.Join(actions, " ") != want {
			t.Fatalf("actions = %q, want %q", actions, want)
		}
		if ch := all[5].Changes["role"]; ch.Before != "editor" || ch.After != "owner" {
			t.Errorf("user.role changes = %+v", all[5].Changes)
		}
		if ch := all[6].Changes["password"]; ch.Before != audit.Hidden || ch.After != audit.Hidden {
			t.Errorf("user.password changes = %+v, want both hidden", all[6].Changes)
		}
		if ch := all[3].Changes["dkim.selector"]; ch.After != "s1" {
			t.Errorf("settings.update changes = %+v", all[3].Changes)
		}
		if all[0].Object != "subscriber/1" {
			t.Errorf("erasure object = %q", all[0].Object)
		}
	})
}

// TestAuditIsAppendOnly: the database refuses to change a row, and only
// retention deletes them, oldest first in batches.
func TestAuditIsAppendOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		bg := context.Background()
		ctx := audit.WithActor(bg, audit.Actor{Name: "cli:ops", Via: audit.ViaCLI})
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		now := start
		s.SetClockForTest(func() time.Time { return now })
		for i := range 5 {
			now = start.Add(time.Duration(i) * 24 * time.Hour)
			if err := s.PutSetting(ctx, "sunset_months", string(rune('1'+i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ExecForTest(bg, `UPDATE audit_log SET actor = 'someone else'`); err == nil {
			t.Fatal("an audit row could be changed")
		}
		es := auditOf(t, s, audit.SettingsUpdate)
		if len(es) != 5 || es[0].Actor != "cli:ops" {
			t.Fatalf("rows after the refused update = %+v", es)
		}
		// Older than day 3 (days 0, 1, 2), two at a time.
		n, err := s.PruneAudit(bg, start.Add(3*24*time.Hour), 2)
		if err != nil || n != 2 {
			t.Fatalf("first batch = %d, %v", n, err)
		}
		if n, err = s.PruneAudit(bg, start.Add(3*24*time.Hour), 2); err != nil || n != 1 {
			t.Fatalf("second batch = %d, %v", n, err)
		}
		es = auditOf(t, s, audit.SettingsUpdate)
		if len(es) != 2 || !es[1].At.Equal(start.Add(3*24*time.Hour)) {
			t.Fatalf("rows kept = %+v", es)
		}
	})
}

// TestAuditForwardedToWebhooks: an endpoint subscribed to audit.* gets
// each entry, typed by its action, queued in the change's transaction;
// one that is not subscribed gets nothing.
func TestAuditForwardedToWebhooks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		bg := context.Background()
		listens := &model.WebhookEndpoint{URL: "https://siem.example.com/herald", Secret: "whsec_0123456789abcdef", Events: []model.WebhookEvent{model.EventAudit}, Active: true}
		other := &model.WebhookEndpoint{URL: "https://crm.example.com/herald", Secret: "whsec_0123456789abcdef", Events: []model.WebhookEvent{model.EventCampaignSent}, Active: true}
		for _, e := range []*model.WebhookEndpoint{listens, other} {
			if err := s.CreateWebhookEndpoint(bg, e); err != nil {
				t.Fatal(err)
			}
		}
		ctx := audit.WithActor(bg, audit.Actor{UserID: 1, Name: "ed@example.com", Via: audit.ViaAdmin, IP: "192.0.2.7"})
		if err := s.CreateList(ctx, &model.List{Slug: "daily", Name: "Daily"}); err != nil {
			t.Fatal(err)
		}
		ds, err := s.WebhookDeliveries(bg, listens.ID, 10)
		if err != nil || len(ds) != 1 || ds[0].Event != "audit.list.create" {
			t.Fatalf("deliveries = %+v, %v", ds, err)
		}
		var body struct {
			Type string `json:"type"`
			Data struct {
				Actor, Via, IP, Action, Object string
				Changes                        map[string]audit.Change
			} `json:"data"`
		}
		if err := json.Unmarshal(ds[0].Payload, &body); err != nil {
			t.Fatal(err)
		}
		d := body.Data
		if body.Type != "audit.list.create" || d.Actor != "ed@example.com" || d.Via != "admin" || d.IP != "192.0.2.7" || d.Action != "list.create" ||
			d.Object != "list/1" || d.Changes["slug"].After != "daily" {
			t.Errorf("webhook body = %s", ds[0].Payload)
		}
		if ds, err := s.WebhookDeliveries(bg, other.ID, 10); err != nil || len(ds) != 0 {
			t.Errorf("an endpoint not subscribed got %+v, %v", ds, err)
		}
	})
}

// BenchmarkAuditedWrite measures what the audit row adds to a small write
// (a list renamed in its transaction), with and without an actor, side by
// side on SQLite.
func BenchmarkAuditedWrite(b *testing.B) {
	for _, name := range []string{"no-actor", "actor"} {
		b.Run(name, func(b *testing.B) {
			s := storetest.SQLite(b)
			ctx := context.Background()
			if name == "actor" {
				ctx = audit.WithActor(ctx, audit.Actor{UserID: 1, Name: "ed@example.com", Via: audit.ViaAdmin, IP: "192.0.2.1"})
			}
			l := &model.List{Slug: "daily", Name: "Daily"}
			if err := s.CreateList(ctx, l); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				l.Name = "Daily " + strconv.Itoa(i)
				if err := s.UpdateList(ctx, l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
