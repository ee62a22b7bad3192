package store_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/validator"
)

// A list keeps its language (in canonical form) and its brand; a language
// Herald has no catalog for is refused with the languages it has.
func TestListLanguageAndBrand(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		brand := &model.Brand{Name: "Le Soir", LogoURL: "https://example.org/soir.png",
			Colors: model.Colors{Accent: "#123456"}, From: "Le Soir <soir@example.org>", ReplyTo: "courrier@example.org"}
		l := &model.List{Slug: "soir", Name: "Le Soir", Language: "fr", Brand: brand}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		plain := &model.List{Slug: "plain", Name: "Plain"}
		if err := s.CreateList(ctx, plain); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListBySlug(ctx, "soir")
		if err != nil || got.Language != "fr" || got.Brand == nil || *got.Brand != *brand {
			t.Fatalf("ListBySlug = %+v (brand %+v), %v", got, got.Brand, err)
		}
		if p, _ := s.ListBySlug(ctx, "plain"); p.Brand != nil || p.Language != "" {
			t.Fatalf("a list without brand or language came back with %+v, %q", p.Brand, p.Language)
		}
		got.Language, got.Brand = "pt-br", nil
		if err := s.UpdateList(ctx, got); err != nil {
			t.Fatal(err)
		}
		all, err := s.Lists(ctx)
		if err != nil || len(all) != 2 || all[1].Language != "pt-BR" || all[1].Brand != nil {
			t.Fatalf("Lists = %+v, %v", all, err)
		}
		got.Language = "xx"
		if err := s.UpdateList(ctx, got); validator.As(err) == nil || validator.As(err).Field != "language" {
			t.Fatalf("unknown language: %v, want a validator error on language", err)
		}
	})
}
