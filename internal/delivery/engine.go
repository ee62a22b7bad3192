package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/retention"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// job is one claimed row on its way to a worker.
type job struct {
	run       *campaignRun
	d         model.Delivery
	claimedAt time.Time
}

// Run claims and sends until ctx is done, then stops claiming, lets the
// messages already handed to workers finish, writes their outcomes and
// returns. Run owns every goroutine it starts.
func (e *Engine) Run(ctx context.Context) error {
	release, err := e.ledger.LockSending()
	if err != nil {
		return err
	}
	defer func() { _ = release() }() // the lock goes with the process anyway
	e.running.Store(true)
	defer e.running.Store(false)
	// Campaigns are prepared afresh on each run: their state (a problem
	// to clear, a changed key) is read again.
	e.mu.Lock()
	clear(e.prepared)
	e.mu.Unlock()
	if e.ledger.SingleProcess() {
		// Nobody else uses this database: any claim left is from a process
		// that died, and its rows can go out again at once.
		if n, err := e.ledger.ReleaseLeases(ctx, true); err != nil {
			if ctx.Err() != nil {
				return nil // stopped before it started
			}
			return err
		} else if n > 0 {
			e.cfg.Log.Warn("returned rows claimed by a process that stopped to pending", "rows", n)
		}
	}
	jobs := make(chan job, e.cfg.ClaimBatch)
	results := make(chan store.Outcome, e.cfg.FlushEvery)
	links := Links{BaseURL: e.cfg.BaseURL, Signer: e.cfg.Signer}

	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			w := worker{e: e, links: links, stop: ctx.Done()}
			for j := range jobs {
				results <- w.send(j)
			}
		}()
	}
	recorded := make(chan error, 1)
	go func() { recorded <- e.record(results) }()
	// The watcher runs until the workers are done: a pause during
	// shutdown still keeps the rows queued for them unsent.
	watchCtx, stopWatching := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		e.watchStates(watchCtx)
	}()
	// Other nodes' starts, pauses and resumes wake this one at once.
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		if err := e.ledger.ListenCampaigns(ctx, e.Wake); err != nil && ctx.Err() == nil {
			e.cfg.Log.Warn("cannot hear other nodes' campaign changes; polling for them instead", "err", err)
		}
	}()

	err = e.claimLoop(ctx, jobs)
	e.retention.Wait() // stopped by ctx between two batches
	close(jobs)
	workers.Wait()
	stopWatching()
	<-watching
	close(results)
	<-listening
	return errors.Join(err, <-recorded)
}

// claimLoop feeds jobs from every sending campaign until ctx is done.
func (e *Engine) claimLoop(ctx context.Context, jobs chan<- job) error {
	var lastRelease, lastSchedule, lastSunset, lastRetention, lastPrune time.Time
	var lead *store.Leadership
	defer func() {
		if lead != nil {
			lead.Release()
		}
	}()
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := e.cfg.Now()
		if now.Sub(lastRelease) > e.cfg.Lease/4 {
			if _, err := e.ledger.ReleaseLeases(ctx, false); err != nil && ctx.Err() == nil {
				e.cfg.Log.Error("release expired leases", "err", err)
			}
			lastRelease = now
		}
		if now.Sub(lastSchedule) >= time.Second {
			if lead = e.keepLead(ctx, lead); lead != nil {
				e.startDue(ctx, now)
				e.decideTests(ctx, now)
				if e.cfg.Sunset != nil && now.Sub(lastSunset) >= 24*time.Hour {
					e.sunset(ctx)
					lastSunset = now
				}
				if e.cfg.Retention != nil && now.Sub(lastRetention) >= 24*time.Hour {
					e.retain(ctx)
					lastRetention = now
				}
				if now.Sub(lastPrune) >= 24*time.Hour {
					e.pruneAudit(ctx, now)
					lastPrune = now
				}
			}
			lastSchedule = now
		}
		claimed, wait := e.claimRound(ctx, jobs)
		if claimed > 0 {
			continue
		}
		timer := time.NewTimer(min(wait, e.cfg.Poll))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-e.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// watchStates keeps the engine's view of which campaigns may send current:
// at every Wake (this node's pauses, other nodes' notices) and every
// StateEvery. A prepared campaign that is no longer sending is halted, so
// the workers give its claimed rows back instead of sending them.
func (e *Engine) watchStates(ctx context.Context) {
	t := time.NewTicker(e.cfg.StateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.recheck:
		}
		e.checkStates(ctx)
	}
}

func (e *Engine) checkStates(ctx context.Context) {
	e.mu.Lock()
	idle := len(e.prepared) == 0
	e.mu.Unlock()
	if idle {
		return
	}
	ids, err := e.ledger.CampaignsWithStatus(ctx, model.CampaignSending)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("read sending campaigns", "err", err)
		}
		return
	}
	sending := make(map[int64]bool, len(ids))
	for _, id := range ids {
		sending[id] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, run := range e.prepared {
		if !sending[id] {
			run.halted.Store(true)
			delete(e.prepared, id) // a resume prepares it afresh
			e.cfg.Log.Info("campaign no longer sending; mail claimed for it goes back unsent", "campaign", id)
		}
	}
}

// keepLead checks the scheduler lock: it keeps a live one, drops a dead one,
// and tries to take it when free. Only the leader starts scheduled
// campaigns, so two nodes never start the same one.
func (e *Engine) keepLead(ctx context.Context, lead *store.Leadership) *store.Leadership {
	if lead != nil {
		if lead.Alive(ctx) {
			return lead
		}
		lead.Release()
		e.cfg.Log.Warn("lost the scheduler lock")
	}
	lead, err := e.ledger.TryLead(ctx)
	if err != nil && ctx.Err() == nil {
		e.cfg.Log.Error("take the scheduler lock", "err", err)
	}
	return lead
}

// startDue starts scheduled campaigns whose time has come.
func (e *Engine) startDue(ctx context.Context, now time.Time) {
	ids, err := e.ledger.DueCampaigns(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("read scheduled campaigns", "err", err)
		}
		return
	}
	for _, id := range ids {
		_, err := e.Start(ctx, id)
		if errors.Is(err, store.ErrBadTransition) || ctx.Err() != nil {
			continue
		}
		e.reportNotStarted(ctx, id, err)
	}
}

// reportNotStarted records why a scheduled campaign whose time has come
// did not start (err; nil: it started) as its problem, which the campaign
// page shows, and logs it: once, not on every tick that tries again, and
// again only when the reason changes. A start clears it (the store writes
// only a change).
func (e *Engine) reportNotStarted(ctx context.Context, id int64, err error) {
	why := ""
	if err != nil {
		why = "Not started: " + err.Error()
	}
	e.mu.Lock()
	last, seen := e.startFailed[id]
	if why == "" {
		delete(e.startFailed, id)
	} else {
		e.startFailed[id] = why
	}
	e.mu.Unlock()
	if why != "" && why == last && seen {
		return
	}
	if why != "" {
		e.cfg.Log.Error("start scheduled campaign", "campaign", id, "err", err)
	}
	if err := e.ledger.SetCampaignProblem(ctx, id, why); err != nil && ctx.Err() == nil {
		e.cfg.Log.Error("record campaign problem", "campaign", id, "err", err)
	}
}

// decideTests chooses the winner of every A/B test whose wait is over. Only
// the scheduler leader calls it, and the store keeps the first decision,
// so one node decides each test once.
func (e *Engine) decideTests(ctx context.Context, now time.Time) {
	ids, err := e.ledger.ABTestsToDecide(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("read A/B tests", "err", err)
		}
		return
	}
	for _, id := range ids {
		w, err := e.ledger.DecideABTest(ctx, id, now)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("decide A/B test", "campaign", id, "err", err)
			}
			continue
		}
		if w == 0 {
			continue
		}
		e.cfg.Log.Info("A/B test decided; sending the rest with the winner", "campaign", id, "winner", w)
		e.mu.Lock()
		if run := e.prepared[id]; run != nil {
			run.winner.Store(int32(w))
		}
		e.mu.Unlock()
		e.Wake()
	}
}

// noTracking reports whether the configuration turned tracking off.
func (e *Engine) noTracking() bool {
	return e.cfg.NoTracking || (e.cfg.Settings != nil && e.cfg.Settings.NoTracking())
}

// sunset applies the configured sunset policy and logs its report.
func (e *Engine) sunset(ctx context.Context) {
	if e.noTracking() {
		e.cfg.Log.Warn("sunset policy not applied: tracking is off")
		return
	}
	// Once a day across restarts and changes of leader: the last report
	// says when the policy last ran.
	if last, ok, err := e.ledger.LastSunset(ctx); err == nil && ok && e.cfg.Now().Sub(last.At) < 23*time.Hour {
		return
	}
	rep, err := Sunset(ctx, e.ledger, e.cfg.Settings, *e.cfg.Sunset)
	if errors.Is(err, ErrSunsetNeedsTracking) {
		e.cfg.Log.Warn("sunset policy not applied", "why", err)
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("sunset policy", "err", err)
		}
		return
	}
	e.cfg.Log.Info("sunset policy applied", "months", rep.Policy.Months, "action", rep.Policy.Action,
		"since", rep.Cutoff.Format(time.DateOnly), "subscribers", rep.Matched, "some", strings.Join(rep.Sample, ", "),
		"returned", rep.Returned, "suppressed_after_segment", rep.Suppressed)
}

// retain starts the retention policy beside sending, unless a run is
// still going, and logs its report when done.
func (e *Engine) retain(ctx context.Context) {
	if !e.retaining.CompareAndSwap(false, true) {
		return
	}
	e.retention.Add(1)
	go func() {
		defer e.retention.Done()
		defer e.retaining.Store(false)
		rep, err := retention.Run(ctx, e.ledger, *e.cfg.Retention, e.cfg.Now(), nil)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("retention", "err", err, "events_folded", rep.Events, "ledger_rows_folded", rep.Ledger)
			}
			return
		}
		e.cfg.Log.Info("retention applied", "events_folded", rep.Events, "ledger_rows_folded", rep.Ledger,
			"pages_reclaimed", rep.Reclaimed, "took", rep.Took.Round(time.Millisecond))
	}()
}

// auditPruneBatch is how many audit rows one statement deletes: the
// writer is held for a moment per batch, not for a year of rows.
const auditPruneBatch = 500

// pruneAudit deletes the audit rows older than the retention setting, in
// small batches, and logs how many went.
func (e *Engine) pruneAudit(ctx context.Context, now time.Time) {
	days, err := settings.LoadAuditRetention(ctx, e.ledger)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("audit log retention", "err", err)
		}
		return
	}
	if days == 0 {
		return // kept for ever
	}
	keep := time.Duration(days) * 24 * time.Hour
	var total int64
	for ctx.Err() == nil {
		n, err := e.ledger.PruneAudit(ctx, now.Add(-keep), auditPruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("audit log retention", "err", err)
			}
			break
		}
		total += n
		if n < auditPruneBatch {
			break
		}
	}
	if total > 0 {
		e.cfg.Log.Info("audit log retention applied", "deleted", total, "older_than", now.Add(-keep).Format(time.DateOnly))
	}
}

// claimRound claims one batch from each sending campaign and queues it. It
// returns how many rows it queued and, when none, how long until a deferred
// row is due.
func (e *Engine) claimRound(ctx context.Context, jobs chan<- job) (int, time.Duration) {
	if until := time.Unix(0, e.relayDownUntil.Load()); e.cfg.Now().Before(until) {
		return 0, until.Sub(e.cfg.Now()) // no relay takes mail now: claim nothing
	}
	ids, err := e.ledger.CampaignsWithStatus(ctx, model.CampaignSending)
	if err != nil {
		if ctx.Err() == nil {
			e.cfg.Log.Error("read sending campaigns", "err", err)
		}
		return 0, e.cfg.Poll
	}
	total, wait := 0, e.cfg.Poll
	for _, id := range ids {
		run, err := e.prepare(ctx, id)
		var we *waitError
		if errors.As(err, &we) {
			// Not this node's to send: its rows wait, unsent, for a node
			// configured with the campaign's transport.
			e.reportWaiting(ctx, id, we)
			continue
		}
		if err != nil {
			// Nothing of this campaign can be sent as it is (a bad From,
			// an unknown relay): pause it for a person to see, rather than
			// retrying it, and logging, forever.
			e.cfg.Log.Error("campaign cannot be sent; pausing it", "campaign", id, "err", err)
			if perr := e.ledger.SetCampaignStatus(ctx, id, model.CampaignPaused); perr != nil && ctx.Err() == nil {
				e.cfg.Log.Error("pause campaign", "campaign", id, "err", perr)
			}
			continue
		}
		claimedAt := e.cfg.Now()
		// A claim is not cut short by shutdown: a commit interrupted by a
		// cancelled context may still land in the database, leaving rows
		// claimed that nobody sends until their lease ends. It finishes,
		// and Run sends what it claimed.
		claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		rows, err := e.ledger.ClaimDeliveries(claimCtx, id, e.cfg.ClaimBatch, e.cfg.Lease)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("claim deliveries", "campaign", id, "err", err)
			}
			continue
		}
		if len(run.variants) > 0 && run.winner.Load() == 0 && slices.ContainsFunc(rows, func(d model.Delivery) bool { return d.Variant == 0 }) {
			// Held rows are due: another node chose the winner.
			if c, err := e.ledger.Campaign(ctx, id); err == nil {
				run.winner.Store(int32(c.ABWinner))
			}
		}
		for _, d := range rows {
			// Once claimed, a row is sent (or given back) even if ctx
			// ends meanwhile: Run drains the queue before it returns.
			jobs <- job{run: run, d: d, claimedAt: claimedAt}
		}
		total += len(rows)
		if len(rows) == 0 {
			if done, err := e.ledger.FinishCampaign(ctx, id); err == nil && done {
				e.cfg.Log.Info("campaign sent", "campaign", id)
				e.mu.Lock()
				delete(e.prepared, id)
				close(e.finished)
				e.finished = make(chan struct{})
				e.mu.Unlock()
				continue
			}
			if next, err := e.ledger.NextRetry(ctx, id); err == nil && !next.IsZero() {
				wait = min(wait, max(next.Sub(e.cfg.Now()), 10*time.Millisecond))
			}
		}
	}
	return total, wait
}

// reportWaiting logs and records, at most once a minute per campaign, why
// a campaign's mail is waiting on this node, so that the admin shows it.
func (e *Engine) reportWaiting(ctx context.Context, id int64, we *waitError) {
	now := e.cfg.Now()
	e.mu.Lock()
	last, seen := e.waitReported[id]
	if seen && now.Sub(last) < time.Minute {
		e.mu.Unlock()
		return
	}
	e.waitReported[id] = now
	e.mu.Unlock()
	e.cfg.Log.Error("campaign mail is waiting", "campaign", id, "why", we.why)
	if err := e.ledger.SetCampaignProblem(ctx, id, "Mail is waiting: "+we.why+"."); err != nil && ctx.Err() == nil {
		e.cfg.Log.Error("record campaign problem", "campaign", id, "err", err)
	}
}

// record writes outcomes in batches: when FlushEvery have gathered, or
// FlushAfter after the first of a batch arrived.
func (e *Engine) record(results <-chan store.Outcome) error {
	batch := make([]store.Outcome, 0, e.cfg.FlushEvery)
	var errs error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// A fresh context: outcomes must be written even during shutdown.
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Lease/2+30*time.Second)
		defer cancel()
		// Keep trying for half a lease: these messages were handed to the
		// relay, and if their rows stay in sending past the lease they go
		// out again. Workers wait meanwhile (results is bounded).
		deadline := time.Now().Add(e.cfg.Lease / 2)
		var err error
		for wait := 200 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
			if err = e.ledger.RecordOutcomes(ctx, batch); err == nil || time.Now().After(deadline) {
				break
			}
			e.cfg.Log.Error("record outcomes; retrying", "rows", len(batch), "err", err)
			time.Sleep(wait)
		}
		if err != nil {
			// The rows stay in sending; their lease expires and they are
			// sent again, with the same Message-ID.
			errs = errors.Join(errs, err)
		}
		batch = batch[:0]
		e.Wake() // a campaign may be finished now
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case o, ok := <-results:
			if !ok {
				flush()
				return errs
			}
			if len(batch) == 0 {
				timer.Reset(e.cfg.FlushAfter)
			}
			batch = append(batch, o)
			if len(batch) >= e.cfg.FlushEvery {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// worker builds and sends messages, reusing its buffers.
type worker struct {
	e     *Engine
	links Links
	// stop is closed when the engine is told to stop: from then on the
	// rows that reach the worker go back unsent (only a message already
	// inside its SMTP transaction finishes), so a stop takes as long as
	// one transaction, not the whole queue behind a slow relay.
	stop                      <-chan struct{}
	html, tracked, text, mime []byte
	extra                     [1]message.Field
	msg                       message.Message
	fields                    render.Fields
	holes                     holes
	scratch                   message.Scratch
}

// holes fills a spliced message's holes from one reader's fields.
type holes struct {
	text, html *render.Cut
	f          *render.Fields
}

func (h *holes) AppendHole(dst []byte, part, i int) []byte {
	if part == 0 {
		return h.text.AppendHole(dst, i, h.f)
	}
	return h.html.AppendHole(dst, i, h.f)
}

// personal sets the worker's fields and message to d's: all of it but the
// bodies. web is the campaign's web version. A zero date means now.
func (w *worker) personal(run *campaignRun, d model.Delivery, date time.Time, web string) {
	name := validator.ReaderName(d.Name)
	w.fields = render.Fields{
		Name:           name,
		UnsubscribeURL: w.links.Unsubscribe(d.SubscriberID, d.CampaignID),
		PreferencesURL: w.links.Preferences(d.SubscriberID),
		WebURL:         web,
		FeedbackURL:    w.links.Feedback(d.SubscriberID, d.CampaignID),
	}
	msgID := message.ID(d.CampaignID, d.SubscriberID, run.domain)
	w.extra[0] = message.Field{Key: PostmarkMetadata, Value: msgID}
	w.msg = message.Message{
		// A name with a line break (from any source) must not fail the
		// message: it is folded onto one line; one holding a link is left
		// out (validator.ReaderName).
		To:             message.Address{Name: name, Email: d.Email},
		MessageID:      msgID,
		Date:           date,
		UnsubscribeURL: w.fields.UnsubscribeURL,
		Headers:        w.extra[:],
	}
}

// buildSpliced appends d's message spliced from v's runs encoded once,
// with only the reader's own values encoded.
func (w *worker) buildSpliced(dst []byte, run *campaignRun, v *variantRun, d model.Delivery, date time.Time) ([]byte, error) {
	w.personal(run, d, date, run.web)
	if run.tracking && !run.anonymous {
		w.fields.Click = w.links.Click(d.SubscriberID, d.CampaignID, "")
		w.fields.Open = w.links.Open(d.SubscriberID, d.CampaignID)
		w.fields.Hidden = w.links.Hidden(d.SubscriberID, d.CampaignID)
	}
	w.holes = holes{text: &v.text, html: &v.html, f: &w.fields}
	return v.spliced.Append(dst, &w.msg, &w.holes, &w.scratch)
}

// buildWhole appends d's message built whole: its HTML and text filled
// in, the HTML tracked, then encoded and signed (Config.WholeMessages).
func (w *worker) buildWhole(dst []byte, run *campaignRun, v *variantRun, d model.Delivery, date time.Time) ([]byte, error) {
	w.personal(run, d, date, w.links.Web(d.CampaignID))
	w.html = v.email.AppendHTML(w.html[:0], w.fields)
	body := w.html
	if run.tracking {
		who := d.SubscriberID
		if run.anonymous {
			who = 0 // the same tracking URLs for every reader
		}
		click := w.links.Click(who, d.CampaignID, "")
		w.tracked = track(w.tracked[:0], w.html, run.links,
			func(target string) string { return click + url.QueryEscape(target) }, w.links.Open(who, d.CampaignID), w.links.Hidden(who, d.CampaignID))
		body = w.tracked
	}
	w.text = v.email.AppendText(w.text[:0], w.fields)
	w.msg.Text, w.msg.HTML = w.text, body
	return v.template.Append(dst, &w.msg)
}

func (w *worker) send(j job) store.Outcome {
	e, d := w.e, j.d
	out := store.Outcome{ID: d.ID, Attempts: d.Attempts, Email: d.Email}
	if why := w.holdBack(j); why != "" {
		return w.giveBack(out, why)
	}
	if e.cfg.Now().Sub(j.claimedAt) > e.cfg.Lease/2 {
		// Waited so long in the queue (a slow relay, a rate limit) that
		// its lease may run out while sending, and another worker may
		// claim it: give it back unsent instead.
		return w.giveBack(out, "given back unsent: waited too long for a worker")
	}
	v, ok := j.run.pick(d.Variant)
	if !ok {
		return w.giveBack(out, "given back unsent: the A/B test's winner is not known on this node yet")
	}
	var err error
	if e.cfg.WholeMessages {
		w.mime, err = w.buildWhole(w.mime[:0], j.run, v, d, time.Time{})
	} else {
		w.mime, err = w.buildSpliced(w.mime[:0], j.run, v, d, time.Time{})
	}
	if err != nil {
		out.Status, out.Reply = model.DeliveryFailed, "message not built: "+err.Error()
		return out
	}
	// The last look before the SMTP transaction: a pause, a cancel or a
	// stop that came while the message was built keeps it unsent.
	if why := w.holdBack(j); why != "" {
		return w.giveBack(out, why)
	}
	// The send gets its own deadline, not Run's context: a message handed
	// to a worker is finished even while the engine shuts down. So the
	// mailer may send it with its commands (KeepToEnd).
	ctx, cancel := context.WithTimeout(mailer.KeepToEnd(context.Background()), 5*time.Minute)
	defer cancel()
	err = j.run.sender.Send(ctx, mailer.Envelope{From: e.cfg.Bounce.Address(d.SubscriberID, d.CampaignID, j.run.bounce), To: d.Email}, w.mime)
	return e.outcome(out, d, err)
}

// holdBack says why j must not be sent now, or "": its campaign was
// paused or cancelled, or the engine is stopping.
func (w *worker) holdBack(j job) string {
	if j.run.halted.Load() {
		return "given back unsent: the campaign was paused or cancelled"
	}
	select {
	case <-w.stop:
		return "given back unsent: Herald was stopping"
	default:
		return ""
	}
}

// giveBack returns a claimed row unsent without counting a try: to
// pending, or, for a retry (a row tried before), to deferred and due at
// once, so it still shows as the retry it is.
func (w *worker) giveBack(out store.Outcome, why string) store.Outcome {
	out.Status, out.Uncount, out.Reply = model.DeliveryPending, true, why
	if out.Attempts > 1 { // the claim counted one; the row had been tried
		out.Status, out.RetryAt = model.DeliveryDeferred, w.e.cfg.Now()
	}
	return out
}

// outcome turns a send result into a ledger outcome: sent; deferred with
// exponential backoff after a temporary failure, failed after MaxAttempts;
// failed after a permanent one, suppressing the address on a hard bounce.
func (e *Engine) outcome(out store.Outcome, d model.Delivery, err error) store.Outcome {
	if err == nil {
		out.Status, out.Reply = model.DeliverySent, "250 accepted"
		return out
	}
	var me *mailer.Error
	reply := err.Error()
	if errors.As(err, &me) {
		reply = me.Reply()
	}
	out.Reply = reply
	if me != nil && (me.Stage == mailer.StageConnect || me.Stage == mailer.StageLimit) {
		// No relay took the message (down, out of rotation, over a limit):
		// not this recipient's try. Retry soon without using one up, so an
		// outage does not fail the list.
		out.Status, out.Uncount, out.RetryAt = model.DeliveryDeferred, true, e.cfg.Now().Add(e.cfg.RetryBase)
		// And hold claiming back a while: the rest of the list would only
		// fail the same way.
		e.relayDownUntil.Store(e.cfg.Now().Add(min(e.cfg.RetryBase, 10*time.Second)).UnixNano())
		return out
	}
	switch mailer.Classify(err) {
	case mailer.HardBounce:
		out.Status, out.Suppress = model.DeliveryFailed, model.SuppressHardBounce
	case mailer.Permanent:
		out.Status = model.DeliveryFailed
	default:
		if d.Attempts >= e.cfg.MaxAttempts {
			out.Status = model.DeliveryFailed
			out.Reply = fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, reply)
			return out
		}
		delay := min(e.cfg.RetryBase<<(d.Attempts-1), time.Hour)
		out.Status, out.RetryAt = model.DeliveryDeferred, e.cfg.Now().Add(delay)
	}
	return out
}
