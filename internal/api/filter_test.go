package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestAudienceConsent drives the API the way an integration would: an
// import suppresses the people the file marks as gone and counts them, a
// malformed attribute filter is a 400 (never everyone), and an erased
// address cannot be created again.
func TestAudienceConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	ctx := context.Background()
	c := e.client(auth.Editor)
	l, err := c.CreateList(ctx, client.ListInput{Slug: "morning", Name: "Morning"})
	if err != nil {
		t.Fatal(err)
	}
	csv := "email,name,city,status\nann@example.com,Ann,Leeds,confirmed\nbo@example.com,Bo,Bath,confirmed\ncy@example.com,Cy,Leeds,unsubscribed\n"
	res, err := c.Import(ctx, l.ID, strings.NewReader(csv), client.ImportOptions{})
	if err != nil || res.Imported != 2 || res.Suppressed != 1 || res.Rejected != 0 {
		t.Fatalf("import = %+v, %v; want 2 imported, 1 suppressed", res, err)
	}

	for bad, why := range map[string]string{"city": "name=value", "=Leeds": "no attribute name", "city=": "no value", `c"ity=Leeds`: "quotes"} {
		_, err := c.Subscribers(ctx, client.SubscriberQuery{Attribute: bad})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Code != "bad_filter" || !strings.Contains(apiErr.Message, why) {
			t.Errorf("subscribers with attr=%q: %v, want 400 bad_filter saying %q", bad, err, why)
		}
		err = c.ExportList(ctx, l.ID, client.ExportQuery{Attribute: bad}, io.Discard)
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Code != "bad_filter" || !strings.Contains(apiErr.Message, why) {
			t.Errorf("export with attr=%q: %v, want 400 bad_filter saying %q", bad, err, why)
		}
	}
	page, err := c.Subscribers(ctx, client.SubscriberQuery{Attribute: "city=Leeds"})
	if err != nil || page.Total != 1 || page.Data[0].Email != "ann@example.com" {
		t.Fatalf("subscribers in Leeds = %+v, %v", page, err)
	}
	var leeds strings.Builder
	if err := c.ExportList(ctx, l.ID, client.ExportQuery{Status: "confirmed", Attribute: "city=Leeds"}, &leeds); err != nil ||
		strings.Count(leeds.String(), "\n") != 2 || !strings.Contains(leeds.String(), "\nann@example.com,") {
		t.Fatalf("export of Leeds = %v\n%s", err, leeds.String())
	}

	if err := c.EraseSubscriber(ctx, page.Data[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSubscriber(ctx, client.SubscriberInput{Email: "ann@example.com", Name: "Ann again"})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || apiErr.Code != "erased" {
		t.Fatalf("create an erased address: %v, want 409 erased", err)
	}
	br, err := c.Bulk(ctx, client.BulkRequest{Action: "subscribe", ListID: l.ID, Emails: []string{"ann@example.com", "dee@example.com"}})
	if err != nil || br.Done != 1 || len(br.Failed) != 1 || !strings.Contains(br.Failed[0].Error, "erased") {
		t.Fatalf("bulk subscribe with an erased address = %+v, %v", br, err)
	}
	// Lifted (the person asked to come back), the address may be added.
	if err := c.Unsuppress(ctx, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubscriber(ctx, client.SubscriberInput{Email: "ann@example.com"}); err != nil {
		t.Fatalf("create once lifted: %v", err)
	}
}
