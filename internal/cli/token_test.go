package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
)

func TestTokenCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	pw := strings.NewReader("a long enough password\n")
	if _, errs, code := herald(t, nil, pw, data, "user", "create", "editor@example.com", "--role", "editor", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %d %q", code, errs)
	}

	out, errs, code := herald(t, nil, nil, data, "token", "create", "editor@Example.com", "--role", "author", "--name", "nightly import")
	plain := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(plain, auth.TokenPrefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create: %d, stdout %q (want the token alone), stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, `"nightly import"`) || !strings.Contains(errs, "author") || !strings.Contains(errs, "editor@example.com") ||
		!strings.Contains(errs, "only this once") {
		t.Errorf("token create says %q", errs)
	}
	// The printed token is a working API token with the asked role.
	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := auth.New(st, auth.Options{BcryptCost: 4}).Token(context.Background(), plain)
	if err != nil || id.User.Email != "editor@example.com" || id.Role != auth.Author {
		t.Fatalf("the printed token: %+v, %v", id, err)
	}
	toks, err := st.APITokens(context.Background(), id.User.ID)
	if err != nil || len(toks) != 1 || toks[0].Name != "nightly import" || strings.Contains(toks[0].Hash, plain) {
		t.Fatalf("stored tokens: %+v, %v", toks, err)
	}

	// A sender token: an application's, that may send messages only.
	out, errs, code = herald(t, nil, nil, data, "token", "create", "editor@example.com", "--role", "sender", "--name", "shop")
	if code != 0 {
		t.Fatalf("sender token: %d %q", code, errs)
	}
	if id, err := auth.New(st, auth.Options{BcryptCost: 4}).Token(context.Background(), strings.TrimSpace(out)); err != nil || id.Role != auth.Sender {
		t.Fatalf("the sender token: %+v, %v", id, err)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nobody@example.com", "--role", "viewer"}, 1, "no user has the address nobody@example.com"},
		{[]string{"editor@example.com", "--role", "admin"}, 2, `unknown role "admin" (want owner, editor, author, viewer or sender)`},
		{[]string{"editor@example.com"}, 2, "--role is required"},
		{[]string{"editor@example.com", "--role", "owner"}, 1, "editor@example.com is an editor: their tokens can have the editor, author, viewer or sender role"},
		{[]string{"--role", "viewer"}, 2, "token create"},
	} {
		out, errs, code := herald(t, nil, nil, append([]string{data, "token", "create"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) || strings.Contains(out, auth.TokenPrefix) {
			t.Errorf("token create %v: %d %q %q; want %d and %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
}
