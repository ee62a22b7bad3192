package store_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

// TestStoreKeepsTheRules: the store's own writes call the domain checks,
// so no front door (nor a forgotten one) stores a list, a campaign or a
// subscriber the checks refuse.
func TestStoreKeepsTheRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		field := func(err error) string {
			if ve := validator.As(err); ve != nil {
				return ve.Field
			}
			return ""
		}
		if err := s.CreateList(ctx, &model.List{Slug: "Bad Slug", Name: "Bad"}); field(err) != "slug" {
			t.Fatalf("CreateList with a bad slug: %v", err)
		}
		l := &model.List{Slug: "evening", Name: "Evening"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		l.Name = ""
		if err := s.UpdateList(ctx, l); field(err) != "name" {
			t.Fatalf("UpdateList with no name: %v", err)
		}
		c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "news@example.com", ReplyTo: "not an address"}
		if err := s.CreateCampaign(ctx, c); field(err) != "reply_to" {
			t.Fatalf("CreateCampaign with a bad Reply-To: %v", err)
		}
		if _, err := s.UpsertSubscriber(ctx, &model.Subscriber{Email: "reader"}); field(err) != "email" {
			t.Fatalf("UpsertSubscriber with no address: %v", err)
		}
		if ls, err := s.Lists(ctx); err != nil || len(ls) != 1 || ls[0].Name != "Evening" {
			t.Fatalf("lists: %+v, %v", ls, err)
		}
		if n, err := s.CountCampaigns(ctx); err != nil || n != 0 {
			t.Fatalf("campaigns: %d, %v", n, err)
		}
	})
}
