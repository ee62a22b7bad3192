package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
)

// tokenCommands manage API tokens from the command line, for scripts and
// deployments that set Herald up without a browser.
func tokenCommands() []command {
	return []command{
		{"token create", "EMAIL --role owner|editor|author|viewer|sender [--name NAME]", "create an API token for a user (printed once)", runTokenCreate},
	}
}

// runTokenCreate prints the new token alone on standard output, so a
// script can capture it, and what it made on standard error.
func runTokenCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("token create", "EMAIL --role owner|editor|author|viewer|sender [--name NAME]")
	roleName := fs.String("role", "", "owner, editor, author or viewer, at most the user's own role; or sender, to send messages only (required)")
	name := fs.String("name", "command line", "a name to tell the token apart in the admin")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *roleName == "" {
		return usageErrorf("--role is required (owner, editor, author, viewer or sender)")
	}
	role, err := auth.ParseTokenRole(*roleName)
	if err != nil {
		return usageErrorf("--role: %v", err)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		u, err := userArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if ur, err := auth.ParseRole(u.Role); err == nil && !ur.AtLeast(role) {
			return fmt.Errorf("%s is %s: their tokens can have the %s role", u.Email, withArticle(string(ur)), rolesUpTo(ur))
		}
		plain, t, err := auth.CreateToken(ctx, s, u, *name, role)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, plain)
		fmt.Fprintf(e.stderr, "created the API token %q (%s) for %s; it is shown only this once\n", t.Name, t.Role, u.Email)
		return nil
	})
}

// rolesUpTo lists the roles a user of role r may give a token: "editor,
// author, viewer or sender".
func rolesUpTo(r auth.Role) string {
	var names []string
	for _, o := range auth.TokenRoles() {
		if r.AtLeast(o) {
			names = append(names, string(o))
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func withArticle(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
