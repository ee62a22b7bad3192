package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestUsersSessionsAndTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := &store.User{Email: "ada@example.com", Name: "Ada", Role: "owner", PasswordHash: "h1"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &store.User{Email: "ada@example.com", Role: "viewer", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate user: %v, want ErrConflict", err)
		}
		if n, _ := s.CountUsers(ctx, "owner"); n != 1 {
			t.Fatalf("owners = %d", n)
		}
		u.Role, u.PasswordHash = "editor", "h2"
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByEmail(ctx, "ada@example.com")
		if err != nil || got.Role != "editor" || got.PasswordHash != "h2" || got.Name != "Ada" {
			t.Fatalf("UserByEmail = %+v, %v", got, err)
		}
		if err := s.TouchUserLogin(ctx, u.ID); err != nil {
			t.Fatal(err)
		}

		live := &store.Session{IDHash: "live", UserID: u.ID, CSRF: "c1", ExpiresAt: time.Now().Add(time.Hour)}
		old := &store.Session{IDHash: "old", UserID: u.ID, CSRF: "c2", ExpiresAt: time.Now().Add(-time.Minute)}
		for _, ss := range []*store.Session{live, old} {
			if err := s.CreateSession(ctx, ss); err != nil {
				t.Fatal(err)
			}
		}
		ss, su, err := s.SessionUser(ctx, "live")
		if err != nil || ss.CSRF != "c1" || su.Email != "ada@example.com" || su.LastLoginAt.IsZero() {
			t.Fatalf("SessionUser = %+v %+v %v", ss, su, err)
		}
		if _, _, err := s.SessionUser(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if n, err := s.DeleteExpiredSessions(ctx, 0); err != nil || n != 1 {
			t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
		}

		tok := &store.APIToken{UserID: u.ID, Name: "ci", Role: "viewer", Prefix: "hrld_abc", Hash: "th"}
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		gt, gu, err := s.APITokenUser(ctx, "th")
		if err != nil || gt.Role != "viewer" || gu.ID != u.ID || gt.LastUsedAt.IsZero() {
			t.Fatalf("APITokenUser = %+v %+v %v", gt, gu, err)
		}
		if list, _ := s.APITokens(ctx, 0); len(list) != 1 || list[0].Name != "ci" {
			t.Fatalf("APITokens = %+v", list)
		}

		// Deleting the user ends their sessions and tokens.
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, "live"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session after user deleted: %v", err)
		}
		if _, _, err := s.APITokenUser(ctx, "th"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token after user deleted: %v", err)
		}
	})
}

func TestMedia(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := &store.Media{Name: "ab.png", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0}}
		if err := s.SaveMedia(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveMedia(ctx, m); err != nil {
			t.Fatalf("saving the same file again: %v", err)
		}
		got, err := s.MediaByName(ctx, "ab.png")
		if err != nil || string(got.Data) != string(m.Data) || got.ContentType != "image/png" {
			t.Fatalf("MediaByName = %+v, %v", got, err)
		}
		if _, err := s.MediaByName(ctx, "nope.png"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing media: %v", err)
		}
	})
}

func TestSearchSubscribersAndGrowth(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		daily := &model.List{Slug: "daily", Name: "Daily"}
		weekly := &model.List{Slug: "weekly", Name: "Weekly"}
		for _, l := range []*model.List{daily, weekly} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		add := func(email, name string, attrs map[string]any, list *model.List, st model.SubscriptionStatus) *model.Subscriber {
			sub := &model.Subscriber{Email: email, Name: name, Attributes: attrs}
			if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSubscription(ctx, sub.ID, list.ID, st, model.SourceAdmin); err != nil {
				t.Fatal(err)
			}
			return sub
		}
		add("ann@example.com", "Ann Lee", map[string]any{"city": "Leeds"}, daily, model.SubConfirmed)
		bob := add("bob@example.org", "Bob", map[string]any{"city": "York", "plan": 2}, daily, model.SubUnsubscribed)
		add("cat@example.com", "Cat", nil, weekly, model.SubConfirmed)
		if err := s.SetSubscriberStatus(ctx, bob.ID, model.SubscriberBlocklisted); err != nil {
			t.Fatal(err)
		}
		emails := func(q store.SubscriberQuery) []string {
			t.Helper()
			subs, total, err := s.SearchSubscribers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range subs {
				out = append(out, x.Email)
			}
			if int(total) < len(out) {
				t.Fatalf("total %d < page %d", total, len(out))
			}
			return out
		}
		for _, c := range []struct {
			name string
			q    store.SubscriberQuery
			want string
		}{
			{"all", store.SubscriberQuery{}, "cat@example.com bob@example.org ann@example.com"},
			{"search email", store.SubscriberQuery{Search: "EXAMPLE.COM"}, "cat@example.com ann@example.com"},
			{"search name", store.SubscriberQuery{Search: "lee"}, "ann@example.com"},
			{"list", store.SubscriberQuery{ListID: daily.ID}, "bob@example.org ann@example.com"},
			{"list status", store.SubscriberQuery{ListID: daily.ID, SubStatus: model.SubUnsubscribed}, "bob@example.org"},
			{"blocklisted", store.SubscriberQuery{Status: model.SubscriberBlocklisted}, "bob@example.org"},
			{"attribute", store.SubscriberQuery{Attr: store.AttrFilter{Key: "city", Value: "York"}}, "bob@example.org"},
			{"numeric attribute", store.SubscriberQuery{Attr: store.AttrFilter{Key: "plan", Value: "2"}}, "bob@example.org"},
			{"page", store.SubscriberQuery{Limit: 1, Offset: 1}, "bob@example.org"},
		} {
			got := emails(c.q)
			if s := join(got); s != c.want {
				t.Errorf("%s: got %q, want %q", c.name, s, c.want)
			}
		}
		// A filter that would match everyone, or cannot be asked, is refused.
		for _, f := range []store.AttrFilter{{Key: `a"b`, Value: "x"}, {Key: `a\b`, Value: "x"}, {Value: "York"}, {Key: "city"}} {
			if _, _, err := s.SearchSubscribers(ctx, store.SubscriberQuery{Attr: f}); !errors.Is(err, store.ErrBadFilter) {
				t.Errorf("search with %+v: %v, want ErrBadFilter", f, err)
			}
			err := s.ExportSubscribers(ctx, store.ExportFilter{ListID: daily.ID, Attr: f}, func(store.ExportRow) error {
				t.Fatalf("export with %+v wrote a row", f)
				return nil
			})
			if !errors.Is(err, store.ErrBadFilter) {
				t.Errorf("export with %+v: %v, want ErrBadFilter", f, err)
			}
		}
		var york []string
		err := s.ExportSubscribers(ctx, store.ExportFilter{ListID: daily.ID, Attr: store.AttrFilter{Key: "city", Value: "York"}},
			func(r store.ExportRow) error { york = append(york, r.Email); return nil })
		if err != nil || join(york) != "bob@example.org" {
			t.Errorf("export of daily in York = %v, %v", york, err)
		}

		g, err := s.SubscriberGrowth(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != 7 || g[6].Total != 3 || g[6].New != 3 || g[0].Total != 0 {
			t.Fatalf("growth = %+v", g)
		}
	})
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// TestSettingsTogether: settings written together are read together, and
// one not set is absent rather than empty.
func TestSettingsTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.PutSettings(ctx, map[string]string{"dkim.key": "k1", "dkim.selector": "s1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSettings(ctx, map[string]string{"dkim.key": "k2", "dkim.selector": "s2"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Settings(ctx, "dkim.key", "dkim.selector", "dkim.domain")
		if err != nil || len(got) != 2 || got["dkim.key"] != "k2" || got["dkim.selector"] != "s2" {
			t.Fatalf("settings = %v, %v", got, err)
		}
		if v, err := s.Setting(ctx, "dkim.key"); err != nil || v != "k2" {
			t.Fatalf("setting = %q, %v", v, err)
		}
	})
}

func TestParseAttrFilter(t *testing.T) {
	for in, want := range map[string]store.AttrFilter{
		"":              {},
		"  ":            {},
		"city=Leeds":    {Key: "city", Value: "Leeds"},
		" city = Leeds": {Key: "city", Value: "Leeds"},
		"url=a=b":       {Key: "url", Value: "a=b"},
	} {
		if got, err := store.ParseAttrFilter(in); err != nil || got != want {
			t.Errorf("ParseAttrFilter(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"city":        "is not name=value",
		"=Leeds":      "no attribute name",
		"city=":       "no value",
		" = ":         "no attribute name",
		`ci"ty=Leeds`: "quotes",
	} {
		_, err := store.ParseAttrFilter(in)
		if !errors.Is(err, store.ErrBadFilter) || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseAttrFilter(%q) = %v, want ErrBadFilter saying %q", in, err, why)
		}
	}
}
