package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

// wantField fails unless err is the API's 422 "invalid" naming field, with
// a message that starts with want.
func wantField(t *testing.T, what string, err error, field, want string) {
	t.Helper()
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Code != "invalid" || ae.Field != field ||
		!strings.HasPrefix(ae.Message, want) {
		t.Errorf("%s: %v (field %q), want 422 invalid on %q: %q", what, err, fieldOf(err), field, want)
	}
}

// listAndEdition stores the list "evening" (through the API) and the
// sample edition, ready to send.
func listAndEdition(t *testing.T, e *env, st *store.Store) (*client.List, *model.Edition) {
	t.Helper()
	l, err := e.client(auth.Editor).CreateList(context.Background(), client.ListInput{Slug: "evening", Name: "Evening Briefing"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEdition(context.Background(), ed, ""); err != nil {
		t.Fatal(err)
	}
	return l, ed
}

func fieldOf(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) {
		return ae.Field
	}
	return ""
}

// TestCampaignRulesInTheAPI: POST /api/campaigns is checked by the rules
// the admin and the CLI use (delivery.CreateCampaign): a Reply-To that is
// not an address and a name on two lines are refused now (they were
// stored, and the campaign failed when it started), each naming the
// field, and nothing is stored.
func TestCampaignRulesInTheAPI(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	e := newEnv(t, st, false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	l, ready := listAndEdition(t, e, st)
	unready := &model.Edition{Slug: "unready", Date: "2026-03-02", Sections: []model.Section{{Kind: model.KindLead, Lead: &model.Lead{}}}}
	if err := st.CreateEdition(ctx, unready, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what        string
		edit        func(in *client.CampaignInput)
		field, want string
	}{
		{"a Reply-To that is not an address", func(in *client.CampaignInput) { in.ReplyTo = "letters at example.com" },
			"reply_to", "The reply-to address is not an email address"},
		{"a Reply-To with a display name", func(in *client.CampaignInput) { in.ReplyTo = "Letters <letters@example.com>" },
			"reply_to", "The reply-to address is not an email address"},
		{"a name on two lines", func(in *client.CampaignInput) { in.Name = "Evening\r\nBcc: all@example.com" },
			"name", "The campaign name must fit on one line."},
		{"a From that is not an address", func(in *client.CampaignInput) { in.From = "The Courier" },
			"from", "The From address should look like"},
		{"an edition that is not ready", func(in *client.CampaignInput) { in.EditionID = unready.ID },
			"edition_id", "The edition is not ready to send: "},
		{"no edition", func(in *client.CampaignInput) { in.EditionID = 999 }, "edition_id", "Choose an edition."},
		{"a list that does not exist", func(in *client.CampaignInput) { in.ListIDs = []int64{999} }, "list_ids", "List 999 does not exist."},
	} {
		in := client.CampaignInput{Name: "Rules", EditionID: ready.ID, ListIDs: []int64{l.ID}, ReplyTo: "letters@example.com"}
		tc.edit(&in)
		_, err := c.CreateCampaign(ctx, in)
		wantField(t, tc.what, err, tc.field, tc.want)
	}
	if n, err := st.CountCampaigns(ctx); err != nil || n != 0 {
		t.Fatalf("%d campaigns (%v) after refusals", n, err)
	}
	good, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Rules", EditionID: ready.ID, ListIDs: []int64{l.ID}, ReplyTo: "letters@example.com"})
	if err != nil || good.ReplyTo != "letters@example.com" {
		t.Fatalf("a good campaign: %+v, %v", good, err)
	}
}

// TestListRulesInTheAPI: the list slug rule is the store's, so the API
// refuses what the admin and the CLI refuse, naming the field.
func TestListRulesInTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	_, err := c.CreateList(ctx, client.ListInput{Slug: "Bad Slug", Name: "Bad"})
	wantField(t, "bad slug", err, "slug", "A list's slug is lower-case letters, digits and dashes")
	_, err = c.CreateList(ctx, client.ListInput{Slug: "-evening", Name: "Bad"})
	wantField(t, "leading dash", err, "slug", "A list's slug is")
	_, err = c.CreateList(ctx, client.ListInput{Slug: "evening", Name: " "})
	wantField(t, "no name", err, "name", "Give the list a name.")
	_, err = c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening", OptIn: "triple"})
	wantField(t, "odd opt-in", err, "opt_in", "Opt-in is single or double")
	l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateList(ctx, l.ID, client.ListInput{Name: "Two\nlines"})
	wantField(t, "two-line name", err, "name", "The list name must fit on one line.")
	_, err = c.CreateSubscriber(ctx, client.SubscriberInput{Email: "reader@example.org", Attributes: map[string]any{"tz": "Mars/Olympus"}})
	wantField(t, "bad tz", err, "attributes", `The attribute tz: "Mars/Olympus" is not a time zone name`)
}

// TestStatusChangesInTheAPI: the campaign actions go through
// delivery.ChangeStatus: what the status does not allow is a conflict,
// scheduling and clearing work, and start needs a sending server.
func TestStatusChangesInTheAPI(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	e := newEnv(t, st, false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	l, ed := listAndEdition(t, e, st)
	camp, err := c.CreateCampaign(ctx, client.CampaignInput{Name: "Rules", EditionID: ed.ID, ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PauseCampaign(ctx, camp.ID); apiCode(err) != "bad_transition" {
		t.Fatalf("pausing a draft: %v", err)
	}
	if _, err := c.StartCampaign(ctx, camp.ID); apiCode(err) != "not_sending" {
		t.Fatalf("start with no engine: %v", err)
	}
	at := time.Date(2030, 1, 2, 8, 0, 0, 0, time.UTC)
	got, err := c.ScheduleCampaign(ctx, camp.ID, client.Schedule{SendAt: &at})
	if err != nil || got.Status != "scheduled" || got.SendAt == nil || !got.SendAt.Equal(at) {
		t.Fatalf("schedule: %+v, %v", got, err)
	}
	if got, err = c.ScheduleCampaign(ctx, camp.ID, client.Schedule{}); err != nil || got.Status != "draft" {
		t.Fatalf("clear the schedule: %+v, %v", got, err)
	}
	if got, err = c.CancelCampaign(ctx, camp.ID); err != nil || got.Status != "cancelled" {
		t.Fatalf("cancel: %+v, %v", got, err)
	}
	if _, err := c.ResumeCampaign(ctx, camp.ID); apiCode(err) != "bad_transition" {
		t.Fatalf("resuming a cancelled campaign: %v", err)
	}
}
