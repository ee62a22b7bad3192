package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

// campaignCommands are the "herald campaign ..." verbs and "herald send".
func campaignCommands() []command {
	return []command{
		{"campaign create", "--edition ID|FILE --list SLUG|--segment NAME ... [--at TIME] [--name NAME] [--from ADDR] [--reply-to ADDR] [--via RELAY] [--no-tracking]", "create a campaign (scheduled with --at)", runCampaignCreate},
		{"campaign start", "ID [--yes] [--no-check]", "run the pre-send checks (confirm their warnings, or --yes), then freeze the edition, write the ledger and let the workers send", runCampaignStart},
		{"campaign pause", "ID", "stop sending (returns once no message is in flight)", campaignStatusCommand(delivery.Pause, model.CampaignPaused)},
		{"campaign resume", "ID", "continue a paused campaign from its ledger", campaignStatusCommand(delivery.Resume, model.CampaignSending)},
		{"campaign cancel", "ID", "stop a campaign for good", campaignStatusCommand(delivery.Cancel, model.CampaignCancelled)},
		{"campaign schedule", "ID --at TIME|--clear", "set when a draft or scheduled campaign starts ('herald serve' starts it then), or make it a draft again", runCampaignSchedule},
		{"campaign status", "ID", "show a campaign's progress", runCampaignStatus},
		{"campaign run", "ID [--relay smtp://HOST:PORT]", "send a campaign in the foreground until it is done (starting it if needed)", runCampaignRun},
		{"send", "--edition FILE --list SLUG [--list SLUG ...] [--relay smtp://HOST:PORT] | --test ADDRESS", "send an edition to lists now, with live progress", runSend},
	}
}

// listFlag collects repeated --list flags.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// campaignFlags are what create and send share.
type campaignFlags struct {
	lists            listFlag
	segments         listFlag
	localTime        string
	abSubjects       listFlag
	abPreheaders     listFlag
	abSample         int
	abWait           time.Duration
	abMetric         string
	name, from, repl string
	via              string
	noTracking       bool
}

func (e *env) registerCampaignFlags(fs *flag.FlagSet, cf *campaignFlags) {
	fs.Var(&cf.lists, "list", "a list to send to (repeat for several)")
	fs.Var(&cf.segments, "segment", "a saved segment to send to, by name (repeat for several; with or without --list)")
	fs.StringVar(&cf.localTime, "local-time", "", "send at this time of day (HH:MM) in each reader's zone (attribute tz, else the publication's)")
	fs.Var(&cf.abSubjects, "ab-subject", "an A/B test subject line (repeat: 2 to 4)")
	fs.Var(&cf.abPreheaders, "ab-preheader", "the preheader of the A/B subject line at the same position (optional)")
	fs.IntVar(&cf.abSample, "ab-sample", 20, "percent of the audience the A/B subject lines go to")
	fs.DurationVar(&cf.abWait, "ab-wait", 2*time.Hour, "how long after the start the A/B winner is chosen")
	fs.StringVar(&cf.abMetric, "ab-metric", "opens", "what chooses the A/B winner: opens or clicks (unique)")
	fs.StringVar(&cf.name, "name", "", "the campaign's name (default: the edition's subject)")
	fs.StringVar(&cf.from, "from", "", "From address, \"Name <address>\" (default: the configured from)")
	fs.StringVar(&cf.repl, "reply-to", "", "Reply-To address")
	fs.BoolVar(&cf.noTracking, "no-tracking", false, "no open pixel or click tracking")
	fs.StringVar(&cf.via, "via", "", "send only through this configured relay (by name), with no failover")
}

// newCampaign stores a campaign for edition ed to the named lists.
func (e *env) newCampaign(ctx context.Context, s *store.Store, ed *model.Edition, cf campaignFlags, at time.Time) (*model.Campaign, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if len(cf.lists) == 0 && len(cf.segments) == 0 {
		return nil, usageErrorf("--list or --segment is required (a campaign needs an audience)")
	}
	if cf.via != "" && !slices.ContainsFunc(cfg.Relays, func(r config.Relay) bool { return r.Name == cf.via }) {
		return nil, usageErrorf("--via %q: no relay has that name in the configuration", cf.via)
	}
	c := &model.Campaign{Name: cf.name, EditionID: ed.ID, From: cf.from, ReplyTo: cf.repl, Tracking: !cf.noTracking, SendAt: at, Relay: cf.via}
	if c.Name == "" {
		c.Name = ed.Subject
	}
	for _, slug := range cf.lists {
		l, err := listBySlug(ctx, s, slug)
		if err != nil {
			return nil, err
		}
		c.ListIDs = append(c.ListIDs, l.ID)
	}
	c.LocalTime = cf.localTime
	if len(cf.abSubjects) > 0 {
		if len(cf.abPreheaders) > len(cf.abSubjects) {
			return nil, usageErrorf("--ab-preheader was given %d times for %d --ab-subject", len(cf.abPreheaders), len(cf.abSubjects))
		}
		c.AB = &model.ABTest{SamplePercent: cf.abSample, Wait: cf.abWait, Metric: model.ABMetric(cf.abMetric)}
		for i, subj := range cf.abSubjects {
			v := model.Variant{Subject: subj}
			if i < len(cf.abPreheaders) {
				v.Preheader = cf.abPreheaders[i]
			}
			c.AB.Variants = append(c.AB.Variants, v)
		}
	}
	for _, name := range cf.segments {
		sg, err := segmentByName(ctx, s, name)
		if err != nil {
			return nil, err
		}
		c.SegmentIDs = append(c.SegmentIDs, sg.ID)
	}
	if err := delivery.CreateCampaign(ctx, s, c, cfg.From); err != nil {
		return nil, err
	}
	return c, nil
}

// editionArg loads the edition named by a stored ID, or stores the edition
// in a file (updating the stored one with the same slug, as a new revision).
func (e *env) editionArg(ctx context.Context, s *store.Store, arg string) (*model.Edition, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		ed, err := s.GetEdition(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no edition has the ID %d", id)
		}
		return ed, err
	}
	ed, err := e.parseEdition(arg)
	if err != nil {
		return nil, err
	}
	old, err := s.EditionBySlug(ctx, ed.Slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = s.CreateEdition(ctx, ed, "")
	case err == nil:
		ed.ID = old.ID
		err = s.UpdateEdition(ctx, ed, "")
	}
	return ed, err
}

func runCampaignCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("campaign create", "--edition ID|FILE --list SLUG|--segment NAME ... [--at TIME]")
	edArg := fs.String("edition", "", "a stored edition's ID, or an edition file")
	at := fs.String("at", "", "send time, RFC 3339 (2026-11-27T18:00:00Z) or local \"2006-01-02 15:04\"")
	var cf campaignFlags
	e.registerCampaignFlags(fs, &cf)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *edArg == "" {
		return usageErrorf("--edition is required")
	}
	var when time.Time
	if *at != "" {
		var err error
		if when, err = parseTime(*at); err != nil {
			return usageErrorf("--at %q: %v", *at, err)
		}
	}
	return e.withStore(ctx, func(s *store.Store) error {
		ed, err := e.editionArg(ctx, s, *edArg)
		if err != nil {
			return err
		}
		c, err := e.newCampaign(ctx, s, ed, cf, when)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, c.ID)
		if c.Status == model.CampaignScheduled {
			fmt.Fprintf(e.stderr, "campaign %d is scheduled for %s; 'herald serve' starts it then\n", c.ID, c.SendAt.Format(time.RFC3339))
		}
		return nil
	})
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
	if err != nil {
		return time.Time{}, errors.New("expected RFC 3339 (2026-11-27T18:00:00Z) or \"2026-11-27 18:00\"")
	}
	return t, nil
}

// campaignArg parses a campaign ID argument and loads the campaign.
func campaignArg(ctx context.Context, s *store.Store, arg string) (*model.Campaign, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return nil, usageErrorf("campaign ID %q must be a positive number", arg)
	}
	c, err := s.Campaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no campaign has the ID %d", id)
	}
	return c, err
}

func runCampaignStart(ctx context.Context, e *env, args []string) error {
	fs := e.flags("campaign start", "ID [--yes] [--no-check]")
	yes := fs.Bool("yes", false, "start even if the pre-send checks warn (they are printed); needed when not on a terminal")
	noCheck := fs.Bool("no-check", false, "start without the pre-send checks (no links fetched)")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withEngine(ctx, "", func(s *store.Store, eng *delivery.Engine) error {
		c, err := campaignArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if c.Status == model.CampaignDraft || c.Status == model.CampaignScheduled {
			// The admin's start dialog asks about the same earlier sends: a
			// second send of an edition to a list is most often a mistake.
			already, err := s.PriorSends(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, p := range already {
				fmt.Fprintf(e.stderr, "campaign %d: this edition already went to %s on %s (campaign %d, %q)\n",
					c.ID, p.List, p.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), p.ID, p.Name)
			}
			if len(already) > 0 {
				if err := e.confirm(*yes, fmt.Sprintf("Send campaign %d's edition again?", c.ID),
					fmt.Errorf("campaign %d %w: its edition already went there; pass --yes to send it again", c.ID, errNotConfirmed)); err != nil {
					return err
				}
			}
			if !*noCheck {
				if err := e.confirmStart(ctx, s, c.ID, *yes); err != nil {
					return err
				}
			}
		}
		ch, err := delivery.ChangeStatus(ctx, s, eng, c.ID, delivery.Start, time.Time{})
		if errors.Is(err, store.ErrBadTransition) {
			return fmt.Errorf("campaign %d is %s; only a draft or scheduled campaign can start", c.ID, c.Status)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "campaign %d started: %d recipients; 'herald serve' or 'herald campaign run %d' sends it\n", c.ID, ch.Recipients, c.ID)
		return nil
	})
}

// campaignStatusCommand is the command for act, which makes a campaign
// to (what it says when done).
func campaignStatusCommand(act delivery.Action, to model.CampaignStatus) func(ctx context.Context, e *env, args []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		fs := e.flags("campaign "+string(act), "ID")
		pos, err := parse(fs, args, 1)
		if err != nil {
			return err
		}
		s, err := e.openStore(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		c, err := campaignArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		// Pause and cancel return once no message of the campaign is in
		// flight on any node (a running `herald serve` sees the change
		// within a moment), so nothing goes out after this command ends.
		ch, err := delivery.ChangeStatus(ctx, s, nil, c.ID, act, time.Time{})
		if errors.Is(err, store.ErrBadTransition) {
			return fmt.Errorf("campaign %d is %s and cannot become %s", c.ID, c.Status, to)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "campaign %d is %s\n", c.ID, to)
		if ch.InFlight > 0 {
			fmt.Fprintf(e.stdout, "%d messages are still claimed by a node that did not answer; they go back unsent when their claim runs out\n", ch.InFlight)
		}
		return nil
	}
}

func runCampaignSchedule(ctx context.Context, e *env, args []string) error {
	fs := e.flags("campaign schedule", "ID --at TIME|--clear")
	at := fs.String("at", "", "send time, RFC 3339 (2026-11-27T18:00:00Z) or local \"2006-01-02 15:04\"")
	clearAt := fs.Bool("clear", false, "clear the send time: the campaign is a draft again")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if (*at == "") == !*clearAt {
		return usageErrorf("give --at TIME or --clear")
	}
	var when time.Time
	if *at != "" {
		if when, err = parseTime(*at); err != nil {
			return usageErrorf("--at %q: %v", *at, err)
		}
	}
	// With the engine 'herald serve' would start it with, a campaign that
	// could not start when its time comes (no base_url for a relay) is
	// refused now.
	return e.withEngine(ctx, "", func(s *store.Store, eng *delivery.Engine) error {
		c, err := campaignArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		_, err = delivery.ChangeStatus(ctx, s, eng, c.ID, delivery.Schedule, when)
		if errors.Is(err, store.ErrBadTransition) {
			return fmt.Errorf("campaign %d is %s; only a draft or scheduled campaign can be scheduled", c.ID, c.Status)
		} else if err != nil {
			return err
		}
		if when.IsZero() {
			fmt.Fprintf(e.stdout, "campaign %d is a draft\n", c.ID)
			return nil
		}
		fmt.Fprintf(e.stdout, "campaign %d is scheduled for %s; 'herald serve' starts it then\n", c.ID, when.UTC().Format(time.RFC3339))
		return nil
	})
}

func runCampaignStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flags("campaign status", "ID")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		c, err := campaignArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		p, err := s.CampaignProgress(ctx, c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "campaign %d %q: %s\nrecipients %d: sent %d, pending %d, sending %d, deferred %d, failed %d, skipped %d\n",
			c.ID, c.Name, c.Status, p.Total, p.Sent, p.Pending, p.Sending, p.Deferred, p.Failed, p.Skipped)
		if c.Problem != "" && !c.Status.Final() {
			fmt.Fprintf(e.stdout, "not sending: %s\n", c.Problem)
		}
		waiting, err := s.WaitingByHour(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, h := range waiting {
			fmt.Fprintf(e.stdout, "  waiting for %s local: %d due %s UTC\n", c.LocalTime, h.Rows, h.Hour.Format("2006-01-02 15:04"))
		}
		if c.AB != nil {
			results, held, err := s.ABResults(ctx, c.ID)
			if err != nil {
				return err
			}
			state := fmt.Sprintf("winner chosen after %s by unique %s; %d held for it", c.AB.Wait, c.AB.Metric, held)
			if c.ABWinner != 0 {
				state = fmt.Sprintf("variant %d won by unique %s; the other %d got it", c.ABWinner, c.AB.Metric, held)
			}
			fmt.Fprintf(e.stdout, "A/B test (%d%% sample): %s\n", c.AB.SamplePercent, state)
			for _, v := range results {
				fmt.Fprintf(e.stdout, "  %d %q: sample %d, sent %d, unique opens %d, unique clicks %d\n", v.Variant, v.Subject, v.Recipients, v.Sent, v.Opens, v.Clicks)
			}
		}
		fails, err := s.DeliveryFailures(ctx, c.ID, 10)
		if err != nil {
			return err
		}
		for _, f := range fails {
			fmt.Fprintf(e.stdout, "  failed %s: %s\n", f.Email, f.Reply)
		}
		return nil
	})
}

func runCampaignRun(ctx context.Context, e *env, args []string) error {
	fs := e.flags("campaign run", "ID [--relay smtp://HOST:PORT]")
	relay := fs.String("relay", "", "send through this relay URL (smtp://, postmark://, ...) instead of the configured ones")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withEngine(ctx, *relay, func(s *store.Store, eng *delivery.Engine) error {
		c, err := campaignArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		switch c.Status {
		case model.CampaignDraft, model.CampaignScheduled:
			// Also finishes a start that was interrupted part-way.
			if _, err := delivery.ChangeStatus(ctx, s, eng, c.ID, delivery.Start, time.Time{}); err != nil {
				return err
			}
		case model.CampaignPaused, model.CampaignCancelled:
			return fmt.Errorf("campaign %d is %s; resume it first", c.ID, c.Status)
		}
		return e.sendUntilDone(ctx, s, eng, c.ID)
	})
}

func runSend(ctx context.Context, e *env, args []string) error {
	fs := e.flags("send", "--edition FILE --list SLUG [--list SLUG ...] [--relay smtp://HOST:PORT] | --test ADDRESS")
	edArg := fs.String("edition", "", "an edition file, or a stored edition's ID")
	relay := fs.String("relay", "", "send through this relay URL (smtp://, postmark://, ...) instead of the configured ones")
	test := fs.String("test", "", "send one copy to this address instead of the lists")
	var cf campaignFlags
	e.registerCampaignFlags(fs, &cf)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *edArg == "" {
		return usageErrorf("--edition is required")
	}
	if *test != "" {
		return e.sendTest(ctx, *edArg, *relay, *test, cf)
	}
	return e.withEngine(ctx, *relay, func(s *store.Store, eng *delivery.Engine) error {
		ed, err := e.editionArg(ctx, s, *edArg)
		if err != nil {
			return err
		}
		c, err := e.newCampaign(ctx, s, ed, cf, time.Time{})
		if err != nil {
			return err
		}
		ch, err := delivery.ChangeStatus(ctx, s, eng, c.ID, delivery.Start, time.Time{})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "campaign %d: %d recipients (if interrupted, continue with 'herald campaign run %d')\n", c.ID, ch.Recipients, c.ID)
		return e.sendUntilDone(ctx, s, eng, c.ID)
	})
}

// withEngine opens the store and transport, builds the delivery engine and
// runs fn with them, closing everything after.
func (e *env) withEngine(ctx context.Context, relay string, fn func(*store.Store, *delivery.Engine) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		tr, desc, err := transport(cfg, relay, nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		e.log.Debug("mail transport", "via", desc)
		eng, err := e.engine(ctx, cfg, s, tr)
		if err != nil {
			return err
		}
		return fn(s, eng)
	})
}

// sendUntilDone runs the delivery engine in the foreground until the
// campaign is sent, showing live progress. It fails if the campaign is
// paused or cancelled meanwhile, or if the command is interrupted; the
// ledger keeps the position either way.
func (e *env) sendUntilDone(ctx context.Context, s *store.Store, eng *delivery.Engine, id int64) error {
	// Sending starts first: the count for the progress bar reads the whole
	// campaign, seconds for ten million rows.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	finish := func(err error) error {
		stop()
		if done == nil {
			return err
		}
		return errors.Join(err, <-done)
	}
	started := time.Now()
	p, err := s.CampaignProgress(ctx, id)
	if err != nil {
		return finish(err)
	}
	bar := progress.New(e.stderr, progress.Options{Description: fmt.Sprintf("campaign %d", id), Total: p.Total, Unit: "messages"})
	reported := p.Total - p.Pending - p.Sending - p.Deferred
	bar.Add(reported)
	// The status is read once a second (it is one row); counting the
	// ledger reads the whole campaign, so it waits as store.ProgressPause says.
	nextCount := time.Now().Add(store.ProgressPause(time.Since(started)))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	finishedSignal := eng.Finished()
	for {
		select {
		case <-finishedSignal:
			// The engine marked a campaign sent: look now, so the command
			// ends with its last outcome, not on the next tick.
		case <-ctx.Done():
			bar.Finish()
			return finish(fmt.Errorf("interrupted: campaign %d keeps its place; continue with 'herald campaign run %d'", id, id))
		case err := <-done:
			if errors.Is(err, store.ErrAnotherSender) {
				// herald serve sends from this database: follow its progress.
				fmt.Fprintf(e.stderr, "another herald process (herald serve) is sending campaign %d; showing its progress\n", id)
				done = nil
				continue
			}
			bar.Finish()
			return fmt.Errorf("delivery stopped: %w", err)
		case <-tick.C:
		}
		// Taken before the status is read: a campaign finished after this
		// read closes it.
		finishedSignal = eng.Finished()
		// The status first, then the counts: a campaign is marked sent only
		// once every row is final, so counts read after seeing "sent" are
		// the final ones (read the other way round, the last outcomes can
		// land in between).
		c, err := s.Campaign(ctx, id)
		if err != nil {
			continue
		}
		if c.Status == model.CampaignSent || !time.Now().Before(nextCount) {
			counted := time.Now()
			p, err = s.CampaignProgress(ctx, id)
			if err != nil {
				continue
			}
			nextCount = time.Now().Add(store.ProgressPause(time.Since(counted)))
			finished := p.Total - p.Pending - p.Sending - p.Deferred
			bar.Add(finished - reported)
			reported = finished
			bar.SetStatus(fmt.Sprintf("sent %d, deferred %d, failed %d", p.Sent, p.Deferred, p.Failed))
		}
		switch c.Status {
		case model.CampaignSent:
			bar.Finish()
			fmt.Fprintf(e.stdout, "campaign %d sent: %d delivered, %d failed, %d skipped of %d\n", id, p.Sent, p.Failed, p.Skipped, p.Total)
			return finish(nil)
		case model.CampaignPaused, model.CampaignCancelled:
			bar.Finish()
			return finish(fmt.Errorf("campaign %d was %s", id, c.Status))
		}
		if c.Problem != "" && done != nil {
			// This process cannot send it as configured (an engine that
			// can clears the problem as it prepares the campaign).
			bar.Finish()
			return finish(fmt.Errorf("campaign %d: %s", id, c.Problem))
		}
	}
}
