// Package audit says who changes what in Herald. A front door (the admin's
// session check, the API's token check, the command line's composition
// root) puts the Actor in the request's context once; the store's write
// methods read it back and append one audit row in the transaction that
// makes the change, so a change that rolls back leaves no row and no front
// door can forget to record one. Work nobody asked for in person (the
// scheduler, the delivery engine) carries no actor and records nothing.
//
// The package holds the vocabulary (actors, action names, changes) and the
// rule that keeps secrets out of the log; it imports nothing from Herald but csvsafe.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/herald-news/herald/internal/csvsafe"
	"net"
	"net/http"
	"os"
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Via is the front door a change came through.
type Via string

// The front doors.
const (
	ViaAdmin Via = "admin"
	ViaAPI   Via = "api"
	ViaCLI   Via = "cli"
)

// Actor is who makes a change: a signed-in user (admin), an API token
// (api) or a person at the server's shell (cli).
type Actor struct {
	// UserID is the Herald user (the token's owner for the API); 0 on the
	// command line.
	UserID int64
	// Name is what the log shows as the actor: the user's email (admin),
	// the token's name (api), "cli:" and the OS user (cli).
	Name string
	Via  Via
	// IP is the client's address (empty on the command line).
	IP string
}

type actorKey struct{}

// WithActor returns ctx carrying a; the store records it with every change
// made under ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.Via != ""
}

// CLI is the actor of a command run at the server: "cli:" and the OS user
// (the one sudo was run by, when it was).
func CLI() Actor {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if su := os.Getenv("SUDO_USER"); su != "" && su != name {
		name = su + " (sudo " + name + ")"
	}
	if name == "" {
		name = "unknown"
	}
	return Actor{Name: "cli:" + name, Via: ViaCLI}
}

// ClientIP is the address a request came from: the last X-Forwarded-For
// entry when trustProxy is set (only behind a proxy that sets it), else
// the peer address. The public web's rate limits and the audit log read it
// alike.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Stable action names. Scripts and filters rely on them: add new ones,
// never rename.
const (
	CampaignCreate    = "campaign.create"
	CampaignSchedule  = "campaign.schedule"
	CampaignStart     = "campaign.start"
	CampaignPause     = "campaign.pause"
	CampaignResume    = "campaign.resume"
	CampaignCancel    = "campaign.cancel"
	SettingsUpdate    = "settings.update"
	TokenCreate       = "token.create"
	TokenDelete       = "token.delete"
	SubscriberCreate  = "subscriber.create"
	SubscriberUpdate  = "subscriber.update"
	SubscriberErase   = "subscriber.erase"
	UserCreate        = "user.create"
	UserRole          = "user.role"
	UserUpdate        = "user.update"
	UserPassword      = "user.password"
	UserDelete        = "user.delete"
	ListCreate        = "list.create"
	ListUpdate        = "list.update"
	ListDelete        = "list.delete"
	WebhookCreate     = "webhook.create"
	WebhookUpdate     = "webhook.update"
	WebhookDelete     = "webhook.delete"
	SuppressionAdd    = "suppression.add"
	SuppressionRemove = "suppression.remove"
	SubscriptionSet   = "subscription.set"
	EditionCreate     = "edition.create"
	EditionUpdate     = "edition.update"
	EditionRestore    = "edition.restore"
	EditionStatus     = "edition.status"
	SegmentSave       = "segment.save"
	SegmentDelete     = "segment.delete"
	SeriesCreate      = "series.create"
	SeriesUpdate      = "series.update"
	SeriesDelete      = "series.delete"
	SeriesReady       = "series.ready"
	SourceCreate      = "source.create"
	SourceDelete      = "source.delete"
	ImportStart       = "import.start"
	ImportBatch       = "import.batch"
	// Sign-in: one's own authenticator app set up or removed, an owner
	// removing someone's second factors, passkeys added and removed,
	// sessions ended from the account or users page.
	UserTwoFactor      = "user.2fa"
	UserTwoFactorReset = "user.2fa_reset"
	PasskeyAdd         = "passkey.add"
	PasskeyRemove      = "passkey.remove"
	SessionEnd         = "session.end"
	SecretsReseal      = "secrets.reseal"
)

// Actions returns every action name, for filters' suggestions.
func Actions() []string {
	return []string{CampaignCreate, CampaignSchedule, CampaignStart, CampaignPause, CampaignResume, CampaignCancel,
		EditionCreate, EditionUpdate, EditionRestore, EditionStatus, ImportStart, ImportBatch, ListCreate, ListUpdate, ListDelete,
		SecretsReseal, SegmentSave, SegmentDelete, SeriesCreate, SeriesUpdate, SeriesDelete, SeriesReady, SettingsUpdate, SourceCreate, SourceDelete,
		SubscriberCreate, SubscriberUpdate, SubscriberErase, SubscriptionSet, SuppressionAdd, SuppressionRemove,
		TokenCreate, TokenDelete, UserCreate, UserUpdate, UserRole, UserPassword, UserDelete,
		UserTwoFactor, UserTwoFactorReset, PasskeyAdd, PasskeyRemove, SessionEnd,
		WebhookCreate, WebhookUpdate, WebhookDelete}
}

// Show renders a recorded value for people: "—" for none, text as it is,
// anything else as JSON.
func Show(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Change is one field's value before and after a change. A field that
// did not exist before (a creation) has no Before; one removed has no
// After.
type Change struct {
	Before any `json:"before,omitempty"`
	After  any `json:"after,omitempty"`
}

// Changes are the fields a change touched, by name.
type Changes map[string]Change

// Hidden stands in for the value of a secret field: the log says that it
// changed, never what it is.
const Hidden = "(hidden)"

// Set records field going from before to after, if they differ.
func (c Changes) Set(field string, before, after any) Changes {
	if reflect.DeepEqual(before, after) {
		return c
	}
	c[field] = Change{Before: before, After: after}
	return c
}

// Diff records every key whose value differs between before and after
// (settings, say); keys only in one side are creations or removals.
func Diff(before, after map[string]string) Changes {
	c := Changes{}
	for k, b := range before {
		a, ok := after[k]
		switch {
		case !ok:
			c[k] = Change{Before: b}
		case a != b:
			c[k] = Change{Before: b, After: a}
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			c[k] = Change{After: a}
		}
	}
	return c
}

// secretWords mark a field whose value must never reach the log.
var secretWords = []string{"password", "secret", "token", "private", "key", "hash", "recovery", "totp", "otp", "credential"}

// Secret reports whether field names a secret (a password, a key, a token,
// a hash of one): its values are logged as Hidden.
func Secret(field string) bool {
	f := strings.ToLower(field)
	for _, w := range secretWords {
		if strings.Contains(f, w) {
			return true
		}
	}
	return false
}

// Redacted returns c with every secret field's values replaced by Hidden.
// The store applies it to every row it writes, so no caller can log a
// secret by building Changes by hand.
func (c Changes) Redacted() Changes {
	out := make(Changes, len(c))
	for k, v := range c {
		if Secret(k) {
			if v.Before != nil {
				v.Before = Hidden
			}
			if v.After != nil {
				v.After = Hidden
			}
		}
		out[k] = v
	}
	return out
}

// Object names what a change was made to, "kind/id" ("campaign/12"); an
// object without an ID (the settings) is just its kind.
func Object(kind string, id int64) string {
	return fmt.Sprintf("%s/%d", kind, id)
}

// Entry is one row of the audit log as readers see it.
type Entry struct {
	ID      int64
	At      time.Time
	UserID  int64 // 0 on the command line
	Actor   string
	Via     Via
	IP      string
	Action  string
	Object  string
	Changes Changes
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Action string    // exact name, or a prefix ending in "." ("campaign.")
	User   string    // the actor's name, or the email of the user behind it
	Object string    // exact, or a kind ("campaign") for all of its objects
	Since  time.Time // at or after
	Until  time.Time // before
	// BeforeID pages backwards: only entries older than this ID.
	BeforeID int64
	Limit    int // at most this many, newest first (default 100, at most 1000)
}

// ParseSince reads how far back to look, as a person writes it: a
// duration back from now ("24h", "90m", "7d"), a date ("2026-03-01", UTC)
// or a time (RFC 3339).
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: write a duration such as 24h or 7d, a date such as 2026-03-01, or a time such as 2026-03-01T09:00:00Z", s)
}

// CSVHeader is the first row of an audit log export.
var CSVHeader = []string{"at", "actor", "via", "ip", "action", "object", "changes"}

// CSVRecord is e as a row of an export, every cell safe to open in a
// spreadsheet (csvsafe.Cell).
func (e Entry) CSVRecord() []string {
	ch, _ := json.Marshal(e.Changes)
	row := []string{e.At.UTC().Format(time.RFC3339), e.Actor, string(e.Via), e.IP, e.Action, e.Object, string(ch)}
	for i, c := range row {
		row[i] = csvsafe.Cell(c)
	}
	return row
}

// Created turns the changes from a zero value into a new object's record:
// no befores, and no fields left at their zero value.
func (c Changes) Created() Changes {
	out := make(Changes, len(c))
	for k, v := range c {
		if v.After == nil || reflect.ValueOf(v.After).IsZero() {
			continue
		}
		out[k] = Change{After: v.After}
	}
	return out
}
