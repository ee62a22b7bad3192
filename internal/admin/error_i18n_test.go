package admin_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
)

// The error page speaks the user's language: a German editor who opens an
// owner's page, posts a form without its token or asks for something that
// is not there reads why in German.
func TestErrorPageInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.st.SetUserLanguage(context.Background(), e.users[auth.Editor].ID, "de"); err != nil {
		t.Fatal(err)
	}
	editor := e.login(auth.Editor)
	for _, tc := range []struct{ what, page, want string }{
		{"an owner's page", editor.get("/admin/users"), "Ihre Rolle (Redakteur) erlaubt das nicht."},
		{"a missing campaign", editor.get("/admin/campaigns/999999"), "Hier ist nichts. Vielleicht wurde es gelöscht."},
		{"a bad id", editor.get("/admin/campaigns/x"), "Hier ist nichts."},
		{"a form without its token", func() string {
			_, p := editor.postPage("/admin/lists", url.Values{"name": {"X"}, "slug": {"x"}})
			return p
		}(), "Dieses Formular ist abgelaufen oder stammt nicht von Herald."},
	} {
		if page := html.UnescapeString(tc.page); !strings.Contains(page, tc.want) {
			t.Errorf("%s: the page lacks %q", tc.what, tc.want)
		}
	}
}
