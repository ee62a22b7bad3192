package auth

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// DefaultOwnerEmail is the first owner's sign-in address when none is given.
const DefaultOwnerEmail = "admin@herald.local"

// Bootstrap creates the first owner when there are no users: with password
// when it is set (HERALD_ADMIN_PASSWORD), otherwise with a generated one
// printed once to out. It reports whether it created the owner; with users
// already present it does nothing.
func Bootstrap(ctx context.Context, st *store.Store, email, password string, cost int, out io.Writer) (bool, error) {
	n, err := st.CountUsers(ctx, "")
	if err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if email == "" {
		email = DefaultOwnerEmail
	}
	generated := password == ""
	if generated {
		_, password, err = CreateUserWithGeneratedPassword(ctx, st, email, "Owner", Owner, cost)
	} else {
		_, err = CreateUser(ctx, st, email, "Owner", Owner, password, cost)
	}
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return false, nil // another node created it first
		}
		return false, fmt.Errorf("create the first owner: %w", err)
	}
	if generated {
		// The password stands alone on its line, not indented: a copy of
		// the line is the password and nothing else.
		fmt.Fprintf(out, "Created the owner account %s with the one-time password:\n\n%s\n\n"+
			"It is shown only this once. Sign in at /admin/ with it: Herald then asks you to choose your own.\n",
			email, password)
	} else {
		fmt.Fprintf(out, "Created the owner account %s with the password from HERALD_ADMIN_PASSWORD.\n", email)
	}
	return true, nil
}

// CreateUser adds a user (herald user create). The password must pass
// validator.Password.
func CreateUser(ctx context.Context, st *store.Store, email, name string, role Role, password string, cost int) (*store.User, error) {
	return createUser(ctx, st, email, name, role, password, false, cost)
}

// CreateUserWithGeneratedPassword adds a user with a password Herald
// generates, returned to be shown once; the admin asks the user to
// replace it at their first sign-in.
func CreateUserWithGeneratedPassword(ctx context.Context, st *store.Store, email, name string, role Role, cost int) (*store.User, string, error) {
	pw := GeneratePassword()
	u, err := createUser(ctx, st, email, name, role, pw, true, cost)
	if err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

func createUser(ctx context.Context, st *store.Store, email, name string, role Role, password string, generated bool, cost int) (*store.User, error) {
	if err := validator.User(email, name); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, &validator.Error{Field: "role", Message: "Choose a role: owner, editor, author or viewer."}
	}
	h, err := HashPassword(password, cost)
	if err != nil {
		return nil, err
	}
	u := &store.User{Email: email, Name: name, Role: string(role), PasswordHash: h, MustChangePassword: generated}
	if err := st.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword changes a user's password (herald user passwd
// --password-stdin, an owner on the users page) and ends their sessions,
// audited.
func SetPassword(ctx context.Context, st *store.Store, email, password string, cost int) error {
	u, err := userByEmail(ctx, st, email)
	if err != nil {
		return err
	}
	h, err := HashPassword(password, cost)
	if err != nil {
		return err
	}
	_, err = st.SetUserPassword(ctx, u.ID, h, false, "")
	return err
}

// SetGeneratedPassword gives a user a password Herald generates (herald
// user passwd), returned to be shown once, and ends their sessions; the
// admin asks them to replace it at their next sign-in.
func SetGeneratedPassword(ctx context.Context, st *store.Store, email string, cost int) (string, error) {
	u, err := userByEmail(ctx, st, email)
	if err != nil {
		return "", err
	}
	pw := GeneratePassword()
	h, err := HashPassword(pw, cost)
	if err != nil {
		return "", err
	}
	if _, err := st.SetUserPassword(ctx, u.ID, h, true, ""); err != nil {
		return "", err
	}
	return pw, nil
}

// SetRole changes a user's role, refusing to demote the last owner, and
// ends their sessions so the new role applies at once.
func SetRole(ctx context.Context, st *store.Store, id int64, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	u, err := st.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.Role == string(Owner) && role != Owner {
		if err := checkNotLastOwner(ctx, st); err != nil {
			return err
		}
	}
	u.Role = string(role)
	if err := st.UpdateUser(ctx, u); err != nil {
		return err
	}
	_, err = st.DeleteUserSessions(ctx, u.ID)
	return err
}

// RemoveUser deletes a user (herald user rm) with their sessions and
// tokens, refusing to remove the last owner.
func RemoveUser(ctx context.Context, st *store.Store, email string) error {
	u, err := userByEmail(ctx, st, email)
	if err != nil {
		return err
	}
	return RemoveUserByID(ctx, st, u.ID)
}

// RemoveUserByID is RemoveUser for a user ID (the admin's users page).
func RemoveUserByID(ctx context.Context, st *store.Store, id int64) error {
	u, err := st.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.Role == string(Owner) {
		if err := checkNotLastOwner(ctx, st); err != nil {
			return err
		}
	}
	return st.DeleteUser(ctx, id)
}

func checkNotLastOwner(ctx context.Context, st *store.Store) error {
	n, err := st.CountUsers(ctx, string(Owner))
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastOwner
	}
	return nil
}

func userByEmail(ctx context.Context, st *store.Store, email string) (*store.User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return st.UserByEmail(ctx, e)
}
