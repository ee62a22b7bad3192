// Package series runs recurring briefings. A series ("Evening briefing",
// weekdays at 18:00 in the newsroom's time zone) gets a draft each slot day
// built from its template; an editor fills it in and marks it ready, and at
// the slot Herald schedules its campaign (the delivery engine's leader
// starts it). When the slot nears and the draft is not ready, a reminder
// goes to the series' reminder address. An automatic series (RSS-to-email)
// builds the day's edition itself at the slot from its source's items
// stored since the last send; with nothing new, nothing is sent.
//
// Contract: any node may run a Scheduler; a series is worked on by one node
// at a time (store.ClaimSeries), one run is recorded per series and day,
// and a run's campaign is created in the same transaction that marks it
// sent, so a day goes out at most once. Times come from Now, so tests run
// days in moments.
package series

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// ZoneSetting is the settings key holding Herald's one IANA time zone
// (the publication's TimeZone too).
const ZoneSetting = store.NewsroomZoneSetting

// Zone returns Herald's one time zone (store.TimeZone: the one local-time
// campaigns use too), UTC when it was never set.
func Zone(ctx context.Context, s *store.Store) (*time.Location, error) {
	name, err := s.TimeZone(ctx)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("the newsroom time zone %q is not known", name)
	}
	return loc, nil
}

// Reminder is a draft that is not ready as its slot nears.
type Reminder struct {
	Series  model.Series
	Run     model.SeriesRun
	Edition *model.Edition
	Zone    *time.Location
}

// Scheduler creates, reminds about and sends the days of every series.
type Scheduler struct {
	Store *store.Store
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Check runs every check a campaign passes before it is stored, and
	// fills in its sender where the series sets none
	// (delivery.SeriesCheck); a day whose campaign fails it sends nothing
	// and the series shows the problem. Required.
	Check func(ctx context.Context, c *model.Campaign, e *model.Edition) error
	// Remind sends a reminder; nil turns reminders off.
	Remind func(ctx context.Context, r Reminder) error
	// Every is how often Run ticks (default 30s).
	Every time.Duration
	Log   *slog.Logger
}

func (sc *Scheduler) now() time.Time {
	if sc.Now == nil {
		return time.Now()
	}
	return sc.Now()
}

func (sc *Scheduler) log() *slog.Logger {
	if sc.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return sc.Log
}

// Run ticks until ctx ends.
func (sc *Scheduler) Run(ctx context.Context) error {
	every := sc.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := sc.Tick(ctx); err != nil && ctx.Err() == nil {
			sc.log().Error("run series", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// leaseFor bounds how long a node may hold a series it is working on.
const leaseFor = 2 * time.Minute

// Tick does what is due now for every series this node can claim: create
// today's draft, remind, send a ready draft at its slot, or build and send
// an automatic series' edition.
func (sc *Scheduler) Tick(ctx context.Context) error {
	loc, err := Zone(ctx, sc.Store)
	if err != nil {
		return err
	}
	all, err := sc.Store.ClaimSeries(ctx, leaseFor)
	if err != nil {
		return err
	}
	var errs []error
	for _, sr := range all {
		if err := sc.tick(ctx, sr, loc); err != nil {
			errs = append(errs, fmt.Errorf("series %q: %w", sr.Name, err))
		}
		if err := sc.Store.ReleaseSeries(ctx, sr.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SlotOn returns the series' slot on the local day of t, and whether the
// series runs that day.
func SlotOn(sr model.Series, t time.Time, loc *time.Location) (time.Time, bool) {
	local := t.In(loc)
	hh, mm, err := ParseSlotTime(sr.SlotTime)
	if err != nil {
		return time.Time{}, false
	}
	runs := false
	for _, d := range sr.Weekdays {
		if d == local.Weekday() {
			runs = true
		}
	}
	y, m, d := local.Date()
	return time.Date(y, m, d, hh, mm, 0, 0, loc), runs
}

// ParseSlotTime reads "HH:MM" (24-hour clock).
func ParseSlotTime(s string) (int, int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, 0, fmt.Errorf("%q is not a time of day like 18:00", s)
	}
	return hh, mm, nil
}

func (sc *Scheduler) tick(ctx context.Context, sr model.Series, loc *time.Location) error {
	now := sc.now()
	slotAt, runs := SlotOn(sr, now, loc)
	if !runs {
		return nil
	}
	date := slotAt.Format("2006-01-02")
	run, err := sc.Store.SeriesRun(ctx, sr.ID, date)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if sr.Automatic {
		if run != nil || now.Before(slotAt) {
			return nil
		}
		return sc.sendAutomatic(ctx, sr, date, slotAt)
	}
	if run == nil {
		if !now.Before(slotAt) {
			return nil // the day's slot passed before the series had a draft
		}
		run = &model.SeriesRun{SeriesID: sr.ID, Date: date, SlotAt: slotAt}
		e := Draft(sr, slotAt)
		if err := sc.Store.CreateDraftRun(ctx, run, e); err != nil {
			return err
		}
		sc.log().Info("series draft created", "series", sr.Name, "date", date, "edition", e.ID)
	}
	switch run.Status {
	case model.RunDraft:
		if sc.Remind != nil && sr.RemindTo != "" && run.RemindedAt.IsZero() &&
			!now.Before(slotAt.Add(-sr.RemindBefore)) {
			e, err := sc.Store.GetEdition(ctx, run.EditionID)
			if err != nil {
				return err
			}
			if err := sc.Remind(ctx, Reminder{Series: sr, Run: *run, Edition: e, Zone: loc}); err != nil {
				return fmt.Errorf("send the reminder: %w", err)
			}
			return sc.Store.MarkRunReminded(ctx, run.ID)
		}
	case model.RunReady:
		if now.Before(slotAt) {
			return nil
		}
		return sc.sendReady(ctx, sr, run, now)
	}
	return nil
}

// sendReady schedules a ready draft's campaign for now.
func (sc *Scheduler) sendReady(ctx context.Context, sr model.Series, run *model.SeriesRun, now time.Time) error {
	e, err := sc.Store.GetEdition(ctx, run.EditionID)
	if err != nil {
		return err
	}
	if ps := edition.Validate(e); len(ps) > 0 {
		// Changed since it was marked ready: it goes back to the desk.
		sc.log().Warn("series draft not sendable; back to draft", "series", sr.Name, "date", run.Date, "problem", ps[0].String())
		return sc.Store.MarkRunReady(ctx, run.ID, false)
	}
	c, err := sc.campaign(ctx, sr, e, run.Date, now)
	if err != nil {
		return sc.refused(ctx, sr, run.Date, err)
	}
	if err := sc.Store.SendRun(ctx, run.ID, c); err != nil {
		return err
	}
	if sr.Problem != "" {
		if err := sc.Store.SetSeriesProblem(ctx, sr.ID, ""); err != nil {
			return err
		}
	}
	sc.log().Info("series edition scheduled", "series", sr.Name, "date", run.Date, "campaign", c.ID)
	return nil
}

// campaign is the campaign of one day of sr, checked as every campaign is
// (Check): From the series' own sender, else the list's brand, the
// publication's, the configured From (settings.FillSender).
func (sc *Scheduler) campaign(ctx context.Context, sr model.Series, e *model.Edition, date string, now time.Time) (*model.Campaign, error) {
	if sc.Check == nil {
		return nil, errors.New("the series scheduler has no campaign check")
	}
	c := &model.Campaign{Name: sr.Name + " " + date, EditionID: e.ID, ListIDs: sr.ListIDs, From: sr.From,
		SendAt: now, Tracking: true, PublishOnStart: true}
	if err := sc.Check(ctx, c, e); err != nil {
		return nil, err
	}
	return c, nil
}

// refused records why the day's campaign could not be made on the series
// (shown on its page; logged once, not at every tick) when err is the
// campaign's own problem, and returns any other error.
func (sc *Scheduler) refused(ctx context.Context, sr model.Series, date string, err error) error {
	var ve *validator.Error
	if !errors.As(err, &ve) {
		return err
	}
	problem := "the day's campaign cannot be made: " + err.Error()
	if problem == sr.Problem {
		return nil
	}
	sc.log().Error("series cannot send", "series", sr.Name, "date", date, "problem", problem)
	return sc.Store.SetSeriesProblem(ctx, sr.ID, problem)
}

// sendAutomatic builds the day's edition from the source's new items and
// schedules it, or records an empty day.
func (sc *Scheduler) sendAutomatic(ctx context.Context, sr model.Series, date string, slotAt time.Time) error {
	run := &model.SeriesRun{SeriesID: sr.ID, Date: date, SlotAt: slotAt}
	if sr.SourceID == 0 {
		return fmt.Errorf("an automatic series needs a source")
	}
	items, err := sc.Store.SourceItems(ctx, store.ItemFilter{SourceID: sr.SourceID, AfterID: sr.ItemCursor, Oldest: true, Limit: 100})
	if err != nil {
		return err
	}
	cursor := sr.ItemCursor
	var fresh []model.FeedItem
	for _, it := range items {
		cursor = max(cursor, it.ID)
		// The first send takes what arrived since the series was made, not
		// the feed's whole back catalogue.
		if sr.ItemCursor == 0 && it.FetchedAt.Before(sr.CreatedAt) {
			continue
		}
		fresh = append(fresh, it)
	}
	if len(fresh) == 0 {
		sc.log().Info("series has nothing new; nothing sent", "series", sr.Name, "date", date)
		return sc.Store.SendAutomaticRun(ctx, run, nil, nil, cursor)
	}
	e := Draft(sr, slotAt)
	Fill(e, fresh)
	if ps := edition.Validate(e); len(ps) > 0 {
		// Shown on the series page; logged once, not at every tick.
		problem := "the edition built from the feed's new items is not sendable: " + ps[0].String()
		if problem != sr.Problem {
			sc.log().Error("automatic series cannot send", "series", sr.Name, "date", date, "problem", problem)
			return sc.Store.SetSeriesProblem(ctx, sr.ID, problem)
		}
		return nil
	}
	c, err := sc.campaign(ctx, sr, e, date, sc.now())
	if err != nil {
		return sc.refused(ctx, sr, date, err)
	}
	if err := sc.Store.SendAutomaticRun(ctx, run, e, c, cursor); err != nil {
		return err
	}
	sc.log().Info("automatic series edition scheduled", "series", sr.Name, "date", date, "items", len(fresh), "campaign", c.ID)
	return nil
}

// Draft builds a series' edition for the day of slotAt from its template:
// the template's sections, titles and fixed text, its subject with
// "{date}" filled in, and a slug naming the day and the series.
func Draft(sr model.Series, slotAt time.Time) *model.Edition {
	var e model.Edition
	b, _ := json.Marshal(sr.Template) // a deep copy: the template is not shared
	_ = json.Unmarshal(b, &e)         // what Marshal just wrote reads back
	date := slotAt.Format("2006-01-02")
	e.ID, e.Revision, e.Status = 0, 0, model.EditionDraft
	e.Date, e.Slot = date, sr.Slot
	if e.Slot == "" {
		e.Slot = slotFor(slotAt.Hour())
	}
	e.Slug = date + "-" + Slugify(sr.Name)
	day := slotAt.Format("Monday 2 January 2006")
	e.Subject = strings.ReplaceAll(e.Subject, "{date}", day)
	if e.Subject == "" {
		e.Subject = sr.Name + ", " + day
	}
	e.Preheader = strings.ReplaceAll(e.Preheader, "{date}", day)
	if e.Sections == nil {
		e.Sections = []model.Section{}
	}
	return &e
}

// slotFor names the slot of an edition going out at hour (local).
func slotFor(hour int) model.Slot {
	switch {
	case hour < 11:
		return model.SlotMorning
	case hour < 15:
		return model.SlotMidday
	}
	return model.SlotEvening
}

// Fill adds items to an automatic edition: the publication's own as
// cards, others as picks, into the first section of that kind (one is
// added when there is none). Sections of the template left empty (a card,
// brief or pick section with no items, a lead or text section with no
// text) are dropped: nobody is there to fill them.
func Fill(e *model.Edition, items []model.FeedItem) {
	for _, it := range items {
		if it.Own {
			s := section(e, model.KindCards)
			s.Cards = append(s.Cards, Card(it))
		} else {
			s := section(e, model.KindPicks)
			s.Picks = append(s.Picks, Pick(it))
		}
	}
	kept := e.Sections[:0]
	for _, s := range e.Sections {
		empty := (s.Kind == model.KindCards && len(s.Cards) == 0) || (s.Kind == model.KindPicks && len(s.Picks) == 0) ||
			(s.Kind == model.KindBriefs && len(s.Briefs) == 0) ||
			(s.Kind == model.KindLead && (s.Lead == nil || strings.TrimSpace(s.Lead.Body) == "")) ||
			(s.Kind == model.KindText && (s.Text == nil || strings.TrimSpace(s.Text.Body) == ""))
		if !empty {
			kept = append(kept, s)
		}
	}
	e.Sections = kept
}

func section(e *model.Edition, k model.SectionKind) *model.Section {
	for i := range e.Sections {
		if e.Sections[i].Kind == k {
			return &e.Sections[i]
		}
	}
	e.Sections = append(e.Sections, model.Section{Kind: k})
	return &e.Sections[len(e.Sections)-1]
}

// Card makes a card from one of the publication's own items.
func Card(it model.FeedItem) model.Card {
	return model.Card{Author: it.Author, Headline: it.Title, URL: it.URL, CTA: "Read here"}
}

// Pick makes a pick from another publication's item.
func Pick(it model.FeedItem) model.Pick {
	pub := it.Publication
	if pub == "" {
		pub = it.SourceName
	}
	return model.Pick{Title: it.Title, Author: it.Author, Publication: pub, URL: it.URL}
}

// Brief makes a brief from an item: its title and summary.
func Brief(it model.FeedItem) model.Brief {
	body := it.Summary
	if body == "" {
		body = it.Title
	}
	return model.Brief{Headline: it.Title, Body: body}
}

// Slugify makes a URL-safe lowercase name: "Evening briefing" becomes
// "evening-briefing".
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "series"
	}
	return b.String()
}

// Check returns a sentence for the person when a series cannot run as
// it is.
func Check(sr *model.Series) error {
	switch {
	case sr.Name == "":
		return errors.New("Give the series a name.")
	case len(sr.Weekdays) == 0:
		return errors.New("Choose at least one day of the week.")
	case len(sr.ListIDs) == 0:
		return errors.New("Choose at least one list.")
	case sr.Automatic && sr.SourceID == 0:
		return errors.New("An automatic series needs a source to build its editions from.")
	case sr.RemindBefore < 0 || sr.RemindBefore > 24*time.Hour:
		return errors.New("Remind at most 24 hours (1440 minutes) before the slot.")
	}
	if _, _, err := ParseSlotTime(sr.SlotTime); err != nil {
		return errors.New("The time should be on the 24-hour clock, like 18:00.")
	}
	if sr.From != "" {
		if _, err := mail.ParseAddress(sr.From); err != nil {
			return errors.New("The From address should look like: The Courier <news@example.com>.")
		}
	}
	if sr.RemindTo != "" {
		if _, err := mail.ParseAddress(sr.RemindTo); err != nil {
			return errors.New("The reminder address is not an email address.")
		}
	}
	if strings.ContainsAny(sr.Template.Subject, "\r\n") {
		return errors.New("The subject must fit on one line.")
	}
	return nil
}
