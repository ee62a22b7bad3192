package settings_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

// TestFillSender: a campaign's From and Reply-To come from the campaign,
// else its first list's brand, else the publication's sender, else (From
// only) the configuration's; a publication with a sender that is not an
// address is refused field by field, every problem at once.
func TestFillSender(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		plain := &model.List{Slug: "evening", Name: "Evening"}
		branded := &model.List{Slug: "soir", Name: "Le Soir", Brand: &model.Brand{From: "Le Soir <soir@soir.example>"}}
		for _, l := range []*model.List{plain, branded} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		const conf = "Herald <newsletter@localhost.localdomain>"
		fill := func(c model.Campaign) model.Campaign {
			t.Helper()
			if err := settings.FillSender(ctx, s, &c, conf); err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := fill(model.Campaign{ListIDs: []int64{plain.ID}}); c.From != conf || c.ReplyTo != "" {
			t.Errorf("before any publication sender: %q, %q", c.From, c.ReplyTo)
		}
		pub := model.DefaultPublication("https://courier.example")
		pub.Name, pub.From, pub.ReplyTo = "The Courier", "The Courier <news@courier.example>", "letters@courier.example"
		if err := settings.SavePublication(ctx, s, pub); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			what          string
			c             model.Campaign
			from, replyTo string
		}{
			{"the publication's", model.Campaign{ListIDs: []int64{plain.ID}}, pub.From, pub.ReplyTo},
			{"to segments only", model.Campaign{SegmentIDs: []int64{9}}, pub.From, pub.ReplyTo},
			{"the brand's From, the publication's Reply-To", model.Campaign{ListIDs: []int64{branded.ID}}, "Le Soir <soir@soir.example>", pub.ReplyTo},
			{"the campaign's own", model.Campaign{ListIDs: []int64{branded.ID}, From: "Night <night@courier.example>", ReplyTo: "desk@courier.example"},
				"Night <night@courier.example>", "desk@courier.example"},
		} {
			if c := fill(tc.c); c.From != tc.from || c.ReplyTo != tc.replyTo {
				t.Errorf("%s: %q, %q; want %q, %q", tc.what, c.From, c.ReplyTo, tc.from, tc.replyTo)
			}
		}

		bad := pub
		bad.From, bad.ReplyTo, bad.Colors.Accent = "The Courier", "Letters <letters@courier.example>", "red"
		err := settings.SavePublication(ctx, s, bad)
		var fields []string
		for _, ve := range validator.All(err) {
			fields = append(fields, ve.Field)
		}
		if len(fields) != 3 || fields[0] != "from" || fields[1] != "reply_to" || fields[2] != "accent" {
			t.Errorf("a bad sender and colour: fields %v (%v)", fields, err)
		}
		if got, _ := s.GetPublication(ctx); got.From != pub.From {
			t.Errorf("a refused sender was saved: %q", got.From)
		}

		if at, err := settings.SenderTested(ctx, s); err != nil || !at.IsZero() {
			t.Errorf("tested before any test copy: %v, %v", at, err)
		}
		now := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		if err := settings.MarkSenderTested(ctx, s, now); err != nil {
			t.Fatal(err)
		}
		if at, err := settings.SenderTested(ctx, s); err != nil || !at.Equal(now) {
			t.Errorf("tested at %v, %v; want %v", at, err, now)
		}
	})
}
