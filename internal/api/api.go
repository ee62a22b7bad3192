// Package api serves Herald's JSON API under /api/: subscribers (with bulk
// actions), lists, CSV imports, editions, campaigns with their statistics,
// suppressions, and transactional messages (one message to one
// subscriber, idempotent with an Idempotency-Key), for scripts and
// integrations.
//
// Contract: every request carries an API token as a bearer token (never a
// session cookie, so no CSRF is possible); every route needs one
// permission of the token's role; listings page with limit and offset and
// answer {data, total, limit, offset}; every error answers
// {"error": {"code", "message"}} and never carries internal detail; a
// domain check's refusal answers 422 with code "invalid" and "field"
// naming the input it concerns. The
// OpenAPI 3 document at /api/openapi.json is built from the same route
// table that registers the handlers. Wire types live in package client.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
	"github.com/herald-news/herald/internal/validator"
)

// Deps is what the API needs. Store and Auth are required.
type Deps struct {
	Store  *store.Store
	Auth   *auth.Service
	Engine *delivery.Engine // nil: campaigns cannot start
	// Direct sends transactional messages; nil: POST /api/messages
	// answers that this server does not send.
	Direct *delivery.Direct
	From   string // default From of new campaigns
	// BaseURL is the server's public address, under which uploaded
	// pictures are served (/media/).
	BaseURL string
	// Unfurl reads pasted links; nil uses unfurl.New with its defaults
	// (public addresses only).
	Unfurl *unfurl.Unfurler
	// WebhookAllow lists the non-public address ranges outgoing webhook
	// receivers may be on (webhook.Options.Allow); none by default.
	WebhookAllow []netip.Prefix
	Log          *slog.Logger
	// ImportObserver hears imports run and their rows (metrics); nil: none.
	ImportObserver importer.Observer
	// Precheck runs the pre-send checks on campaigns' editions; nil: the
	// precheck endpoint answers 404.
	Precheck *precheck.Editions
	// TrustProxy takes the client IP the audit log records from the last
	// X-Forwarded-For entry (behind a reverse proxy only).
	TrustProxy bool
}

// API is the /api/ http.Handler.
type API struct {
	d   Deps
	mux *http.ServeMux
}

// New returns the API handler, to be mounted at /api/.
func New(d Deps) (*API, error) {
	if d.Store == nil || d.Auth == nil {
		return nil, errors.New("api: a store and an auth service are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Unfurl == nil {
		d.Unfurl = unfurl.New(unfurl.Options{})
	}
	a := &API{d: d, mux: http.NewServeMux()}
	for _, rt := range a.table() {
		a.mux.Handle(rt.Method+" "+rt.Path, a.wrap(rt))
	}
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such API endpoint; see /api/openapi.json.")
	})
	return a, nil
}

// ServeHTTP serves /api/… requests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

type identityKey struct{}

func identity(r *http.Request) *auth.Identity {
	id, _ := r.Context().Value(identityKey{}).(*auth.Identity)
	return id
}

func (a *API) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.Public {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
				return
			}
			id, err := a.d.Auth.Token(r.Context(), strings.TrimSpace(tok))
			if errors.Is(err, auth.ErrNoSession) {
				writeError(w, http.StatusUnauthorized, "unauthorized", "The API token is not valid.")
				return
			}
			if err != nil {
				a.fail(w, r, err)
				return
			}
			if !id.Can(rt.Permission) {
				writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("A %s token cannot do this.", id.Role))
				return
			}
			// Every change this request makes is recorded as the token's
			// (package audit; the store writes the rows).
			ctx := audit.WithActor(r.Context(), audit.Actor{UserID: id.User.ID, Name: id.TokenName, Via: audit.ViaAPI,
				IP: audit.ClientIP(r, a.d.TrustProxy)})
			r = r.WithContext(context.WithValue(ctx, identityKey{}, id))
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
		if err := rt.h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// apiError is an error whose message is meant for the caller.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// erasedMessage answers an attempt to add an address erased at its
// owner's request.
const erasedMessage = "The address was erased at its owner's request and cannot be added again (DELETE /api/suppressions/{email} lifts that, if they ask to come back)."

func invalid(format string, args ...any) error {
	return &apiError{status: http.StatusUnprocessableEntity, code: "invalid", msg: fmt.Sprintf(format, args...)}
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var mbe *http.MaxBytesError
	var inUse *store.InUseError
	var ve *validator.Error
	switch {
	case errors.As(err, &ve):
		// A domain check's refusal names the field, as the caller sent it.
		_ = writeJSON(w, http.StatusUnprocessableEntity, client.ErrorBody{Error: client.ErrorDetail{Code: "invalid", Message: ve.Message, Field: ve.Field}})
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.msg)
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("The request body is too large (at most %d KiB here).", mbe.Limit>>10))
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "Not found.")
	case errors.Is(err, store.ErrStale):
		writeError(w, http.StatusConflict, "stale", "Someone saved this since you read it: read it again and reapply your change.")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "Something with that name or slug exists already.")
	case errors.Is(err, store.ErrErased):
		writeError(w, http.StatusConflict, "erased", erasedMessage)
	case errors.As(err, &inUse):
		writeError(w, http.StatusConflict, "in_use", inUse.Msg)
	case errors.Is(err, store.ErrBadFilter):
		// The store's words for a malformed filter are written for people.
		writeError(w, http.StatusBadRequest, "bad_filter", err.Error())
	case errors.Is(err, store.ErrBadTransition):
		writeError(w, http.StatusConflict, "bad_transition", "The campaign cannot do that in its current state.")
	case errors.Is(err, context.Canceled):
	default:
		a.d.Log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged.")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	_ = writeJSON(w, status, client.ErrorBody{Error: client.ErrorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &apiError{status: http.StatusBadRequest, code: "bad_json", msg: "The body is not the JSON this endpoint takes: " + jsonProblem(err)}
	}
	return nil
}

// jsonProblem describes a decoding error without echoing input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "it could not be read"
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &apiError{status: http.StatusNotFound, code: "not_found", msg: "Not found."}
	}
	return id, nil
}

// paging reads limit (default 50, at most 500) and offset.
func paging(r *http.Request) (limit, offset int) {
	limit, _ = strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return limit, max(offset, 0)
}

func errorBodyExample() client.ErrorBody { return client.ErrorBody{} }
