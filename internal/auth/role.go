// Package auth decides who may use the admin and the API: users with roles,
// password hashing (bcrypt), sessions behind secure cookies (with the
// device, address and last use each user sees, a lifetime and an idle
// timeout), second factors (TOTP with single-use recovery codes, passkeys
// through WebAuthn), password reset links sent through the mail queue,
// single sign-on with OpenID Connect, CSRF tokens for every
// state-changing form, API tokens (shown once, stored as a hash, scoped to
// a role), and rate limiting of sign-in attempts and codes.
//
// Contract: a role grants a fixed set of permissions (Role.Can); handlers
// ask for a permission, never for a role. Secrets (session cookies, API
// tokens, passwords, recovery codes) are never stored: only their SHA-256
// or bcrypt hash; the TOTP secrets, which codes are computed from, are
// stored but never logged. The sign-in policy (package settings) is read
// at every use, so a change applies on every node at once.
package auth

import "fmt"

// Role is what a user, or an API token, may do.
type Role string

// Roles of users (and their API tokens), from most to least powerful, and
// Sender, a role for API tokens only.
const (
	Owner  Role = "owner"  // everything, users and settings included
	Editor Role = "editor" // compose, publish, send, lists and subscribers
	Author Role = "author" // compose drafts only
	Viewer Role = "viewer" // read campaigns and their stats
	// Sender sends transactional messages (POST /api/messages) and does
	// nothing else: the token an application that mails its readers
	// holds, which can neither read nor change the audience. Editors and
	// owners may make one.
	Sender Role = "sender"
)

// AllRoles returns every role a user may have, most powerful first.
func AllRoles() []Role { return []Role{Owner, Editor, Author, Viewer} }

// TokenRoles returns every role an API token may have: the users' roles
// and Sender.
func TokenRoles() []Role { return append(AllRoles(), Sender) }

// ParseRole returns the user role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range AllRoles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want owner, editor, author or viewer)", s)
}

// ParseTokenRole returns the API token role named s.
func ParseTokenRole(s string) (Role, error) {
	if s == string(Sender) {
		return Sender, nil
	}
	if r, err := ParseRole(s); err == nil {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want owner, editor, author, viewer or sender)", s)
}

// rank orders roles: a higher rank may do everything a lower one may.
func (r Role) rank() int {
	switch r {
	case Owner:
		return 4
	case Editor:
		return 3
	case Author:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// AtLeast reports whether r may do everything o may. Users' roles are
// ranked; Sender stands beside them, below editors and owners (who may
// send messages) and neither above nor below authors and viewers.
func (r Role) AtLeast(o Role) bool {
	switch {
	case o == Sender:
		return r == Sender || r.Can(SendMessage)
	case r == Sender:
		return false
	}
	return r.rank() >= o.rank() && r.rank() > 0
}

// Permission is one kind of action a handler guards.
type Permission string

// Permissions. Each handler requires exactly one.
const (
	ReadStats       Permission = "read-stats"       // dashboard, campaigns, their stats, editions list
	Compose         Permission = "compose"          // create and edit draft editions, upload images
	Publish         Permission = "publish"          // publish editions, edit published ones
	Send            Permission = "send"             // create, test, schedule, start, pause, resume, cancel campaigns
	SendMessage     Permission = "send-message"     // send one transactional message to one reader (POST /api/messages)
	ManageAudience  Permission = "manage-audience"  // lists, subscribers, imports, suppressions, the outbox
	ManageSettings  Permission = "manage-settings"  // publication, relays, DKIM, tracking
	ManageUsers     Permission = "manage-users"     // users and everyone's API tokens
	ManageOwnTokens Permission = "manage-own-token" // one's own API tokens
	ManageAccount   Permission = "manage-account"   // one's own second factors and sessions
	ReadAudit       Permission = "read-audit"       // the audit log: who changed what
)

// Minimum is the least user role holding permission p ("" for an unknown
// one).
func Minimum(p Permission) Role {
	switch p {
	case ReadStats, ManageOwnTokens, ManageAccount:
		return Viewer
	case Compose:
		return Author
	case Publish, Send, SendMessage, ManageAudience:
		return Editor
	case ManageSettings, ManageUsers, ReadAudit:
		return Owner
	}
	return ""
}

// Can reports whether r holds permission p.
func (r Role) Can(p Permission) bool {
	if r == Sender {
		return p == SendMessage
	}
	min := Minimum(p)
	return min != "" && r.AtLeast(min)
}

// Permissions returns every permission, for tests and documentation.
func Permissions() []Permission {
	return []Permission{ReadStats, ManageOwnTokens, ManageAccount, Compose, Publish, Send, SendMessage, ManageAudience, ManageSettings, ManageUsers, ReadAudit}
}
