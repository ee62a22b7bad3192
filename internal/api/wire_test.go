package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store/storetest"
)

// wireEdition is a model edition as the client sends it.
func wireEdition(t *testing.T, e *model.Edition) *client.Edition {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var out client.Edition
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// jsonShape lists a type's JSON fields, nested ones by path, each with its
// tag and kind: two types with the same shape encode every value alike.
func jsonShape(t reflect.Type, prefix string, out map[string]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		prefix += "[]"
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		out[prefix] = t.Kind().String()
		return
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out[prefix+"."+name+"("+opts+")"] = f.Type.Kind().String()
		jsonShape(f.Type, prefix+"."+name, out)
	}
}

// TestWireTypesKeepTheJSON: the client's own wire types (which an outside
// program can import, unlike internal/model) have the JSON shape of the
// model types the server holds, field by field, and the API's answers
// decode into them and encode back byte for byte.
func TestWireTypesKeepTheJSON(t *testing.T) {
	t.Parallel()
	for _, pair := range []struct{ model, wire any }{
		{model.Edition{}, client.Edition{}},
		{model.EditionRevision{}, client.EditionRevision{}},
		{model.Feed{}, client.Source{}},
		{model.FeedItem{}, client.Item{}},
		{model.SeriesRun{}, client.SeriesRun{}},
	} {
		m, w := map[string]string{}, map[string]string{}
		jsonShape(reflect.TypeOf(pair.model), "", m)
		jsonShape(reflect.TypeOf(pair.wire), "", w)
		if !reflect.DeepEqual(m, w) {
			t.Errorf("%T and %T differ on the wire:\n%v\n%v", pair.model, pair.wire, m, w)
		}
	}
	for k, want := range map[any]string{
		client.EditionDraft: string(model.EditionDraft), client.EditionPublished: string(model.EditionPublished),
		client.KindLead: string(model.KindLead), client.KindCards: string(model.KindCards), client.KindBriefs: string(model.KindBriefs),
		client.KindPicks: string(model.KindPicks), client.KindText: string(model.KindText),
		client.SlotMorning: string(model.SlotMorning), client.SlotMidday: string(model.SlotMidday), client.SlotEvening: string(model.SlotEvening),
		client.SourceNew: string(model.SourceNew), client.SourceOK: string(model.SourceOK), client.SourceError: string(model.SourceError),
		client.RunDraft: string(model.RunDraft), client.RunReady: string(model.RunReady), client.RunSent: string(model.RunSent),
		client.RunEmpty: string(model.RunEmpty), client.CreditPrefixNone: model.CreditPrefixNone,
	} {
		if fmt.Sprint(k) != want {
			t.Errorf("the client's constant %q is %q on the server", k, want)
		}
	}

	st := storetest.SQLite(t)
	e := newEnv(t, st, false)
	ctx := context.Background()
	full := &model.Edition{Slug: "every-field", Date: "2026-03-02", Slot: model.SlotEvening, Subject: "Every field", Preheader: "All of them",
		Hero: &model.Image{URL: "https://img.example/h.jpg", Alt: "A pier", Credit: "Ada Vale", CreditPrefix: "via", Width: 480}, Public: true,
		Sections: []model.Section{
			{Kind: model.KindLead, Title: "Tonight", Lead: &model.Lead{Headline: "The pier", Body: "It reopens.", Byline: model.Byline{Name: "Ada", Role: "Editor"}}},
			{Kind: model.KindCards, NoTitle: true, Cards: []model.Card{{Author: "Ben", Headline: "Gulls", URL: "https://quay.example/gulls", CTA: "Read"}}},
			{Kind: model.KindBriefs, Briefs: []model.Brief{{Headline: "Rain", Body: "Lots."}}},
			{Kind: model.KindPicks, Picks: []model.Pick{{Title: "Fog", Verb: "reports", Author: "Cy", Publication: "Coastline", URL: "https://other.example/fog"}}},
			{Kind: model.KindText, Text: &model.Text{Body: "Reply to reach us."}},
		}}
	sent := wireEdition(t, full)
	created, err := e.client(auth.Editor).CreateEdition(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetEdition(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	full.ID, full.Status, full.Revision, full.CreatedAt, full.UpdatedAt = stored.ID, stored.Status, stored.Revision, stored.CreatedAt, stored.UpdatedAt
	if !reflect.DeepEqual(stored, full) {
		t.Errorf("sent through the client, the edition is stored as\n%+v\nwant\n%+v", stored, full)
	}
	created.Preheader = "Changed"
	if _, err := e.client(auth.Editor).UpdateEdition(ctx, created.ID, created); err != nil {
		t.Fatal(err)
	}
	for path, into := range map[string]any{
		fmt.Sprintf("/api/editions/%d", created.ID): &client.Edition{},
		"/api/editions": &client.Page[client.Edition]{},
		fmt.Sprintf("/api/editions/%d/revisions", created.ID): &[]client.EditionRevision{},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Editor])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, raw)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		back, err := json.Marshal(into)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(raw), back) {
			t.Errorf("GET %s through the client's types:\n%s\nwant\n%s", path, back, raw)
		}
	}
}
