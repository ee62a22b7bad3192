package web_test

import (
	"strings"
	"testing"
)

// The HTML to paste into another site is for the publication's editors
// (the admin's list page shows it), not for readers joining a list.
func TestSubscribePageShowsNoEmbedSnippet(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	resp, body := st.get(st.client(), "/subscribe/daily")
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/subscribe/daily"`) {
		t.Fatalf("subscribe page = %d\n%s", resp.StatusCode, body)
	}
	for _, s := range []string{"/subscribe/daily/embed", "Add this form to your own site", `class="card embed"`} {
		if strings.Contains(body, s) {
			t.Errorf("the public subscribe page shows the embed snippet (%q)", s)
		}
	}
}
