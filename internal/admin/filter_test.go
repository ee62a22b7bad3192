package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
)

// TestMalformedAttributeFilterIsRefused: an attribute filter that is not
// name=value is an error on the subscribers page and in a list's export,
// never a match for everyone.
func TestMalformedAttributeFilterIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	ann := &model.Subscriber{Email: "ann@example.com", Name: "Ann", Attributes: map[string]any{"city": "Leeds"}}
	if _, err := e.st.UpsertSubscriber(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetSubscription(ctx, ann.ID, e.list.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
		t.Fatal(err)
	}
	c := e.login(auth.Editor)
	get := func(path string) (int, string) {
		t.Helper()
		res := c.do(mustGet(t, e.srv.URL+path))
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	export := "/admin/lists/" + e.ids["list"] + "/export.csv"
	for bad, why := range map[string]string{
		"city":        "name=value",
		"=Leeds":      "name before",
		"city=":       "value after",
		"ci\"ty=Bath": "quotes",
		"city Leeds":  "name=value",
	} {
		q := "?attr=" + url.QueryEscape(bad)
		code, body := get("/admin/subscribers" + q)
		if code != http.StatusBadRequest || !strings.Contains(body, why) || strings.Contains(body, "reader@example.org") {
			t.Errorf("subscribers with attr=%q: %d, want 400 saying %q and listing nobody\n%.3000s", bad, code, why, body)
		}
		if !strings.Contains(body, `value="`+strings.ReplaceAll(bad, `"`, "&#34;")+`"`) {
			t.Errorf("subscribers with attr=%q: the filter is not kept in the form to correct", bad)
		}
		if code, body := get(export + q); code != http.StatusBadRequest || !strings.Contains(body, why) {
			t.Errorf("export with attr=%q: %d, want 400 saying %q\n%.2000s", bad, code, why, body)
		}
	}
	code, body := get("/admin/subscribers?attr=" + url.QueryEscape("city=Leeds"))
	if code != http.StatusOK || !strings.Contains(body, "ann@example.com") || strings.Contains(body, "reader@example.org") {
		t.Errorf("subscribers in Leeds: %d\n%.3000s", code, body)
	}
	if code, body := get("/admin/subscribers?attr="); code != http.StatusOK || !strings.Contains(body, "reader@example.org") {
		t.Errorf("a blank filter: %d, want everyone", code)
	}
	if code, body := get(export + "?attr=" + url.QueryEscape(" city = Leeds ")); code != http.StatusOK ||
		!strings.Contains(body, "ann@example.com") || strings.Contains(body, "reader@example.org") {
		t.Errorf("export of Leeds: %d\n%s", code, body)
	}
}
