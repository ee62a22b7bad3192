package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
)

// Outgoing webhooks. An event that endpoints listen for writes one
// delivery row per endpoint in the transaction that makes the event
// happen (a signup, a confirmation, a campaign's start), so a crash cannot
// lose the notice and a rolled-back change sends none. Senders claim due
// rows under a lease, like queued mail (see mailqueue.go).

// webhookBody is the JSON body of every webhook POST. ID names the event:
// it is the same for every endpoint and every retry, so a receiver can
// drop a notice it has already handled.
type webhookBody struct {
	ID        string             `json:"id"`
	Type      model.WebhookEvent `json:"type"`
	CreatedAt time.Time          `json:"created_at"`
	Data      any                `json:"data"`
}

// hookSubscriber, hookList and the rest are the data of the events, as
// receivers read them.
type hookSubscriber struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type hookList struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type hookSubscription struct {
	Subscriber hookSubscriber `json:"subscriber"`
	List       *hookList      `json:"list,omitempty"`
	Source     model.Source   `json:"source,omitempty"`
}

type hookSuppression struct {
	Email      string                  `json:"email"`
	Subscriber *hookSubscriber         `json:"subscriber,omitempty"`
	Reason     model.SuppressionReason `json:"reason"`
	Detail     string                  `json:"detail,omitempty"`
}

type hookCampaign struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Recipients int64      `json:"recipients"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
	Sent       *int64     `json:"sent,omitempty"`
	Failed     *int64     `json:"failed,omitempty"`
	Skipped    *int64     `json:"skipped,omitempty"`
}

type hookCampaignData struct {
	Campaign hookCampaign `json:"campaign"`
}

// webhookListenersSQL finds the active endpoints listening for an event;
// its argument is "%,EVENT,%" (events are stored comma-separated).
//
// The pattern is a CAST, not a bare parameter: SQLite compiles a LIKE
// against a parameter anew for each value bound to it (the value might
// allow an index), which made this statement, run in every signup's
// transaction, cost as much as parsing it each time.
const webhookListenersSQL = `SELECT id FROM webhook_endpoints WHERE active AND (',' || events || ',') LIKE CAST($1 AS TEXT) ORDER BY id`

const insertWebhookSQL = `INSERT INTO webhook_deliveries (endpoint_id, event, payload, status, due_at, created_at, updated_at)
	VALUES ($1, $2, $3, 'pending', $4, $4, $4)`

// queueWebhooksTx queues event for every endpoint listening for it, in the
// caller's transaction. data builds the event's data; it runs only when
// some endpoint listens, so an event nobody wants costs one small query.
// listeners, when not nil, is webhookListenersSQL prepared and bound to tx.
func queueWebhooksTx(ctx context.Context, tx *sql.Tx, listeners *sql.Stmt, event model.WebhookEvent, now time.Time, data func() (any, error)) error {
	return queueWebhooksAsTx(ctx, tx, listeners, event, event, now, data)
}

// queueWebhooksAsTx is queueWebhooksTx for endpoints listening for event,
// reporting it as typ: audit rows go to endpoints listening for audit.*,
// each typed by its action (audit.campaign.start).
func queueWebhooksAsTx(ctx context.Context, tx *sql.Tx, listeners *sql.Stmt, event, typ model.WebhookEvent, now time.Time, data func() (any, error)) error {
	if listeners == nil {
		var err error
		if listeners, err = tx.PrepareContext(ctx, webhookListenersSQL); err != nil {
			return fmt.Errorf("find webhooks for %s: %w", event, err)
		}
		defer listeners.Close()
	}
	ids, err := webhookListeners(ctx, listeners, event)
	if err != nil {
		return err
	}
	return queueFor(ctx, sqlOps{tx}, ids, typ, now, data)
}

// webhookListeners returns the endpoints listening for event, through
// webhookListenersSQL prepared as listeners.
func webhookListeners(ctx context.Context, listeners *sql.Stmt, event model.WebhookEvent) ([]int64, error) {
	rows, err := listeners.QueryContext(ctx, "%,"+string(event)+",%")
	if err != nil {
		return nil, fmt.Errorf("find webhooks for %s: %w", event, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find webhooks for %s: %w", event, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find webhooks for %s: %w", event, err)
	}
	return ids, nil
}

// queueFor queues one notice of type typ for each endpoint in ids, in the
// transaction ops writes to.
func queueFor(ctx context.Context, ops txOps, ids []int64, typ model.WebhookEvent, now time.Time, data func() (any, error)) error {
	if len(ids) == 0 {
		return nil
	}
	d, err := data()
	if err != nil {
		return fmt.Errorf("webhook %s: %w", typ, err)
	}
	body, err := json.Marshal(webhookBody{ID: newEventID(), Type: typ, CreatedAt: now, Data: d})
	if err != nil {
		return fmt.Errorf("webhook %s: %w", typ, err)
	}
	for _, id := range ids {
		if err := ops.exec(ctx, insertWebhookSQL, id, typ, string(body), now); err != nil {
			return fmt.Errorf("queue webhook %s: %w", typ, err)
		}
	}
	return nil
}

// newEventID is a random event ID, "evt_" and 32 hex digits.
func newEventID() string {
	var b [16]byte
	rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// subscriberDataTx reads a subscriber for an event's data; nil when the
// subscriber is gone (or the address belongs to nobody).
func subscriberDataTx(ctx context.Context, tx *sql.Tx, where string, arg any) (*hookSubscriber, error) {
	var h hookSubscriber
	err := tx.QueryRowContext(ctx, `SELECT id, email, name FROM subscribers WHERE `+where+` = $1`, arg).Scan(&h.ID, &h.Email, &h.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// subscriptionDataTx is the data of a subscription event.
func subscriptionDataTx(ctx context.Context, tx *sql.Tx, subscriberID, listID int64, source model.Source) func() (any, error) {
	return func() (any, error) {
		d := hookSubscription{Source: source, List: &hookList{ID: listID}}
		err := tx.QueryRowContext(ctx, `SELECT s.id, s.email, s.name, l.slug, l.name FROM subscribers s, lists l WHERE s.id = $1 AND l.id = $2`,
			subscriberID, listID).Scan(&d.Subscriber.ID, &d.Subscriber.Email, &d.Subscriber.Name, &d.List.Slug, &d.List.Name)
		return d, err
	}
}

// suppressionEvent is the webhook event a suppression reason reports: a
// bounce or a complaint. Other reasons (manual, unsubscribe) report none.
func suppressionEvent(reason model.SuppressionReason) (model.WebhookEvent, bool) {
	switch reason {
	case model.SuppressHardBounce:
		return model.EventSubscriberBounced, true
	case model.SuppressComplaint:
		return model.EventSubscriberComplained, true
	}
	return "", false
}

// queueSuppressionWebhookTx reports a bounce or complaint that suppressed
// (or would have suppressed) email.
func queueSuppressionWebhookTx(ctx context.Context, tx *sql.Tx, email string, reason model.SuppressionReason, detail string, now time.Time) error {
	event, ok := suppressionEvent(reason)
	if !ok {
		return nil
	}
	return queueWebhooksTx(ctx, tx, nil, event, now, func() (any, error) {
		sub, err := subscriberDataTx(ctx, tx, "email", email)
		return hookSuppression{Email: email, Subscriber: sub, Reason: reason, Detail: detail}, err
	})
}

// Endpoints.

// CreateWebhookEndpoint stores a new endpoint and fills in its ID and times.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *model.WebhookEndpoint) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.WebhookCreate, func(tx *sql.Tx) (string, audit.Changes, error) {
		err := tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, secret, events, active, description, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, e.URL, s.box.Seal(e.Secret), joinEvents(e.Events), e.Active, e.Description, now).Scan(&e.ID)
		if err != nil {
			return "", nil, fmt.Errorf("create webhook endpoint: %w", err)
		}
		return audit.Object("webhook", e.ID), endpointChanges(&model.WebhookEndpoint{}, e).Created(), nil
	})
	if err != nil {
		return err
	}
	e.CreatedAt, e.UpdatedAt = now, now
	return nil
}

// UpdateWebhookEndpoint saves an endpoint's URL, events, description and
// whether it is active; its secret too when e.Secret is set (empty keeps
// the old one).
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, e *model.WebhookEndpoint) error {
	now := s.now()
	err := s.inAuditedTx(ctx, audit.WebhookUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		old, err := s.scanWebhookEndpoint(tx.QueryRowContext(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE id = $1`, e.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("webhook endpoint %d: %w", e.ID, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("save webhook endpoint: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, events = $2, active = $3, description = $4,
			secret = CASE WHEN $5 = '' THEN secret ELSE $5 END, updated_at = $6 WHERE id = $7`,
			e.URL, joinEvents(e.Events), e.Active, e.Description, s.box.Seal(e.Secret), now, e.ID); err != nil {
			return "", nil, fmt.Errorf("save webhook endpoint: %w", err)
		}
		if e.Secret == "" {
			old.Secret = "" // kept: not a change
		}
		ch := endpointChanges(old, e)
		if len(ch) == 0 {
			return "", nil, nil
		}
		return audit.Object("webhook", e.ID), ch, nil
	})
	if err != nil {
		return err
	}
	e.UpdatedAt = now
	return nil
}

// DeleteWebhookEndpoint removes an endpoint and its deliveries.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	return s.inAuditedTx(ctx, audit.WebhookDelete, func(tx *sql.Tx) (string, audit.Changes, error) {
		var u string
		err := tx.QueryRowContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1 RETURNING url`, id).Scan(&u)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("webhook endpoint %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete webhook endpoint: %w", err)
		}
		return audit.Object("webhook", id), audit.Changes{}.Set("url", u, nil), nil
	})
}

// endpointChanges is the audit record of an endpoint going from old to e;
// the secret only says that it changed.
func endpointChanges(old, e *model.WebhookEndpoint) audit.Changes {
	return audit.Changes{}.Set("url", old.URL, e.URL).Set("events", joinEvents(old.Events), joinEvents(e.Events)).
		Set("active", old.Active, e.Active).Set("description", old.Description, e.Description).Set("secret", old.Secret, e.Secret)
}

const webhookEndpointColumns = `id, url, secret, events, active, description, created_at, updated_at`

// scanWebhookEndpoint reads an endpoint, its secret opened (see Options.Box).
func (s *Store) scanWebhookEndpoint(row interface{ Scan(...any) error }) (*model.WebhookEndpoint, error) {
	var e model.WebhookEndpoint
	var events string
	if err := row.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Active, &e.Description, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if e.Secret, err = s.box.Open(e.Secret); err != nil {
		return nil, fmt.Errorf("webhook endpoint %d: %w", e.ID, err)
	}
	e.Events = splitEvents(events)
	return &e, nil
}

// WebhookEndpoint returns one endpoint, secret included.
func (s *Store) WebhookEndpoint(ctx context.Context, id int64) (*model.WebhookEndpoint, error) {
	e, err := s.scanWebhookEndpoint(s.r.QueryRowContext(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("webhook endpoint %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook endpoint: %w", err)
	}
	return e, nil
}

// WebhookEndpointStats is an endpoint with its deliveries counted by status.
type WebhookEndpointStats struct {
	model.WebhookEndpoint
	Pending, Delivered, Failed int64
}

// WebhookEndpoints lists every endpoint, oldest first, with its counts.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]WebhookEndpointStats, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read webhook endpoints: %w", err)
	}
	var out []WebhookEndpointStats
	byID := map[int64]int{}
	for rows.Next() {
		e, err := s.scanWebhookEndpoint(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read webhook endpoints: %w", err)
		}
		byID[e.ID] = len(out)
		out = append(out, WebhookEndpointStats{WebhookEndpoint: *e})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts, err := s.r.QueryContext(ctx, `SELECT endpoint_id, status, COUNT(*) FROM webhook_deliveries GROUP BY endpoint_id, status`)
	if err != nil {
		return nil, fmt.Errorf("count webhook deliveries: %w", err)
	}
	defer counts.Close()
	for counts.Next() {
		var id, n int64
		var st model.WebhookStatus
		if err := counts.Scan(&id, &st, &n); err != nil {
			return nil, fmt.Errorf("count webhook deliveries: %w", err)
		}
		i, ok := byID[id]
		if !ok {
			continue
		}
		switch st {
		case model.WebhookPending:
			out[i].Pending = n
		case model.WebhookDelivered:
			out[i].Delivered = n
		case model.WebhookFailed:
			out[i].Failed = n
		}
	}
	return out, counts.Err()
}

func joinEvents(events []model.WebhookEvent) string {
	parts := make([]string, len(events))
	for i, e := range events {
		parts[i] = string(e)
	}
	return strings.Join(parts, ",")
}

func splitEvents(s string) []model.WebhookEvent {
	var out []model.WebhookEvent
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, model.WebhookEvent(p))
		}
	}
	return out
}

// Deliveries.

// QueueWebhookTest queues a webhook.test event for one endpoint, whatever
// it listens for, and returns the delivery's ID.
func (s *Store) QueueWebhookTest(ctx context.Context, endpointID int64) (int64, error) {
	now := s.now()
	body, err := json.Marshal(webhookBody{ID: newEventID(), Type: model.EventWebhookTest, CreatedAt: now,
		Data: map[string]string{"message": "A test event from Herald: this endpoint is set up to receive webhooks."}})
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.w.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event, payload, status, due_at, created_at, updated_at)
		SELECT id, $1, $2, 'pending', $3, $3, $3 FROM webhook_endpoints WHERE id = $4 RETURNING id`,
		model.EventWebhookTest, string(body), now, endpointID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("webhook endpoint %d: %w", endpointID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("queue test webhook: %w", err)
	}
	return id, nil
}

const webhookDeliveryColumns = `id, endpoint_id, event, payload, status, attempts, due_at, last_code, last_error, created_at, updated_at`

// WebhookDeliveries returns an endpoint's most recent deliveries, newest
// first.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID int64, limit int) ([]model.WebhookDelivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("read webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []model.WebhookDelivery
	for rows.Next() {
		var d model.WebhookDelivery
		var payload string
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.Event, &payload, &d.Status, &d.Attempts, &d.NextAttempt,
			&d.LastCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("read webhook deliveries: %w", err)
		}
		d.Payload = []byte(payload)
		out = append(out, d)
	}
	return out, rows.Err()
}

// WebhookJob is one claimed delivery with what it takes to send it.
// Claim, as the claim returned it, identifies the claim: settling a job
// whose lease ran out and was claimed again changes nothing.
type WebhookJob struct {
	ID         int64
	EndpointID int64
	URL        string
	Secret     string
	Event      model.WebhookEvent
	Payload    []byte
	Attempts   int // this try's number
	Claim      int
}

// WebhookResult is what became of one claimed job.
type WebhookResult struct {
	Job WebhookJob
	// Status is delivered, failed (no more tries), or pending to try
	// again at RetryAt.
	Status  model.WebhookStatus
	RetryAt time.Time
	Code    int    // the endpoint's HTTP status, 0 when none came
	Error   string // why the try failed
	// GiveBack returns a job that was not tried (the sender is stopping):
	// due at once, its attempt not counted.
	GiveBack bool
}

// webhookDueSQL is the due deliveries of active endpoints.
const webhookDueSQL = `status = 'pending' AND due_at <= $1 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active)`

// WebhooksDue reports whether a delivery is due now. It reads, so an idle
// sender can poll it without taking the writer.
func (s *Store) WebhooksDue(ctx context.Context) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM webhook_deliveries WHERE `+webhookDueSQL+` LIMIT 1`, s.now()).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	default:
		return false, fmt.Errorf("read webhook deliveries: %w", err)
	}
}

// WebhookBacklog counts the deliveries still to be made, due or not.
func (s *Store) WebhookBacklog(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count webhook deliveries: %w", err)
	}
	return n, nil
}

// ClaimWebhooks leases up to limit due deliveries of active endpoints,
// oldest first, until now+lease: a sender that dies holding them leaves
// them to be claimed again after that. Each claim counts as a try. On
// PostgreSQL rows another node is claiming are skipped.
func (s *Store) ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]WebhookJob, error) {
	now := s.now()
	lock := s.skipLocked()
	var out []WebhookJob
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE webhook_deliveries SET due_at = $2, attempts = attempts + 1, claims = claims + 1, updated_at = $1
			WHERE id IN (SELECT id FROM webhook_deliveries WHERE `+webhookDueSQL+` ORDER BY due_at, id LIMIT $3`+lock+`)
			RETURNING id, endpoint_id, event, payload, attempts, claims`, now, now.Add(lease), limit)
		if err != nil {
			return err
		}
		byEndpoint := map[int64][]int{}
		for rows.Next() {
			var j WebhookJob
			var payload string
			if err := rows.Scan(&j.ID, &j.EndpointID, &j.Event, &payload, &j.Attempts, &j.Claim); err != nil {
				rows.Close()
				return err
			}
			j.Payload = []byte(payload)
			byEndpoint[j.EndpointID] = append(byEndpoint[j.EndpointID], len(out))
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id, idx := range byEndpoint {
			var url, secret string
			if err := tx.QueryRowContext(ctx, `SELECT url, secret FROM webhook_endpoints WHERE id = $1`, id).Scan(&url, &secret); err != nil {
				return err
			}
			if secret, err = s.box.Open(secret); err != nil {
				return fmt.Errorf("webhook endpoint %d: %w", id, err)
			}
			for _, i := range idx {
				out[i].URL, out[i].Secret = url, secret
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	// Oldest first, as claimed (RETURNING promises no order).
	slices.SortFunc(out, func(a, b WebhookJob) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// SettleWebhooks records what became of claimed jobs, in one transaction.
// Only a job still held under the same claim changes.
func (s *Store) SettleWebhooks(ctx context.Context, results []WebhookResult) error {
	if len(results) == 0 {
		return nil
	}
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			status, due, uncount := r.Status, r.RetryAt, 0
			if r.GiveBack {
				status, due, uncount = model.WebhookPending, now, 1
			}
			if due.IsZero() {
				due = now
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, due_at = $2, last_code = $3, last_error = $4,
				attempts = attempts - $5, updated_at = $6 WHERE id = $7 AND claims = $8 AND status = 'pending'`,
				status, due, r.Code, truncate(r.Error, 500), uncount, now, r.Job.ID, r.Job.Claim); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record webhook deliveries: %w", err)
	}
	return nil
}

// PruneWebhookDeliveries deletes finished deliveries (delivered or failed)
// last changed before the given time, and returns how many it deleted.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
