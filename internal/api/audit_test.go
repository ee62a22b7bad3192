package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/api"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestAuditThroughTheAPI makes each audited kind of change with the Go
// client and reads them back from GET /api/audit: one entry each, under
// the token's name, via api, from the client's address; a refused change
// adds none; only owners read the log.
func TestAuditThroughTheAPI(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		// An engine that is not running: a started campaign stays sending
		// until it is paused.
		_, m, _ := deliverytest.Relay(t, smtpsink.Options{})
		e := newEnv(t, st, false, func(d *api.Deps) {
			eng, err := delivery.New(st, delivery.Config{Sender: m, Signer: deliverytest.Signer(t), BaseURL: "https://news.example.com",
				Freeze: delivery.EditionFreezer(st, sample.Publication(), render.Options{})})
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
		if _, err := c.Import(ctx, l.ID, strings.NewReader("email,name\nfirst@example.net,First\nsecond@example.net,Second\n"), client.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		sub, err := c.CreateSubscriber(ctx, client.SubscriberInput{Email: "reader@example.net", Name: "Reader",
			Subscriptions: []client.SubscriptionInput{{ListID: l.ID, Status: "confirmed"}}})
		if err != nil {
			t.Fatal(err)
		}
		ed, err := sample.Edition()
		if err != nil {
			t.Fatal(err)
		}
		ed.Slug = "audit-evening"
		created, err := c.CreateEdition(ctx, wireEdition(t, ed))
		if err != nil {
			t.Fatal(err)
		}
		camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Tonight", EditionID: created.ID, ListIDs: []int64{l.ID}})
		if err != nil {
			t.Fatal(err)
		}
		for _, act := range []func(context.Context, int64) (*client.Campaign, error){c.StartCampaign, c.PauseCampaign, c.CancelCampaign} {
			if _, err := act(ctx, camp.ID); err != nil {
				t.Fatal(err)
			}
		}
		var apiErr *client.Error
		if _, err := c.PauseCampaign(ctx, camp.ID); !errors.As(err, &apiErr) || apiErr.Status != 409 {
			t.Fatalf("pausing a cancelled campaign = %v", err)
		}
		if _, err := c.SetAuditRetention(ctx, 60); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SetAuditRetention(ctx, -1); !errors.As(err, &apiErr) || apiErr.Status != 422 || !strings.Contains(apiErr.Message, "0 (keep for ever)") {
			t.Fatalf("a negative retention = %v", err)
		}
		tok, err := c.CreateToken(ctx, client.TokenInput{Name: "newsdesk", Role: "editor", User: "editor@example.com"})
		if err != nil || tok.Token == "" || tok.User != "editor@example.com" {
			t.Fatalf("CreateToken = %+v, %v", tok, err)
		}
		if _, err := c.CreateToken(ctx, client.TokenInput{Name: "too high", Role: "owner", User: "editor@example.com"}); !errors.As(err, &apiErr) ||
			apiErr.Status != 422 || apiErr.Field != "role" {
			t.Fatalf("a token above its user's role = %v", err)
		}
		if _, err := e.client(auth.Editor).CreateToken(ctx, client.TokenInput{Name: "x", Role: "viewer", User: "owner@example.com"}); !errors.As(err, &apiErr) || apiErr.Status != 403 {
			t.Fatalf("an editor making a token for someone else = %v", err)
		}
		if err := c.EraseSubscriber(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		users, err := c.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var viewer int64
		for _, u := range users {
			if u.Role == "viewer" {
				viewer = u.ID
			}
		}
		if u, err := c.UpdateUser(ctx, viewer, client.UserInput{Role: "author"}); err != nil || u.Role != "author" {
			t.Fatalf("UpdateUser = %+v, %v", u, err)
		}

		page, err := c.Audit(ctx, client.AuditQuery{User: "test", Since: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, en := range page.Data {
			got = append(got, en.Action)
			if en.Actor != "test" || en.Via != "api" || en.IP != "127.0.0.1" || en.At.IsZero() || time.Since(en.At) > time.Hour {
				t.Errorf("%s entry = %+v", en.Action, en)
			}
		}
		want := "user.role subscriber.erase token.create settings.update campaign.cancel campaign.pause campaign.start " +
			"campaign.create edition.create subscription.set subscriber.create import.batch list.create"
		if strings.Join(got, " ") != want {
			t.Fatalf("API audit entries =\n%q\nwant\n%q", got, want)
		}
		if ch := page.Data[5].Changes["status"]; ch.Before != "sending" || ch.After != "paused" {
			t.Errorf("pause changes = %+v", page.Data[5].Changes)
		}
		if ch := page.Data[0].Changes["role"]; ch.Before != "viewer" || ch.After != "author" {
			t.Errorf("role changes = %+v", page.Data[0].Changes)
		}
		raw, _ := json.Marshal(page)
		for _, secret := range []string{tok.Token, "reader@example.net", e.tokens[auth.Owner]} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("GET /api/audit shows %q", secret)
			}
		}
		for _, field := range []string{`"at":`, `"actor":`, `"via":`, `"ip":`, `"action":`, `"object":`, `"changes":`} {
			if !strings.Contains(string(raw), field) {
				t.Errorf("entries lack %s", field)
			}
		}

		// Filters and paging.
		if p, err := c.Audit(ctx, client.AuditQuery{Action: "campaign."}); err != nil || len(p.Data) != 4 {
			t.Errorf("action=campaign. = %d entries, %v", len(p.Data), err)
		}
		if p, err := c.Audit(ctx, client.AuditQuery{Action: "token.create", User: "owner@example.com"}); err != nil || len(p.Data) != 1 || p.Data[0].Object == "" {
			t.Errorf("token.create by the owner's tokens = %+v, %v", p, err)
		}
		first, err := c.Audit(ctx, client.AuditQuery{Limit: 5})
		if err != nil || len(first.Data) != 5 || first.NextBefore == 0 {
			t.Fatalf("first page = %+v, %v", first, err)
		}
		next, err := c.Audit(ctx, client.AuditQuery{Limit: 5, Before: first.NextBefore})
		if err != nil || len(next.Data) != 5 || next.Data[0].ID >= first.Data[4].ID {
			t.Fatalf("next page = %+v, %v", next, err)
		}
		if _, err := c.Audit(ctx, client.AuditQuery{Since: "last week"}); !errors.As(err, &apiErr) || apiErr.Status != 422 {
			t.Errorf("since=last week = %v", err)
		}
		if _, err := e.client(auth.Editor).Audit(ctx, client.AuditQuery{}); !errors.As(err, &apiErr) || apiErr.Status != 403 {
			t.Errorf("an editor's token reads the audit log: %v", err)
		}
		if r, err := c.AuditRetention(ctx); err != nil || r.Days != 60 {
			t.Errorf("AuditRetention = %+v, %v", r, err)
		}
	})
}
