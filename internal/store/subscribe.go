package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

// SignupOutcome says what a public signup did to one subscription. The web
// layer uses it to decide which message to send, never to decide what to
// show: every outcome gets the same answer on screen.
type SignupOutcome int

// Signup outcomes.
const (
	// SignupJoined: the subscription is now confirmed (single opt-in).
	SignupJoined SignupOutcome = iota + 1
	// SignupPending: the subscription awaits confirmation (double opt-in);
	// a confirmation message is due, also when one was sent before.
	SignupPending
	// SignupAlready: the address was already confirmed on the list.
	SignupAlready
	// SignupRefused: the address is suppressed, erased or blocklisted;
	// nothing changed and nothing may be sent.
	SignupRefused
	// SignupRecent: the subscription awaits confirmation and a
	// confirmation went out less than ConfirmResendAfter ago; nothing is
	// sent, so a form cannot be used to flood someone's inbox.
	SignupRecent
)

// ConfirmResendAfter is how long a pending subscription waits before a new
// signup sends its confirmation again.
const ConfirmResendAfter = 15 * time.Minute

// Signup puts an address on a list from a public form, in one transaction:
// the subscriber is created if new (a stranger's form never changes an
// existing subscriber), and the subscription
// becomes confirmed on a single opt-in list or unconfirmed on a double
// opt-in list. A confirmed subscription is left alone. The message the
// outcome calls for is queued in the same transaction: the confirmation
// of SignupPending, and the welcome of SignupJoined when welcome is set;
// so are the subscriber.created and subscriber.confirmed webhooks.
//
// Signups that arrive while another is being written share the next
// transaction (a group commit: see signupGroup), each still whole in it
// with its message; Signup returns once that transaction is committed.
func (s *Store) Signup(ctx context.Context, email, name string, list *model.List, source model.Source, welcome bool) (subscriberID int64, out SignupOutcome, err error) {
	if err := validator.Name(name); err != nil {
		return 0, 0, err
	}
	r := &signupReq{ctx: ctx, email: email, name: name, list: list, source: source, welcome: welcome, ready: make(chan struct{})}
	s.signups.run(s, r)
	if r.err != nil {
		return 0, 0, fmt.Errorf("sign up to list %q: %w", list.Slug, r.err)
	}
	return r.id, r.out, nil
}

// maxSignupBatch bounds how many signups share a transaction, so that a
// batch holds the writer for milliseconds, not longer.
const maxSignupBatch = 64

// signupReq is one Signup call, waiting for the transaction it is written
// in, and its result.
type signupReq struct {
	ctx         context.Context
	email, name string
	list        *model.List
	source      model.Source
	welcome     bool

	id  int64
	out SignupOutcome
	err error
	// ready is closed once the result is in, or once lead is set: this
	// caller is to write the next batch.
	ready chan struct{}
	lead  bool
}

// signupGroup writes concurrent signups together: a signup that finds
// none being written writes at once, alone; those that arrive meanwhile
// wait, and when the transaction in progress has committed, the first of
// them writes all that waited (up to maxSignupBatch) in one transaction.
// One commit instead of one each is most of a signup's cost saved on
// SQLite (its one writer writes the log pages every commit touches) and
// fsyncs saved on PostgreSQL. No goroutine of its own: the callers take
// turns writing, so nothing outlives the store.
type signupGroup struct {
	mu      sync.Mutex
	waiting []*signupReq
	busy    bool // a caller is writing batches
}

// run writes r, in a batch with others or alone, and returns with its
// result set.
func (g *signupGroup) run(s *Store, r *signupReq) {
	g.mu.Lock()
	g.waiting = append(g.waiting, r)
	if g.busy {
		g.mu.Unlock()
		<-r.ready
		if !r.lead {
			return
		}
	} else {
		g.busy = true
		g.mu.Unlock()
	}
	// This caller writes, until its own signup is written; then the first
	// still waiting takes over, or no one writes (even when a batch
	// panics: the others are not left waiting).
	defer g.handOff()
	for done := false; !done; {
		g.mu.Lock()
		n := min(len(g.waiting), maxSignupBatch)
		batch := slices.Clone(g.waiting[:n])
		g.waiting = slices.Delete(g.waiting, 0, n)
		g.mu.Unlock()
		done = slices.Contains(batch, r)
		g.write(s, r, batch)
	}
}

// signupBatchTimeout bounds one batch's writing, so that a database that
// hangs (a lock wait on PostgreSQL) fails the signups waiting behind it
// instead of holding them for good.
const signupBatchTimeout = 30 * time.Second

// errSignupInterrupted is the result of the signups of a batch whose
// writing panicked.
var errSignupInterrupted = errors.New("the signup was interrupted; try again")

// write writes batch for r, the caller writing, and gives every other
// caller in it its result; when the writing panics, they get an error
// and the panic goes on in r's goroutine.
func (g *signupGroup) write(s *Store, r *signupReq, batch []*signupReq) {
	defer func() {
		p := recover()
		for _, b := range batch {
			if p != nil {
				b.id, b.out, b.err = 0, 0, errSignupInterrupted
			}
			if b != r {
				close(b.ready)
			}
		}
		if p != nil {
			panic(p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), signupBatchTimeout)
	defer cancel()
	s.signupBatch(ctx, batch)
}

// handOff passes the writing to the first caller still waiting, or ends
// it.
func (g *signupGroup) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) > 0 {
		next := g.waiting[0]
		next.lead = true
		close(next.ready)
	} else {
		g.busy = false
	}
}

// signupBatch writes a batch's signups in one transaction and sets each
// one's result. When one of them fails, nothing of the batch is kept and
// each is written again in a transaction of its own, so that one signup's
// failure is never another's; when the transaction itself fails (begin,
// commit), every signup of the batch gets its error at once rather than a
// wait each. A signup whose caller has gone (its context ended) before
// its turn is not written.
func (s *Store) signupBatch(ctx context.Context, batch []*signupReq) {
	st, err := s.signupStmts(ctx)
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	now := s.now()
	var failed *signupReq // the signup whose own statement failed
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		b := st.bind(ctx, tx)
		for _, r := range batch {
			if r.err = r.ctx.Err(); r.err != nil {
				continue
			}
			if r.id, r.out, r.err = s.signupTx(ctx, tx, b, r, now); r.err != nil {
				failed = r
				return r.err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if len(batch) == 1 || failed == nil {
		// The transaction itself failed (begin, commit): nothing of the
		// batch is kept, and each signup says so.
		for _, r := range batch {
			r.id, r.out = 0, 0
			if r.err == nil {
				r.err = err
			}
		}
		return
	}
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		r.err = s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			r.id, r.out, err = s.signupTx(ctx, tx, st.bind(ctx, tx), r, s.now())
			return err
		})
	}
}

// signupTx writes one signup in tx with the batch's statements b.
func (s *Store) signupTx(ctx context.Context, tx *sql.Tx, b *boundSignup, r *signupReq, now time.Time) (subscriberID int64, out SignupOutcome, err error) {
	email, name, list, source := r.email, r.name, r.list, r.source
	var one int
	err = b.suppressed.QueryRowContext(ctx, email, erasureHash(email)).Scan(&one)
	if err == nil {
		return 0, SignupRefused, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, err
	}
	var status model.SubscriberStatus
	fresh := false
	err = b.subscriber.QueryRowContext(ctx, email).Scan(&subscriberID, &status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		status, fresh = model.SubscriberActive, true
		if err := b.insertSubscriber.QueryRowContext(ctx, email, name, now).Scan(&subscriberID); err != nil {
			return 0, 0, err
		}
		created := func() (any, error) {
			return hookSubscription{Subscriber: hookSubscriber{ID: subscriberID, Email: email, Name: name},
				List: &hookList{ID: list.ID, Slug: list.Slug, Name: list.Name}, Source: source}, nil
		}
		if err := b.queueWebhooks(ctx, tx, model.EventSubscriberCreated, now, created); err != nil {
			return 0, 0, err
		}
	case err != nil:
		return 0, 0, err
	}
	// An existing subscriber is never changed by an anonymous form:
	// anyone can type anyone's address into it.
	if status != model.SubscriberActive {
		return subscriberID, SignupRefused, nil
	}
	var cur model.SubscriptionStatus
	var changed time.Time
	if !fresh { // a subscriber created just now has no subscription
		err = b.subscription.QueryRowContext(ctx, list.ID, subscriberID).Scan(&cur, &changed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
	}
	want, result := model.SubUnconfirmed, SignupPending
	if list.OptIn != model.OptInDouble && cur != model.SubUnsubscribed {
		// Single opt-in joins at once, except for someone who left:
		// coming back takes their confirmation, not a stranger's form.
		want, result = model.SubConfirmed, SignupJoined
	}
	out = result
	switch cur {
	case model.SubConfirmed:
		return subscriberID, SignupAlready, nil
	case want:
		// Still unconfirmed: send the confirmation again, but not more
		// often than ConfirmResendAfter.
		if now.Sub(changed) < ConfirmResendAfter {
			return subscriberID, SignupRecent, nil
		}
		if _, err := b.touchSubscription.ExecContext(ctx, now, list.ID, subscriberID); err != nil {
			return 0, 0, err
		}
	case "":
		// The usual case, a new subscription: its beginning is its row.
		if _, err := b.insertSubscription.ExecContext(ctx, list.ID, subscriberID, want, source, now); err != nil {
			return 0, 0, err
		}
		if want == model.SubConfirmed {
			// Read back: an existing subscriber keeps the name they
			// had, whatever the form said.
			data := subscriptionDataTx(ctx, tx, subscriberID, list.ID, source)
			if err := b.queueWebhooks(ctx, tx, model.EventSubscriberConfirmed, now, data); err != nil {
				return 0, 0, err
			}
		}
	default:
		if err := setSubscriptionTx(ctx, tx, subscriberID, list.ID, want, source, now); err != nil {
			return 0, 0, err
		}
	}
	kind := model.MailConfirm
	switch {
	case out == SignupJoined && r.welcome:
		kind = model.MailWelcome
	case out != SignupPending:
		return subscriberID, out, nil
	}
	if _, err := b.queueMail.ExecContext(ctx, kind, subscriberID, list.ID, now); err != nil {
		return 0, 0, err
	}
	return subscriberID, out, nil
}

// signupStmts are Signup's statements, prepared once: a public form is the
// busiest writer after the delivery ledger, and on SQLite parsing each
// statement anew was a fair share of a signup's cost.
type signupStmts struct {
	suppressed, subscriber, insertSubscriber, subscription *sql.Stmt
	touchSubscription, insertSubscription, queueMail       *sql.Stmt
	webhooks                                               *sql.Stmt
}

// boundSignup is a batch's signupStmts bound to its transaction, with the
// webhook endpoints listening for each event, read once a batch.
type boundSignup struct {
	signupStmts
	listeners map[model.WebhookEvent][]int64
}

func (st signupStmts) bind(ctx context.Context, tx *sql.Tx) *boundSignup {
	b := &boundSignup{}
	for _, p := range []struct{ dst, src **sql.Stmt }{
		{&b.suppressed, &st.suppressed}, {&b.subscriber, &st.subscriber}, {&b.insertSubscriber, &st.insertSubscriber},
		{&b.subscription, &st.subscription}, {&b.touchSubscription, &st.touchSubscription},
		{&b.insertSubscription, &st.insertSubscription}, {&b.queueMail, &st.queueMail}, {&b.webhooks, &st.webhooks},
	} {
		*p.dst = tx.StmtContext(ctx, *p.src)
	}
	return b
}

// queueWebhooks is queueWebhooksTx with the endpoints listening for event
// read once a batch: the endpoints cannot change while its transaction
// holds the writer.
func (b *boundSignup) queueWebhooks(ctx context.Context, tx *sql.Tx, event model.WebhookEvent, now time.Time, data func() (any, error)) error {
	ids, ok := b.listeners[event]
	if !ok {
		var err error
		if ids, err = webhookListeners(ctx, b.webhooks, event); err != nil {
			return err
		}
		if b.listeners == nil {
			b.listeners = map[model.WebhookEvent][]int64{}
		}
		b.listeners[event] = ids
	}
	return queueFor(ctx, sqlOps{tx}, ids, event, now, data)
}

func (s *Store) signupStmts(ctx context.Context) (signupStmts, error) {
	var st signupStmts
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.suppressed, `SELECT 1 FROM suppressions WHERE email = $1 UNION ALL SELECT 1 FROM erasures WHERE email_sha256 = $2`},
		{&st.subscriber, `SELECT id, status FROM subscribers WHERE email = $1`},
		{&st.insertSubscriber, `INSERT INTO subscribers (email, name, attributes, status, created_at, updated_at)
			VALUES ($1, $2, '{}', 'active', $3, $3) RETURNING id`},
		{&st.subscription, `SELECT status, updated_at FROM subscriptions WHERE list_id = $1 AND subscriber_id = $2`},
		{&st.touchSubscription, `UPDATE subscriptions SET updated_at = $1 WHERE list_id = $2 AND subscriber_id = $3`},
		{&st.insertSubscription, `INSERT INTO subscriptions (list_id, subscriber_id, status, source, first_status, first_source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $3, $4, $5, $5)`},
		{&st.queueMail, queueMailSQL},
		{&st.webhooks, webhookListenersSQL},
	} {
		var err error
		if *p.dst, err = s.prepared(ctx, p.q); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ConfirmSubscription turns an unconfirmed subscription into a confirmed
// one and reports whether it changed. Confirming twice is harmless; a
// subscription that was left in the meantime stays left. A subscriber or
// subscription that does not exist (erased since) is ErrNotFound.
// With welcome set, a change queues the welcome message in the same
// transaction.
func (s *Store) ConfirmSubscription(ctx context.Context, subscriberID, listID int64, source model.Source, welcome bool) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur model.SubscriptionStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM subscriptions WHERE list_id = $1 AND subscriber_id = $2`, listID, subscriberID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscription of %d to list %d: %w", subscriberID, listID, ErrNotFound)
		}
		if err != nil || cur != model.SubUnconfirmed {
			return err
		}
		changed = true
		now := s.now()
		if err := setSubscriptionTx(ctx, tx, subscriberID, listID, model.SubConfirmed, source, now); err != nil || !welcome {
			return err
		}
		return queueMailTx(ctx, tx, model.MailWelcome, subscriberID, listID, now)
	})
	if err != nil {
		return false, fmt.Errorf("confirm subscription: %w", err)
	}
	return changed, nil
}

// Unsubscribe takes a subscriber off the given lists (every list when
// listIDs is empty) and returns the IDs of the lists actually left. Rows of
// running campaigns not yet sent to the subscriber are skipped when none of
// the campaign's lists still has them confirmed, so the next message
// already excludes the address.
func (s *Store) Unsubscribe(ctx context.Context, subscriberID int64, listIDs []int64, source model.Source) ([]int64, error) {
	var left []int64
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT list_id FROM subscriptions
			WHERE subscriber_id = $1 AND status <> 'unsubscribed' ORDER BY list_id`, subscriberID)
		if err != nil {
			return err
		}
		var current []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			current = append(current, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range current {
			if len(listIDs) > 0 && !containsID(listIDs, id) {
				continue
			}
			if err := setSubscriptionTx(ctx, tx, subscriberID, id, model.SubUnsubscribed, source, now); err != nil {
				return err
			}
			left = append(left, id)
		}
		if len(left) > 0 {
			if err := s.audit(ctx, tx, audit.SubscriptionSet, audit.Object("subscriber", subscriberID),
				audit.Changes{}.Set("unsubscribed_from", nil, left).Set("source", nil, source)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_reply = 'unsubscribed', updated_at = $1
			WHERE subscriber_id = $2 AND status IN ('pending', 'deferred') AND NOT EXISTS (
				SELECT 1 FROM campaign_lists cl JOIN subscriptions s ON s.list_id = cl.list_id
				WHERE cl.campaign_id = deliveries.campaign_id AND s.subscriber_id = $2 AND s.status = 'confirmed')`,
			now, subscriberID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe %d: %w", subscriberID, err)
	}
	return left, nil
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// SetSubscriberName changes a subscriber's name (from the preference centre);
// the name must pass validator.Name.
func (s *Store) SetSubscriberName(ctx context.Context, id int64, name string) error {
	if err := validator.Name(name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = $1, updated_at = $2 WHERE id = $3`, name, s.now(), id)
		if err != nil {
			return fmt.Errorf("rename subscriber: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
		}
		return s.auditSubscriber(ctx, tx, id, "", "", true, false)
	})
}

// SubscriberEvents returns a subscriber's events, newest first (for "download
// my data").
func (s *Store) SubscriberEvents(ctx context.Context, subscriberID int64, limit int) ([]model.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kind, COALESCE(campaign_id, 0), url, detail, at FROM events
		WHERE subscriber_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, subscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("read subscriber events: %w", err)
	}
	defer rows.Close()
	var out []model.Event
	for rows.Next() {
		e := model.Event{SubscriberID: subscriberID}
		if err := rows.Scan(&e.Kind, &e.CampaignID, &e.URL, &e.Detail, &e.At); err != nil {
			return nil, fmt.Errorf("read subscriber events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountEvents counts stored events of one kind (all campaigns), for load
// tests and health views.
func (s *Store) CountEvents(ctx context.Context, kind model.EventKind) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM events WHERE kind = $1)
		+ (SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM event_counts WHERE kind = $1)`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
