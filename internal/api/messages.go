package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/store"
)

const (
	// maxMessageRequest bounds a message request's body: an inline
	// template and its variables, well past what a mail client shows
	// whole (Gmail clips HTML at about 102 KB).
	maxMessageRequest = 1 << 20
	// idempotencyTTL is how long an Idempotency-Key and its answer are
	// kept.
	idempotencyTTL = 24 * time.Hour
	// idempotencyStale: a request under way this long died (a send takes
	// at most a minute), and a retry with its key may take it over.
	idempotencyStale  = 10 * time.Minute
	maxIdempotencyKey = 255
)

// sendMessage is POST /api/messages: one message to one subscriber,
// through the transport campaigns use. An Idempotency-Key makes retries
// safe: the answer of a request whose message was handed to the transport
// (or refused by it for good) is kept for a day per token and key, and a
// retry gets it back without a second message; the same key with another
// body is refused. A request that sent nothing (refused as asked, or the
// transport did not take the message) keeps no answer, so its retry runs
// afresh.
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) error {
	if a.d.Direct == nil {
		return &apiError{status: http.StatusConflict, code: "not_sending", msg: "This server does not send mail (it has no mail transport)."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessageRequest))
	if err != nil {
		return err
	}
	var in client.MessageInput
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "bad_json", msg: "The body is not the JSON this endpoint takes: " + jsonProblem(err)}
	}
	key := r.Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key, r.Header.Values("Idempotency-Key")); err != nil {
		return err
	}
	// The same request is the same decoded JSON, however it was spelled
	// (key order, spacing): this encoding is canonical.
	canonical, err := json.Marshal(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])

	// From here on the request runs to its end even if the caller hangs
	// up: a message handed to a relay must have its answer kept.
	ctx := context.WithoutCancel(r.Context())
	id := identity(r)
	var held *store.IdempotencyKey
	if key != "" {
		rec, ok, err := a.d.Store.ClaimIdempotencyKey(ctx, id.TokenID, key, hash, idempotencyTTL, idempotencyStale)
		if err != nil {
			return err
		}
		switch {
		case ok:
			held = rec
		case rec.RequestHash != hash:
			return &apiError{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused",
				msg: "This Idempotency-Key was used with a different request in the last 24 hours; use a new key for a new message."}
		case rec.Done():
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(rec.Status)
			_, err := io.WriteString(w, rec.Response)
			return err
		default:
			w.Header().Set("Retry-After", "5")
			return &apiError{status: http.StatusConflict, code: "in_progress",
				msg: "A request with this Idempotency-Key is being sent now; ask again in a moment for its answer."}
		}
	}

	status, out, keep, err := a.deliverMessage(ctx, in, key, id.TokenID)
	if held != nil {
		if keep {
			if ferr := a.d.Store.FinishIdempotencyKey(ctx, held.ID, status, string(out)); ferr != nil {
				// The message went out; a retry may send it again, with
				// the same Message-ID.
				a.d.Log.Error("keep the answer of an idempotent request", "err", ferr)
			}
		} else if rerr := a.d.Store.ReleaseIdempotencyKey(ctx, held.ID); rerr != nil {
			a.d.Log.Error("release an idempotency key", "err", rerr)
		}
	}
	if err != nil {
		return err
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(out)
	return err
}

// deliverMessage sends the message and words the answer. keep says
// whether the answer is final for its Idempotency-Key: the message was
// handed to the transport, or the transport refused it for good. err is
// an error for the caller's fail (not kept).
func (a *API) deliverMessage(ctx context.Context, in client.MessageInput, key string, tokenID int64) (status int, out []byte, keep bool, err error) {
	m := delivery.DirectMessage{To: in.To, Name: in.Name, From: in.From, ReplyTo: in.ReplyTo, List: in.List,
		EditionID: in.EditionID, Edition: in.Edition, Variables: in.Variables}
	if key != "" {
		m.Key = fmt.Sprintf("%d\x00%s", tokenID, key)
	}
	if in.Template != nil {
		t, err := delivery.ParseTemplate(in.Template.Subject, in.Template.Text, in.Template.HTML)
		if err != nil {
			return 0, nil, false, invalid("template: %v", err)
		}
		m.Template = t
	}
	sent, err := a.d.Direct.Send(ctx, m)
	var ref *delivery.Refusal
	var me *mailer.Error
	switch {
	case err == nil:
		out, err := json.Marshal(client.MessageResult{MessageID: sent.MessageID, To: sent.To, Subject: sent.Subject,
			Transport: sent.Transport, SentAt: time.Now().UTC()})
		return http.StatusCreated, out, true, err
	case errors.As(err, &ref):
		return 0, nil, false, &apiError{status: http.StatusUnprocessableEntity, code: ref.Code, msg: ref.Message + "."}
	case errors.As(err, &me) && me.Class != mailer.Temporary:
		code, msg := "rejected", "The mail relay refused the message for good: "+me.Reply()
		if me.Class == mailer.HardBounce {
			code, msg = "hard_bounce", "The mail relay refused the address for good ("+me.Reply()+"); Herald has suppressed it"
		}
		out, err := json.Marshal(client.ErrorBody{Error: client.ErrorDetail{Code: code, Message: msg + "."}})
		return http.StatusUnprocessableEntity, out, true, err
	case errors.As(err, &me) || errors.Is(err, context.DeadlineExceeded):
		a.d.Log.Warn("transactional message not taken by the transport", "err", err)
		out, err := json.Marshal(client.ErrorBody{Error: client.ErrorDetail{Code: "temporary",
			Message: "The mail transport did not take the message now; try again in a minute, with the same Idempotency-Key."}})
		return http.StatusServiceUnavailable, out, false, err
	}
	return 0, nil, false, err
}

// checkIdempotencyKey accepts one key of 1 to 255 printable ASCII
// characters, or none.
func checkIdempotencyKey(key string, all []string) error {
	bad := func(msg string) error {
		return &apiError{status: http.StatusBadRequest, code: "bad_idempotency_key", msg: msg}
	}
	if len(all) > 1 {
		return bad("Send one Idempotency-Key header, not several.")
	}
	if len(all) == 1 && key == "" {
		return bad("The Idempotency-Key header is empty: send a unique key such as a UUID, or no header.")
	}
	if len(key) > maxIdempotencyKey {
		return bad(fmt.Sprintf("The Idempotency-Key is longer than %d characters.", maxIdempotencyKey))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return bad("The Idempotency-Key may hold printable ASCII characters only, without spaces.")
		}
	}
	return nil
}
