package api_test

import (
	"context"
	"testing"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/store/storetest"
)

// A list's language and brand through the API: set, read back, kept when
// an update leaves them out, and refused (422 naming the field) when they
// cannot work; a campaign to the list takes the brand's From and Reply-To.
func TestListLanguageAndBrandInTheAPI(t *testing.T) {
	st := storetest.SQLite(t)
	e := newEnv(t, st, false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	fr := "fr"
	brand := &client.Brand{Name: "Le Soir", Accent: "#123456", From: "Le Soir <soir@soir.example>", ReplyTo: "courrier@soir.example"}
	l, err := c.CreateList(ctx, client.ListInput{Slug: "soir", Name: "Le Soir", Language: &fr, Brand: brand})
	if err != nil || l.Language != "fr" || l.Brand == nil || *l.Brand != *brand {
		t.Fatalf("CreateList = %+v (brand %+v), %v", l, l.Brand, err)
	}
	if l, err = c.UpdateList(ctx, l.ID, client.ListInput{Name: "Le Soir du jour"}); err != nil || l.Language != "fr" || l.Brand == nil {
		t.Fatalf("an update without language and brand: %+v, %v", l, err)
	}
	he, ptBR := "he", "pt-br"
	_, err = c.UpdateList(ctx, l.ID, client.ListInput{Name: "Le Soir", Language: &he})
	wantField(t, "an unknown language", err, "language", `Herald has no catalog for "he"`)
	_, err = c.UpdateList(ctx, l.ID, client.ListInput{Name: "Le Soir", Brand: &client.Brand{Accent: "red"}})
	wantField(t, "a colour that is not one", err, "brand_accent", `The brand's accent colour "red"`)
	if l, err = c.UpdateList(ctx, l.ID, client.ListInput{Name: "Le Soir", Language: &ptBR}); err != nil || l.Language != "pt-BR" {
		t.Fatalf("pt-br: %+v, %v", l, err)
	}

	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEdition(ctx, ed, ""); err != nil {
		t.Fatal(err)
	}
	camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Soir", EditionID: ed.ID, ListIDs: []int64{l.ID}})
	if err != nil || camp.From != brand.From || camp.ReplyTo != brand.ReplyTo {
		t.Fatalf("a campaign to the branded list: %+v, %v", camp, err)
	}
}
