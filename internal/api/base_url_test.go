package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestStartNeedsBaseURLForARelay (issue 23, item 12): through the API,
// starting a campaign on a server that sends through a relay and has no
// base_url is refused, 422 on the field base_url with a sentence naming
// the setting; the campaign stays a draft.
func TestStartNeedsBaseURLForARelay(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	_, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	e := newEnv(t, st, false, func(d *api.Deps) {
		eng, err := delivery.New(st, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), BaseURL: "http://127.0.0.1:8080",
			BaseURLGuessed: true, Freeze: delivery.EditionFreezer(st, sample.Publication(), render.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		d.Engine = eng
	})
	ctx := context.Background()
	c := e.client(auth.Owner)
	l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateEdition(ctx, wireEdition(t, ed))
	if err != nil {
		t.Fatal(err)
	}
	camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Tonight", EditionID: created.ID, ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StartCampaign(ctx, camp.ID)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 422 || ae.Field != "base_url" || !strings.Contains(ae.Message, "needs base_url") {
		t.Fatalf("start without base_url: %v", err)
	}
	if got, err := c.Campaign(ctx, camp.ID); err != nil || got.Status != "draft" {
		t.Fatalf("after the refusal the campaign is %+v, %v", got, err)
	}
}
