package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/media"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

func (a *Admin) editions(w http.ResponseWriter, r *http.Request) error {
	p := pager{Offset: intParam(r, "offset", 0), Limit: 25, L: a.lang(r)}
	eds, err := a.d.Store.ListEditions(r.Context(), store.EditionFilter{Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return err
	}
	if p.Total, err = a.d.Store.CountEditions(r.Context()); err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "editions", a.lang(r).T("admin.editions.title"), "editions", map[string]any{"Editions": eds, "Pager": p})
	return nil
}

// newEdition is a fresh draft: today's date, the publication's default
// sections, each with one empty item to fill in, and "Untitled edition"
// in the editor's language.
func (a *Admin) newEdition(ctx context.Context, l *i18n.Localizer) (*model.Edition, error) {
	pub, err := a.publication(ctx)
	if err != nil {
		return nil, err
	}
	now := a.d.Now().UTC()
	slot := model.SlotMorning
	if now.Hour() >= 12 {
		slot = model.SlotEvening
	}
	e := &model.Edition{Date: now.Format("2006-01-02"), Slot: slot, Subject: l.T("admin.composer.untitled")}
	kinds := []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks}
	if len(pub.Sections) > 0 {
		kinds = kinds[:0]
		for _, s := range pub.Sections {
			kinds = append(kinds, s.Kind)
		}
	}
	for _, k := range kinds {
		e.Sections = append(e.Sections, emptySection(k))
	}
	return e, nil
}

func emptySection(k model.SectionKind) model.Section {
	s := model.Section{Kind: k}
	addItem(&s)
	return s
}

// addItem appends an empty item to a section of a kind with items; lead
// and text sections get their one body.
func addItem(s *model.Section) {
	switch s.Kind {
	case model.KindLead:
		if s.Lead == nil {
			s.Lead = &model.Lead{}
		}
	case model.KindText:
		if s.Text == nil {
			s.Text = &model.Text{}
		}
	case model.KindCards:
		s.Cards = append(s.Cards, model.Card{})
	case model.KindBriefs:
		s.Briefs = append(s.Briefs, model.Brief{})
	case model.KindPicks:
		s.Picks = append(s.Picks, model.Pick{})
	}
}

func (a *Admin) editionCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	e, err := a.newEdition(ctx, a.lang(r))
	if err != nil {
		return err
	}
	base := edition.DefaultSlug(e.Date, e.Slot)
	for i := 1; ; i++ {
		e.Slug = base
		if i > 1 {
			e.Slug = fmt.Sprintf("%s-%d", base, i)
		}
		err = a.d.Store.CreateEdition(ctx, e, identity(r).User.Email)
		if !errors.Is(err, store.ErrConflict) || i > 50 {
			break
		}
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d", e.ID), a.lang(r).T("admin.composer.msg.created"), false)
}

// editable loads an edition the identity may change: authors only drafts.
func (a *Admin) editable(r *http.Request) (*model.Edition, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	e, err := a.d.Store.GetEdition(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if e.Status == model.EditionPublished && !identity(r).Can(auth.Publish) {
		return nil, &userError{status: http.StatusForbidden, msg: a.lang(r).T("admin.composer.msg.published_locked")}
	}
	return e, nil
}

func (a *Admin) composer(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	return a.showComposer(w, r, e)
}

// composerView is what the composer template gets.
type composerView struct {
	E          *model.Edition
	Kinds      []model.SectionKind
	Problems   []composerProblem
	HeroInLead int // index of the section that shows the hero fields, -1: the header
	CanPublish bool
	Revisions  int
	// Desk is the panel of items from sources, and the series run this
	// edition is the draft of.
	Desk *deskView
	// Stale: the form was not saved because someone else saved the
	// edition after it was opened; it shows the reader's unsaved copy.
	Stale bool
	// Precheck: the pre-send checks are set up, so the panel shows.
	Precheck bool
	// Lists are the lists the previews can wear the brand of; PreviewList
	// the one they do (the edition's campaign's list; 0: the publication).
	Lists       []store.ListStats
	PreviewList int64
	// MaxImage is the largest picture accepted, in bytes, for the
	// script to refuse one before sending it.
	MaxImage int64
	// TestTo is the address test copies went to last (the user's own
	// by default); CanTest: a mail transport is there to send them.
	TestTo  string
	CanTest bool
	// Words are the script's messages in the page's language; Kinds the
	// names of the kinds of section.
	Words     map[string]string
	KindNames map[model.SectionKind]string
}

// composerWords are the catalog keys of the composer script's messages,
// by the names the script knows them by; {name} marks what it fills in.
var composerWords = map[string]string{
	"saving": "admin.composer.js.saving", "saved": "admin.composer.js.saved", "unsaved": "admin.composer.js.unsaved",
	"not_saved": "admin.composer.js.not_saved", "not_saved_plain": "admin.composer.js.not_saved_plain",
	"leave_unsaved": "admin.composer.js.leave_unsaved", "image_too_large": "admin.composer.js.image_too_large",
	"uploading": "admin.composer.js.uploading", "uploaded": "admin.composer.js.uploaded", "upload_failed": "admin.composer.js.upload_failed",
	"alt_placeholder": "admin.composer.js.alt_placeholder", "checking": "admin.composer.js.checking",
	"check_failed": "admin.composer.js.check_failed", "to_look_at": "admin.composer.js.to_look_at",
	"nothing_to_look_at": "admin.composer.js.nothing_to_look_at", "fetched": "admin.composer.js.fetched",
	"restored": "admin.composer.js.restored", "restored_check": "admin.composer.js.restored_check",
}

func scriptWords(l *i18n.Localizer) map[string]string {
	m := make(map[string]string, len(composerWords))
	for name, key := range composerWords {
		m[name] = l.T(key)
	}
	return m
}

// showStale shows the composer with the reader's unsaved copy e after a
// save that lost the race to someone else's: its revision becomes the
// current one, so saving again replaces the other version deliberately.
func (a *Admin) showStale(w http.ResponseWriter, r *http.Request, e *model.Edition) error {
	cur, err := a.d.Store.GetEdition(r.Context(), e.ID)
	if err != nil {
		return err
	}
	e.Revision, e.Status = cur.Revision, cur.Status
	return a.renderComposer(w, r, http.StatusConflict, e, true)
}

func (a *Admin) showComposer(w http.ResponseWriter, r *http.Request, e *model.Edition) error {
	return a.renderComposer(w, r, http.StatusOK, e, false)
}

func (a *Admin) renderComposer(w http.ResponseWriter, r *http.Request, status int, e *model.Edition, stale bool) error {
	problems := composerProblems(a.lang(r), e, edition.Validate(e))
	revs, err := a.d.Store.EditionRevisions(r.Context(), e.ID)
	if err != nil {
		return err
	}
	v := composerView{E: e, Problems: problems, HeroInLead: -1, CanPublish: identity(r).Can(auth.Publish), Revisions: len(revs), Stale: stale, Precheck: a.d.Precheck != nil,
		Kinds:    []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks, model.KindText},
		MaxImage: media.MaxBytes, CanTest: a.d.Sender != nil, TestTo: identity(r).User.Email, Words: scriptWords(a.lang(r)),
		KindNames: map[model.SectionKind]string{}}
	for k := range kindKeys {
		v.KindNames[k] = kindName(a.lang(r), k)
	}
	q := r.URL.Query().Get("q")
	if r.Method == http.MethodPost {
		q = r.FormValue("desk_q")
	}
	if v.Desk, err = a.deskPanel(r.Context(), e, strings.TrimSpace(q)); err != nil {
		return err
	}
	for i, s := range e.Sections {
		if s.Kind == model.KindLead {
			v.HeroInLead = i
			break
		}
	}
	if v.Lists, err = a.d.Store.Lists(r.Context()); err != nil {
		return err
	}
	if v.PreviewList, err = a.d.Store.EditionListID(r.Context(), e.ID); err != nil {
		return err
	}
	a.page(w, r, status, "composer", cmp.Or(e.Subject, a.lang(r).T("admin.composer.untitled")), "editions", v)
	return nil
}

// composerSave saves the form and applies a structural change (add,
// remove or move a section or an item) named by the op button.
func (a *Admin) composerSave(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	imgErr, err := a.readEditionForm(r, e)
	if err != nil {
		return err
	}
	op := r.FormValue("op")
	var anchor, problem, query string
	if strings.HasPrefix(op, "desk-") {
		anchor, problem = a.applyDeskOp(r, e, op)
		if q := strings.TrimSpace(r.FormValue("desk_q")); q != "" {
			query = "?q=" + url.QueryEscape(q)
		}
		if anchor == "" {
			anchor = "#desk"
		}
	} else {
		anchor = applyOp(e, op)
	}
	if err := a.d.Store.UpdateEdition(r.Context(), e, identity(r).User.Email); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d", e.ID), a.lang(r).T("admin.composer.msg.slug_taken"), true)
		}
		if errors.Is(err, store.ErrStale) {
			return a.showStale(w, r, e)
		}
		return err
	}
	if imgErr != "" {
		problem = imgErr
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d%s%s", e.ID, query, anchor), problem, problem != "")
}

// errSuperseded: an autosave arrived after a later one of the same page
// was saved; what it carries is in that one.
var errSuperseded = errors.New("superseded by a later save of the same page")

// tabSaves remembers, for each composer page (a token the page makes when
// it loads), the revision its last autosave wrote and that save's number.
// A page's saves can cross on the way (the save sent when the page is
// left goes while an autosave is still running, both from the same
// revision): the one that arrives second is not someone else's, so it is
// saved on top of the first when it is the later of the two, and is
// already contained in it otherwise. Anyone else's save in between still
// makes it stale. The memory is this process's; a page whose saves reach
// another process is told stale as before, and keeps its browser copy.
type pageSaves struct {
	mu sync.Mutex
	m  map[string]pageSave
}

type pageSave struct {
	id       int64
	rev, seq int
	at       time.Time
}

// update saves e with UpdateEdition for the page tab, whose save number
// seq counts up with its edits.
func (p *pageSaves) update(ctx context.Context, st *store.Store, e *model.Edition, author, tab string, seq int) error {
	if tab == "" || len(tab) > 64 {
		return st.UpdateEdition(ctx, e, author)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pageSave{}
	}
	base := e.Revision
	err := st.UpdateEdition(ctx, e, author)
	if last, ok := p.m[tab]; errors.Is(err, store.ErrStale) && ok && last.id == e.ID && base > 0 && base < last.rev {
		if seq <= last.seq {
			e.Revision = last.rev
			return errSuperseded
		}
		e.Revision = last.rev
		err = st.UpdateEdition(ctx, e, author) // stale still if anyone else saved since
	}
	if err != nil {
		return err
	}
	now := time.Now()
	p.m[tab] = pageSave{id: e.ID, rev: e.Revision, seq: seq, at: now}
	for k, v := range p.m { // pages left long ago
		if now.Sub(v.at) > 12*time.Hour {
			delete(p.m, k)
		}
	}
	return nil
}

// autosave saves the form and answers with JSON for the composer script.
func (a *Admin) autosave(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	imgErr, err := a.readEditionForm(r, e)
	if err != nil {
		return err
	}
	l := a.lang(r)
	at := a.d.Now().UTC().Format("15:04:05")
	resp := map[string]any{"saved": true, "at": at, "state": l.T("admin.composer.state.saved_at", "Time", at)}
	seq, _ := strconv.Atoi(r.FormValue("seq"))
	err = a.tabSaves.update(r.Context(), a.d.Store, e, identity(r).User.Email, r.FormValue("tab"), seq)
	if errors.Is(err, errSuperseded) {
		// A later save of this same page is in already: nothing is lost.
		resp["revision"] = e.Revision
		err = nil
	}
	switch {
	case err == nil:
		resp["revision"] = e.Revision
	case errors.Is(err, store.ErrConflict):
		resp = map[string]any{"saved": false, "error": l.T("admin.composer.msg.slug_taken")}
	case errors.Is(err, store.ErrStale):
		// Autosave never overwrites: the editor decides with Save now.
		resp = map[string]any{"saved": false, "stale": true, "error": l.T("admin.composer.state.stale")}
	default:
		return err
	}
	resp["problems"] = composerProblems(l, e, edition.Validate(e))
	if imgErr != "" {
		resp["image_error"] = imgErr
	}
	if e.Hero != nil {
		resp["hero"] = e.Hero.URL
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(resp)
}

func (a *Admin) editionPublish(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := a.d.Store.GetEdition(r.Context(), id)
	if err != nil {
		return err
	}
	to := model.EditionPublished
	if r.FormValue("status") == string(model.EditionDraft) {
		to = model.EditionDraft
	}
	if to == model.EditionPublished {
		if ps := edition.Validate(e); len(ps) > 0 {
			return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d", id), a.lang(r).T("admin.composer.msg.fix_first"), true)
		}
	}
	if err := a.d.Store.SetEditionStatus(r.Context(), id, to); err != nil {
		return err
	}
	msg := a.lang(r).T("admin.composer.msg.published")
	if to == model.EditionDraft {
		msg = a.lang(r).T("admin.composer.msg.back_to_draft")
	}
	return a.redirect(w, r, fmt.Sprintf("/admin/editions/%d", id), msg, false)
}

// readEditionForm replaces e's content with the composer form's fields.
// Field names: s{i}_kind, s{i}_title, s{i}_count; lead and text bodies as
// s{i}_body; items as s{i}_{j}_{field}. A hero picture that is refused
// leaves the hero as it was and comes back as imgErr, in the reader's
// words, so the rest of the form is saved all the same.
func (a *Admin) readEditionForm(r *http.Request, e *model.Edition) (imgErr string, err error) {
	l := a.lang(r)
	if err := r.ParseMultipartForm(16 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return "", badRequest("%s", l.T("admin.composer.msg.unreadable", "Limit", megabytes(maxEditionBody)))
	}
	f := func(k string) string { return strings.TrimSpace(strings.ReplaceAll(r.FormValue(k), "\r\n", "\n")) }
	// A slug Herald made follows the date and slot (edition.FollowSlot).
	e.Slug = edition.FollowSlot(f("slug"), e.Date, e.Slot, f("date"), model.Slot(f("slot")))
	e.Date, e.Slot = f("date"), model.Slot(f("slot"))
	e.Subject, e.Preheader = f("subject"), f("preheader")
	e.Public = r.FormValue("public") == "on"
	// The revision the form was opened at; a form without one (an old
	// page) saves unchecked.
	e.Revision, _ = strconv.Atoi(r.FormValue("revision"))
	hero := &model.Image{URL: f("hero_url"), Alt: f("hero_alt"), Credit: f("hero_credit"), CreditPrefix: f("hero_credit_prefix")}
	if w := f("hero_width"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil {
			return "", badRequest("%s", l.T("admin.composer.msg.width"))
		}
		hero.Width = n
	}
	if url, err := a.saveUpload(r, "hero_file"); err != nil {
		if imgErr = a.uploadProblem(l, err); imgErr == "" {
			return "", err
		}
	} else if url != "" {
		hero.URL = url
	}
	e.Hero = nil
	if hero.URL != "" || hero.Alt != "" || hero.Credit != "" || hero.CreditPrefix != "" {
		e.Hero = hero
	}
	n, _ := strconv.Atoi(r.FormValue("sections"))
	n = min(n, 50)
	var secs []model.Section
	for i := range n {
		p := fmt.Sprintf("s%d_", i)
		kind := model.SectionKind(f(p + "kind"))
		if !kind.Valid() {
			continue
		}
		s := model.Section{Kind: kind, Title: f(p + "title")}
		if r.FormValue(p+"notitle") == "on" {
			// "No heading" wins over a title typed before it was ticked.
			s.Title, s.NoTitle = "", true
		}
		count, _ := strconv.Atoi(r.FormValue(p + "count"))
		count = min(count, 100)
		switch kind {
		case model.KindLead:
			s.Lead = &model.Lead{Headline: f(p + "headline"), Body: f(p + "body"),
				Byline: model.Byline{Name: f(p + "byline_name"), Role: f(p + "byline_role")}}
		case model.KindText:
			s.Text = &model.Text{Body: f(p + "body")}
		case model.KindCards:
			for j := range count {
				q := fmt.Sprintf("%s%d_", p, j)
				s.Cards = append(s.Cards, model.Card{Author: f(q + "author"), Headline: f(q + "headline"), URL: f(q + "url"), CTA: f(q + "cta")})
			}
		case model.KindBriefs:
			for j := range count {
				q := fmt.Sprintf("%s%d_", p, j)
				s.Briefs = append(s.Briefs, model.Brief{Headline: f(q + "headline"), Body: f(q + "body")})
			}
		case model.KindPicks:
			for j := range count {
				q := fmt.Sprintf("%s%d_", p, j)
				s.Picks = append(s.Picks, model.Pick{Title: f(q + "title"), Verb: f(q + "verb"), Author: f(q + "author"),
					Publication: f(q + "publication"), URL: f(q + "url")})
			}
		}
		secs = append(secs, s)
	}
	e.Sections = secs
	return imgErr, nil
}

// saveUpload stores the picture uploaded in field, if any, and returns
// its public URL, or "" when the field holds no file.
func (a *Admin) saveUpload(r *http.Request, field string) (string, error) {
	if r.MultipartForm == nil {
		return "", nil
	}
	fh := r.MultipartForm.File[field]
	if len(fh) == 0 || fh[0].Size == 0 {
		return "", nil
	}
	url, _, err := a.storeUpload(r, fh[0])
	return url, err
}

// uploadProblem words the media package's refusal of a picture, or ""
// for an error that is not one.
func (a *Admin) uploadProblem(l *i18n.Localizer, err error) string {
	var tl *media.TooLarge
	switch {
	case errors.As(err, &tl) && tl.Pixels > 0:
		return l.T("admin.composer.image.too_many_pixels", "Width", tl.Width, "Height", tl.Height, "Limit", tl.MaxPix/1_000_000)
	case errors.As(err, &tl):
		return l.T("admin.composer.image.too_large", "Size", megabytes(tl.Size), "Limit", megabytes(tl.Limit))
	case errors.Is(err, media.ErrType):
		return l.T("admin.composer.image.type")
	}
	return ""
}

// megabytes writes a size in bytes as megabytes, to one decimal under ten.
func megabytes(n int64) string {
	mb := float64(n) / (1 << 20)
	if mb < 10 && n%(1<<20) != 0 {
		return strconv.FormatFloat(mb, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(mb, 'f', 0, 64) + " MB"
}

// applyOp applies "add-section:kind", "remove-section:i", "up-section:i",
// "down-section:i", "add-item:i", "remove-item:i:j", "up-item:i:j" or
// "down-item:i:j", and returns the anchor to return to.
func applyOp(e *model.Edition, op string) string {
	parts := strings.Split(op, ":")
	num := func(k int) int {
		if k >= len(parts) {
			return -1
		}
		n, err := strconv.Atoi(parts[k])
		if err != nil {
			return -1
		}
		return n
	}
	i, j := num(1), num(2)
	okSec := i >= 0 && i < len(e.Sections)
	switch parts[0] {
	case "add-section":
		if len(parts) == 2 && model.SectionKind(parts[1]).Valid() {
			e.Sections = append(e.Sections, emptySection(model.SectionKind(parts[1])))
			return fmt.Sprintf("#s%d", len(e.Sections)-1)
		}
	case "remove-section":
		if okSec {
			e.Sections = slices.Delete(e.Sections, i, i+1)
			return "#sections"
		}
	case "up-section":
		if okSec && i > 0 {
			e.Sections[i-1], e.Sections[i] = e.Sections[i], e.Sections[i-1]
			return fmt.Sprintf("#s%d", i-1)
		}
	case "down-section":
		if okSec && i < len(e.Sections)-1 {
			e.Sections[i+1], e.Sections[i] = e.Sections[i], e.Sections[i+1]
			return fmt.Sprintf("#s%d", i+1)
		}
	case "add-item":
		if okSec {
			addItem(&e.Sections[i])
			return fmt.Sprintf("#s%d", i)
		}
	case "remove-item", "up-item", "down-item":
		if okSec {
			moveItem(&e.Sections[i], parts[0], j)
			return fmt.Sprintf("#s%d", i)
		}
	}
	return ""
}

func moveItem(s *model.Section, op string, j int) {
	switch s.Kind {
	case model.KindCards:
		s.Cards = move(s.Cards, op, j)
	case model.KindBriefs:
		s.Briefs = move(s.Briefs, op, j)
	case model.KindPicks:
		s.Picks = move(s.Picks, op, j)
	}
}

func move[T any](xs []T, op string, j int) []T {
	if j < 0 || j >= len(xs) {
		return xs
	}
	switch op {
	case "remove-item":
		return slices.Delete(xs, j, j+1)
	case "up-item":
		if j > 0 {
			xs[j-1], xs[j] = xs[j], xs[j-1]
		}
	case "down-item":
		if j < len(xs)-1 {
			xs[j+1], xs[j] = xs[j], xs[j+1]
		}
	}
	return xs
}

// previewFields are the per-subscriber fields previews show.
func (a *Admin) previewFields(e *model.Edition) render.Fields {
	base := a.d.BaseURL
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	return render.Fields{Name: "Alex", UnsubscribeURL: base + "/unsubscribe/preview", PreferencesURL: base + "/preferences/preview",
		WebURL: base + "/archive/" + e.Slug, FeedbackURL: base + "/feedback/preview"}
}

// preview renders the saved edition (or one of its kept revisions) as the
// reader gets it: format email (HTML), text or web. Previews are shown in
// sandboxed frames.
func (a *Admin) preview(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	l := a.lang(r)
	// ?rev=N: a revision from the history, as it was saved.
	if v := r.URL.Query().Get("rev"); v != "" {
		rev, err := strconv.Atoi(v)
		if err != nil {
			return badRequest("%s", l.T("admin.composer.msg.revision_number"))
		}
		if e, err = a.revisionOf(r, e, rev); err != nil {
			return err
		}
	}
	// The preview is a document of its own: no scripts, images from anywhere.
	w.Header().Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:")
	w.Header().Set("Cache-Control", "no-store")
	// An unfinished edition previews with placeholders for what is
	// missing; the composer lists the problems beside it.
	if d, ok := previewDraft(l, e, a.d.Now().UTC().Format(time.DateOnly)); ok {
		e = d
	} else {
		return previewProblems(w, l, e, edition.Validate(e))
	}
	// ?list=ID: as that list's readers get it (its brand and language).
	var list *model.List
	if id, _ := strconv.ParseInt(r.URL.Query().Get("list"), 10, 64); id > 0 {
		if list, err = a.d.Store.ListByID(r.Context(), id); err != nil {
			return err
		}
	}
	rd, _, err := a.renderer(r.Context(), list)
	if err != nil {
		return err
	}
	switch r.PathValue("format") {
	case "email":
		em, err := rd.Email(e)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(em.AppendHTML(nil, a.previewFields(e)))
	case "text":
		em, err := rd.Email(e)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><style>body{margin:0;background:#fbfbf8}pre{font:13px/1.55 ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;white-space:pre-wrap;padding:22px 26px;margin:0;color:#1f2328}</style><pre>%s</pre>`,
			template.HTMLEscapeString(string(em.AppendText(nil, a.previewFields(e)))))
	case "web":
		b, err := rd.Web(e)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
	return nil
}

func previewProblems(w http.ResponseWriter, l *i18n.Localizer, e *model.Edition, ps edition.Problems) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString(`<!doctype html><meta charset="utf-8"><style>body{font:14px/1.5 system-ui,sans-serif;color:#6b4710;padding:28px;background:#fffdf6}h1{font-size:16px;margin:0 0 10px}li{margin:4px 0}</style>`)
	b.WriteString(`<h1>` + template.HTMLEscapeString(l.T("admin.composer.preview_blocked")) + `</h1><ul>`)
	for _, p := range composerProblems(l, e, ps) {
		b.WriteString("<li>" + template.HTMLEscapeString(p.Text) + "</li>")
	}
	b.WriteString("</ul>")
	_, err := io.WriteString(w, b.String())
	return err
}
