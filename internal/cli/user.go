package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store"
)

// userCommands manage the people who use the admin.
func userCommands() []command {
	return []command{
		{"user create", "EMAIL --role owner|editor|author|viewer [--name NAME] [--password-stdin]", "add an admin user (prints a generated password once)", runUserCreate},
		{"user passwd", "EMAIL [--password-stdin]", "set a user's password and end their sessions", runUserPasswd},
		{"user role", "EMAIL ROLE", "change a user's role (never the last owner's) and end their sessions", runUserRole},
		{"user rm", "EMAIL", "remove an admin user (never the last owner)", runUserRm},
		{"user ls", "", "list admin users", runUserLs},
		{"user 2fa-reset", "EMAIL", "remove a user's authenticator app, recovery codes and passkeys", runUser2FAReset},
		{"signin", "[--password on|off] [--require-2fa on|off] [--session-lifetime D] [--idle-timeout D]",
			"show or change the sign-in policy (the way back in when single sign-on fails)", runSignin},
	}
}

// bcryptCost is the work factor for passwords set from the command line.
const bcryptCost = 12

// typedPassword reads one line from standard input (--password-stdin):
// the line break ends it; anything else, spaces included, is the password,
// for validator.Password to judge.
func (e *env) typedPassword() (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("--password-stdin: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUserCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user create", "EMAIL --role owner|editor|author|viewer [--name NAME] [--password-stdin]")
	roleName := fs.String("role", "", "owner, editor, author or viewer (required)")
	name := fs.String("name", "", "the user's name")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	role, err := auth.ParseRole(*roleName)
	if err != nil {
		return usageErrorf("--role: %v", err)
	}
	pw := ""
	if *stdin {
		if pw, err = e.typedPassword(); err != nil {
			return err
		}
	}
	return e.withStore(ctx, func(s *store.Store) error {
		var u *store.User
		if *stdin {
			u, err = auth.CreateUser(ctx, s, pos[0], *name, role, pw, bcryptCost)
		} else {
			u, pw, err = auth.CreateUserWithGeneratedPassword(ctx, s, pos[0], *name, role, bcryptCost)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created %s (%s)\n", u.Email, u.Role)
		if !*stdin {
			printOneTime(e, pw)
		}
		return nil
	})
}

func runUserPasswd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user passwd", "EMAIL [--password-stdin]")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	pw := ""
	if *stdin {
		if pw, err = e.typedPassword(); err != nil {
			return err
		}
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if *stdin {
			err = auth.SetPassword(ctx, s, pos[0], pw, bcryptCost)
		} else {
			pw, err = auth.SetGeneratedPassword(ctx, s, pos[0], bcryptCost)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; their sessions are ended\n", pos[0])
		if !*stdin {
			printOneTime(e, pw)
		}
		return nil
	})
}

// printOneTime shows a generated password once, alone on its line so that
// copying the line copies the password and nothing else.
func printOneTime(e *env, pw string) {
	fmt.Fprintf(e.stdout, "one-time password (shown once; the admin asks for a new one at the first sign-in):\n%s\n", pw)
}

func runUserRm(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user rm", "EMAIL")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if err := auth.RemoveUser(ctx, s, pos[0]); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no user has the address %s", pos[0])
			}
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", pos[0])
		return nil
	})
}

func runUserLs(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user ls", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		users, err := s.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSECOND FACTOR\tLAST SIGN-IN")
		for _, u := range users {
			last := "never"
			if !u.LastLoginAt.IsZero() {
				last = u.LastLoginAt.Format(time.RFC3339)
			}
			second := []string{}
			if u.TOTP {
				second = append(second, "app")
			}
			if u.Passkeys > 0 {
				second = append(second, fmt.Sprintf("%d passkeys", u.Passkeys))
			}
			if len(second) == 0 {
				second = append(second, "none")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, strings.Join(second, ", "), last)
		}
		return tw.Flush()
	})
}

func runUser2FAReset(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user 2fa-reset", "EMAIL")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		u, err := userArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		had, err := auth.ResetSecondFactors(ctx, s, u.ID)
		if err != nil {
			return err
		}
		if !had {
			fmt.Fprintf(e.stdout, "%s had no second factor\n", u.Email)
			return nil
		}
		fmt.Fprintf(e.stdout, "removed the authenticator app, recovery codes and passkeys of %s; they sign in with their password\n", u.Email)
		return nil
	})
}

func runSignin(ctx context.Context, e *env, args []string) error {
	fs := e.flags("signin", "[--password on|off] [--require-2fa on|off] [--session-lifetime 12h] [--idle-timeout 2h]")
	password := fs.String("password", "", "on: allow password and passkey sign-in; off: single sign-on only")
	require := fs.String("require-2fa", "", "on: owners and editors must use two-factor")
	lifetime := fs.Duration("session-lifetime", 0, "how long a sign-in lasts at most")
	idle := fs.Duration("idle-timeout", -1, "end sessions unused for this long (0: never)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	onOff := func(flag, v string, dst *bool) error {
		switch v {
		case "":
		case "on":
			*dst = true
		case "off":
			*dst = false
		default:
			return usageErrorf("--%s: want on or off, not %q", flag, v)
		}
		return nil
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		p, err := auth.LoadPolicy(ctx, s)
		if err != nil {
			return err
		}
		changed := *password != "" || *require != "" || *lifetime != 0 || *idle >= 0
		passwordOn := !p.PasswordSignInOff
		if err := onOff("password", *password, &passwordOn); err != nil {
			return err
		}
		p.PasswordSignInOff = !passwordOn
		if err := onOff("require-2fa", *require, &p.RequireTwoFactor); err != nil {
			return err
		}
		if *lifetime != 0 {
			p.SessionLifetime = *lifetime
		}
		if *idle >= 0 {
			p.IdleTimeout = *idle
		}
		if changed {
			if err := auth.SavePolicy(ctx, s, p, len(cfg.OIDC) > 0); err != nil {
				return err
			}
		}
		onoff := map[bool]string{true: "on", false: "off"}
		idleText := p.IdleTimeout.String()
		if p.IdleTimeout == 0 {
			idleText = "never"
		}
		fmt.Fprintf(e.stdout, "password sign-in: %s\ntwo-factor required for owners and editors: %s\nsession lifetime: %s\nidle timeout: %s\n",
			onoff[!p.PasswordSignInOff], onoff[p.RequireTwoFactor], p.SessionLifetime, idleText)
		return nil
	})
}
func runUserRole(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user role", "EMAIL ROLE")
	pos, err := parse(fs, args, 2)
	if err != nil {
		return err
	}
	role, err := auth.ParseRole(pos[1])
	if err != nil {
		return usageErrorf("ROLE: %v", err)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		u, err := userArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if err := auth.SetRole(ctx, s, u.ID, role); err != nil {
			if errors.Is(err, auth.ErrLastOwner) {
				return fmt.Errorf("%s is the last owner: make someone else an owner first", u.Email)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "%s is now %s; their sessions are ended\n", u.Email, withArticle(string(role)))
		return nil
	})
}

// userArg finds the user an EMAIL argument names.
func userArg(ctx context.Context, s *store.Store, arg string) (*store.User, error) {
	email, err := auth.NormalizeEmail(arg)
	if err != nil {
		return nil, err
	}
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user has the address %s (see 'herald user ls')", email)
	}
	return u, err
}
