package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	seriespkg "github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
)

// deskRecent is how many recent editions the desk looks at to mark items
// already used.
const deskRecent = 10

// zone is the newsroom's time zone, for showing times (UTC when unset or
// unreadable).
func (a *Admin) zone(ctx context.Context) *time.Location {
	loc, err := seriespkg.Zone(ctx, a.d.Store)
	if err != nil {
		a.d.Log.Warn("newsroom time zone", "err", err)
		return time.UTC
	}
	return loc
}

// deskView is the desk panel in the composer.
type deskView struct {
	Query   string
	Items   []model.FeedItem
	Sources int
	Recent  int
	Run     *model.SeriesRun
	Series  *model.Series
	SlotAt  string // the run's slot in the newsroom's zone
}

// deskPanel reads the desk's recent items (matching q) and the series run
// the edition is the draft of, if any.
func (a *Admin) deskPanel(ctx context.Context, e *model.Edition, q string) (*deskView, error) {
	v := &deskView{Query: q, Recent: deskRecent}
	srcs, err := a.d.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	v.Sources = len(srcs)
	if v.Sources > 0 {
		if v.Items, err = a.d.Store.SourceItems(ctx, store.ItemFilter{Query: q, Limit: 30}); err != nil {
			return nil, err
		}
		recent, err := a.d.Store.ListEditions(ctx, store.EditionFilter{Limit: deskRecent + 1})
		if err != nil {
			return nil, err
		}
		others := recent[:0]
		for _, r := range recent {
			if r.ID != e.ID && len(others) < deskRecent {
				others = append(others, r)
			}
		}
		source.MarkUsed(v.Items, others)
	}
	run, err := a.d.Store.RunOfEdition(ctx, e.ID)
	switch {
	case err == nil:
		v.Run = run
		if v.Series, err = a.d.Store.Series(ctx, run.SeriesID); err != nil {
			return nil, err
		}
		v.SlotAt = run.SlotAt.In(a.zone(ctx)).Format("Mon 2 Jan 15:04 MST")
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	return v, nil
}

// applyDeskOp applies a desk button of the composer to e: an item added as
// a card, pick or brief ("desk-card:ID"), or a pasted link unfurled into a
// card or a pick ("desk-unfurl:card"). It returns the anchor to show and a
// message for the editor when the op could not be done.
func (a *Admin) applyDeskOp(r *http.Request, e *model.Edition, op string) (anchor, problem string) {
	ctx := r.Context()
	kind, arg, _ := strings.Cut(strings.TrimPrefix(op, "desk-"), ":")
	switch kind {
	case "search":
		return "", ""
	case "card", "pick", "brief":
		id, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return "", a.lang(r).T("admin.composer.msg.not_on_desk")
		}
		it, err := a.d.Store.SourceItem(ctx, id)
		if err != nil {
			return "", a.lang(r).T("admin.composer.msg.not_on_desk")
		}
		return addToEdition(e, kind, it), ""
	case "unfurl":
		raw := strings.TrimSpace(r.FormValue("desk_url"))
		if raw == "" {
			return "", a.lang(r).T("admin.composer.msg.paste_first")
		}
		page, err := a.d.Unfurl.Unfurl(ctx, raw)
		if err != nil {
			return "", a.lang(r).T("admin.composer.msg.unfurl_failed", "Reason", err.Error())
		}
		it := model.FeedItem{URL: page.URL, Title: page.Title, Author: page.Author, Publication: page.Publication,
			Own: arg == "card", Summary: page.Description}
		if it.Title == "" {
			it.Title = page.URL
		}
		k := "pick"
		if arg == "card" {
			k = "card"
		}
		return addToEdition(e, k, it), ""
	}
	return "", ""
}

// addToEdition adds it to the first section of the kind (adding one when
// the edition has none) and returns the anchor of that section.
func addToEdition(e *model.Edition, kind string, it model.FeedItem) string {
	k := map[string]model.SectionKind{"card": model.KindCards, "pick": model.KindPicks, "brief": model.KindBriefs}[kind]
	at := -1
	for i, s := range e.Sections {
		if s.Kind == k {
			at = i
			break
		}
	}
	if at < 0 {
		e.Sections = append(e.Sections, model.Section{Kind: k})
		at = len(e.Sections) - 1
	}
	s := &e.Sections[at]
	switch k {
	case model.KindCards:
		s.Cards = append(s.Cards, seriespkg.Card(it))
	case model.KindPicks:
		s.Picks = append(s.Picks, seriespkg.Pick(it))
	case model.KindBriefs:
		s.Briefs = append(s.Briefs, seriespkg.Brief(it))
	}
	return fmt.Sprintf("#s%d", at)
}

// editionReady marks the series draft an edition is ready to go at its
// slot, or back to draft.
func (a *Admin) editionReady(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/editions/%d", id)
	ready := r.FormValue("ready") != "no"
	run, err := seriespkg.MarkReady(ctx, a.d.Store, id, ready, identity(r).User.Email)
	var notReady *seriespkg.NotReadyError
	switch {
	case errors.Is(err, seriespkg.ErrNotADraft):
		return a.redirect(w, r, back, a.lang(r).T("admin.composer.msg.not_series"), true)
	case errors.As(err, &notReady):
		return a.redirect(w, r, back, a.lang(r).T("admin.composer.msg.fix_before_ready"), true)
	case errors.Is(err, seriespkg.ErrSent):
		return a.redirect(w, r, back, a.lang(r).T("admin.composer.msg.already_sent"), true)
	case err != nil:
		return err
	}
	msg := a.lang(r).T("admin.composer.msg.ready", "At", run.SlotAt.In(a.zone(ctx)).Format("15:04 MST"))
	if !ready {
		msg = a.lang(r).T("admin.composer.msg.unready")
	}
	return a.redirect(w, r, back, msg, false)
}

// sources lists the desk's feeds, with a form to add one.
func (a *Admin) sources(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	srcs, err := a.d.Store.Sources(ctx)
	if err != nil {
		return err
	}
	// What readers did with each source's links over the last eight weeks.
	figures, err := engage.SourceFigures(ctx, a.d.Store, a.d.Now().AddDate(0, 0, -56))
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "sources", a.lang(r).T("admin.series.sources_title"), "sources", map[string]any{"Sources": srcs, "Zone": a.zone(ctx), "Figures": figures})
	return nil
}

func (a *Admin) sourceCreate(w http.ResponseWriter, r *http.Request) error {
	l := a.lang(r)
	minutes, _ := strconv.Atoi(r.FormValue("interval"))
	src, err := source.Check(r.Context(), a.d.Unfurl, r.FormValue("name"), r.FormValue("url"), r.FormValue("publication"), r.FormValue("own") == "on", minutes)
	if err != nil {
		return a.redirect(w, r, "/admin/sources", err.Error(), true)
	}
	if err := a.d.Store.CreateSource(r.Context(), src); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a.redirect(w, r, "/admin/sources", l.T("admin.series.source_exists"), true)
		}
		return err
	}
	return a.redirect(w, r, "/admin/sources", l.T("admin.series.source_added", "Name", src.Name), false)
}

func (a *Admin) sourcePoll(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := &source.Poller{Store: a.d.Store, Client: a.d.Unfurl.Client(), Log: a.d.Log}
	added, problem, err := p.PollNow(r.Context(), id)
	if err != nil {
		return err
	}
	if problem != "" {
		return a.redirect(w, r, "/admin/sources", a.lang(r).T("admin.series.source_unreadable", "Problem", problem), true)
	}
	return a.redirect(w, r, "/admin/sources", a.lang(r).N("admin.series.source_read", added, "Count", added), false)
}

func (a *Admin) sourceDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSource(r.Context(), id); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/sources", a.lang(r).T("admin.series.source_removed"), false)
}

// seriesRow is a series with what the list page shows about it.
type seriesRow struct {
	model.Series
	Days string
	Next string // the next slot, in the newsroom's zone
}

// dayKeys are the catalog keys of the days of the week, Sunday first
// (time.Weekday's order).
var dayKeys = []string{"admin.series.sun", "admin.series.mon", "admin.series.tue", "admin.series.wed",
	"admin.series.thu", "admin.series.fri", "admin.series.sat"}

// dayNames are the days of the week in l, Sunday first.
func dayNames(l *i18n.Localizer) []string {
	out := make([]string, len(dayKeys))
	for i, k := range dayKeys {
		out[i] = l.T(k)
	}
	return out
}

func (a *Admin) seriesList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l := a.lang(r)
	all, err := a.d.Store.AllSeries(ctx)
	if err != nil {
		return err
	}
	loc := a.zone(ctx)
	rows := make([]seriesRow, len(all))
	for i, sr := range all {
		rows[i] = seriesRow{Series: sr, Days: days(sr.Weekdays, l), Next: nextSlot(sr, a.d.Now(), loc)}
	}
	data, err := a.seriesForm(ctx, &model.Series{SlotTime: "18:00", Active: true, RemindBefore: time.Hour,
		Weekdays: []time.Weekday{1, 2, 3, 4, 5}}, l)
	if err != nil {
		return err
	}
	data["Series"], data["Zone"] = rows, loc
	a.page(w, r, http.StatusOK, "series_list", l.T("admin.series.title"), "series", data)
	return nil
}

func days(ds []time.Weekday, l *i18n.Localizer) string {
	var out []string
	names := dayNames(l)
	for _, d := range ds {
		out = append(out, names[d])
	}
	return strings.Join(out, " ")
}

func nextSlot(sr model.Series, now time.Time, loc *time.Location) string {
	for i := 0; i < 8; i++ {
		at, runs := seriespkg.SlotOn(sr, now.AddDate(0, 0, i), loc)
		if runs && at.After(now) {
			return zonedTime(at, loc)
		}
	}
	return "—"
}

// seriesForm is what the series form shows: the series, its template as
// lines, and the lists and sources to choose from.
func (a *Admin) seriesForm(ctx context.Context, sr *model.Series, l *i18n.Localizer) (map[string]any, error) {
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return nil, err
	}
	srcs, err := a.d.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	chosen := map[int64]bool{}
	for _, id := range sr.ListIDs {
		chosen[id] = true
	}
	onDay := map[int]bool{}
	for _, d := range sr.Weekdays {
		onDay[int(d)] = true
	}
	return map[string]any{"S": sr, "Lists": lists, "Chosen": chosen, "Sources": srcs, "OnDay": onDay,
		"DayNames": dayNames(l), "Skeleton": SkeletonText(sr.Template), "Remind": int(sr.RemindBefore / time.Minute)}, nil
}

func (a *Admin) seriesPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sr, err := a.d.Store.Series(ctx, id)
	if err != nil {
		return err
	}
	runs, err := a.d.Store.SeriesRuns(ctx, id, 30)
	if err != nil {
		return err
	}
	data, err := a.seriesForm(ctx, sr, a.lang(r))
	if err != nil {
		return err
	}
	loc := a.zone(ctx)
	data["Runs"], data["Zone"], data["Next"] = runs, loc, nextSlot(*sr, a.d.Now(), loc)
	a.page(w, r, http.StatusOK, "series", sr.Name, "series", data)
	return nil
}

// readSeries reads the series form into sr; the error is for the editor.
func readSeries(r *http.Request, sr *model.Series) error {
	f := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	sr.Name, sr.SlotTime, sr.From, sr.RemindTo = f("name"), f("slot_time"), f("from"), f("remind_to")
	sr.Slot = model.Slot(f("slot"))
	sr.Automatic, sr.Active = r.FormValue("automatic") == "on", r.FormValue("active") == "on"
	sr.Weekdays, sr.ListIDs = nil, nil
	for d := range 7 {
		if r.FormValue(fmt.Sprintf("day%d", d)) == "on" {
			sr.Weekdays = append(sr.Weekdays, time.Weekday(d))
		}
	}
	for _, v := range r.Form["list"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			sr.ListIDs = append(sr.ListIDs, id)
		}
	}
	sr.SourceID, _ = strconv.ParseInt(f("source"), 10, 64)
	minutes, _ := strconv.Atoi(f("remind_before"))
	sr.RemindBefore = time.Duration(minutes) * time.Minute
	tmpl, err := ParseSkeleton(r.FormValue("skeleton"))
	if err != nil {
		return err
	}
	tmpl.Subject, tmpl.Preheader, tmpl.Public = f("subject"), f("preheader"), r.FormValue("public") == "on"
	sr.Template = tmpl
	return seriespkg.Check(sr)
}

func (a *Admin) seriesCreate(w http.ResponseWriter, r *http.Request) error {
	sr := &model.Series{}
	l := a.lang(r)
	if err := r.ParseForm(); err != nil {
		return badRequest("%s", l.T("admin.series.form_unreadable"))
	}
	if err := readSeries(r, sr); err != nil {
		return a.redirect(w, r, "/admin/series", err.Error(), true)
	}
	if err := a.d.Store.CreateSeries(r.Context(), sr); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a.redirect(w, r, "/admin/series", l.T("admin.series.name_taken"), true)
		}
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/series/%d", sr.ID), l.T("admin.series.created", "Name", sr.Name), false)
}

func (a *Admin) seriesSave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sr, err := a.d.Store.Series(r.Context(), id)
	if err != nil {
		return err
	}
	l := a.lang(r)
	if err := r.ParseForm(); err != nil {
		return badRequest("%s", l.T("admin.series.form_unreadable"))
	}
	back := fmt.Sprintf("/admin/series/%d", id)
	if err := readSeries(r, sr); err != nil {
		return a.redirect(w, r, back, err.Error(), true)
	}
	if err := a.d.Store.UpdateSeries(r.Context(), sr); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a.redirect(w, r, back, l.T("admin.series.name_taken"), true)
		}
		return err
	}
	return a.redirect(w, r, back, l.T("admin.series.saved"), false)
}

func (a *Admin) seriesDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.d.Store.DeleteSeries(r.Context(), id); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/series", a.lang(r).T("admin.series.removed"), false)
}

// SkeletonText writes a template's sections one a line, as the series
// form edits them: "kind: Title", and for text sections "text: Title |
// fixed text".
func SkeletonText(e model.Edition) string {
	var b strings.Builder
	for _, s := range e.Sections {
		fmt.Fprintf(&b, "%s: %s", s.Kind, s.Title)
		if s.Kind == model.KindText && s.Text != nil && s.Text.Body != "" {
			fmt.Fprintf(&b, " | %s", strings.ReplaceAll(s.Text.Body, "\n", " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseSkeleton reads the lines SkeletonText writes.
func ParseSkeleton(text string) (model.Edition, error) {
	e := model.Edition{Sections: []model.Section{}}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kind, rest, _ := strings.Cut(line, ":")
		k := model.SectionKind(strings.ToLower(strings.TrimSpace(kind)))
		if !k.Valid() {
			return e, fmt.Errorf("Line %d of the sections: %q is not a section kind (lead, cards, briefs, picks or text).", n+1, strings.TrimSpace(kind))
		}
		title, fixed, _ := strings.Cut(rest, "|")
		s := model.Section{Kind: k, Title: strings.TrimSpace(title)}
		switch k {
		case model.KindLead:
			s.Lead = &model.Lead{}
		case model.KindText:
			s.Text = &model.Text{Body: strings.TrimSpace(fixed)}
		}
		e.Sections = append(e.Sections, s)
	}
	return e, nil
}

func (a *Admin) settingsZone(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.FormValue("zone"))
	if name == "" {
		name = "UTC"
	}
	if _, err := time.LoadLocation(name); err != nil || name == "Local" {
		return a.redirect(w, r, "/admin/settings#zone", fmt.Sprintf("%q is not a time zone Herald knows; use a name like Europe/London.", name), true)
	}
	if err := a.d.Store.PutSetting(r.Context(), seriespkg.ZoneSetting, name); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#zone", "The newsroom's time zone is now "+name+".", false)
}
