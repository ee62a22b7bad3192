package admin

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/doctor"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/validator"
)

type dkimView struct {
	Source, Domain, Selector, Name, Record, Split string
}

func (a *Admin) dkimView(ctx context.Context) (*dkimView, error) {
	d, err := a.d.Settings.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	src := a.d.Settings.KeySource()
	if d == nil {
		return nil, nil
	}
	rec, err := message.DNSRecord(d.Key)
	if err != nil {
		return nil, err
	}
	return &dkimView{Source: src, Domain: d.Domain, Selector: d.Selector, Name: message.DNSName(d.Selector, d.Domain),
		Record: rec, Split: message.SplitTXT(rec)}, nil
}

func (a *Admin) settings(w http.ResponseWriter, r *http.Request) error {
	return a.settingsPage(w, r, http.StatusOK, nil, "", nil)
}

// settingsPage shows the settings, the publication's form filled with in
// (nil: as saved), the test copy's address testTo, and errs beside their
// fields and above the page (status 422 then).
func (a *Admin) settingsPage(w http.ResponseWriter, r *http.Request, status int, in *model.Publication, testTo string, errs fieldErrors) error {
	ctx := r.Context()
	pub, err := a.publication(ctx)
	if err != nil {
		return err
	}
	if in != nil {
		pub = *in
	}
	tr, err := settings.LoadTracking(ctx, a.d.Store)
	if err != nil {
		return err
	}
	dk, err := a.dkimView(ctx)
	if err != nil {
		return err
	}
	var checks []doctor.Check
	if r.URL.Query().Get("dns") != "" {
		if checks, err = a.domainChecks(ctx); err != nil {
			return err
		}
	}
	tested, err := settings.SenderTested(ctx, a.d.Store)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	for _, s := range pub.Sections {
		titles[string(s.Kind)] = s.Title
	}
	if testTo == "" {
		testTo = identity(r).User.Email
	}
	a.page(w, r, status, "settings", a.lang(r).T("admin.nav.settings"), "settings", map[string]any{
		"Pub": pub, "Titles": titles, "Tracking": tr, "DKIM": dk, "Relays": a.relayRows(), "Outbox": a.d.Outbox != nil,
		"Changes": a.relayChanges(), "Health": a.d.RelayStats != nil,
		"Kinds": []string{"lead", "cards", "briefs", "picks", "text"}, "Zone": a.zone(ctx).String(),
		"Checks": checks, "ChecksOK": doctor.AllOK(checks), "Errors": errs, "DefaultFrom": a.d.From, "TestTo": testTo,
		"Tested": tested, "CanTest": a.d.Sender != nil, "BaseURLGuessed": a.baseURLGuessed(),
	})
	return nil
}

// baseURLGuessed reports whether the configuration sets no base_url (the
// public address links in mail are built on).
func (a *Admin) baseURLGuessed() bool { return a.d.BaseURL == "" || a.d.BaseURLGuessed }

// domainChecks looks up the sending domain's DNS records (package doctor,
// as herald doctor does) for the From address, relays and DKIM key in use.
func (a *Admin) domainChecks(ctx context.Context) ([]doctor.Check, error) {
	key, err := a.d.Settings.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	opts, err := doctor.For(a.d.From, a.d.Relays, key, a.d.BounceDomain, a.d.DNSResolver)
	if err != nil {
		return []doctor.Check{{Name: "From", Status: doctor.Fail, Detail: err.Error(), Fix: "set from in the configuration to an address such as News <news@example.com>"}}, nil
	}
	return doctor.Run(ctx, opts), nil
}

// relayRow is one configured relay with how it is doing on this node.
type relayRow struct {
	mailer.RelayConfig
	Known bool // Stats found: the columns below mean something
	mailer.RelayStats
}

// State says in words whether the relay takes mail now.
func (r relayRow) State() string {
	switch r.Breaker {
	case mailer.BreakerOpen:
		return "out of rotation"
	case mailer.BreakerHalfOpen:
		return "on trial"
	}
	return "in rotation"
}

func (a *Admin) relayRows() []relayRow {
	stats := map[string]mailer.RelayStats{}
	if a.d.RelayStats != nil {
		for _, s := range a.d.RelayStats() {
			stats[s.Name] = s
		}
	}
	rows := make([]relayRow, len(a.d.Relays))
	for i, c := range a.d.Relays {
		s, ok := stats[c.Name]
		rows[i] = relayRow{RelayConfig: c, Known: ok, RelayStats: s}
	}
	return rows
}

func (a *Admin) relayChanges() []mailer.RotationEvent {
	if a.d.RelayChanges == nil {
		return nil
	}
	return a.d.RelayChanges()
}

func (a *Admin) settingsPublication(w http.ResponseWriter, r *http.Request) error {
	f := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	// The time zone has its own form (settingsZone); a time_zone posted
	// here sets it too, and none leaves it as it is.
	pub := model.Publication{Name: f("name"), SiteURL: f("site_url"), LogoURL: f("logo_url"), Language: f("language"),
		PostalAddress: f("postal_address"), TimeZone: f("time_zone"), Colors: model.Colors{Accent: f("accent"), Text: f("text"), Background: f("background")},
		CreditPrefix: f("credit_prefix"), AskFeedback: r.FormValue("ask_feedback") == "on", From: f("from"), ReplyTo: f("reply_to")}
	for _, k := range []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks, model.KindText} {
		if r.FormValue("use_"+string(k)) == "on" {
			pub.Sections = append(pub.Sections, model.SectionDefault{Kind: k, Title: f("title_" + string(k))})
		}
	}
	l := a.lang(r)
	// Every problem at once, each beside its field, nothing typed lost.
	err := validator.Publication(pub)
	if err == nil {
		if _, rerr := render.New(pub, render.Options{ThemeDir: a.d.ThemeDir, ArchiveURL: a.archiveURL()}); rerr != nil {
			return a.settingsPage(w, r, http.StatusUnprocessableEntity, &pub, "", fieldErrors{"site_url": l.T("admin.settings.render_failed")})
		}
		err = settings.SavePublication(r.Context(), a.d.Store, pub)
	}
	if errs := problems(l, err); errs != nil {
		return a.settingsPage(w, r, http.StatusUnprocessableEntity, &pub, "", errs)
	}
	if err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings", l.T("admin.settings.publication_saved"), false)
}

// settingsTest sends a short test copy from the publication's sender (its
// From and Reply-To as saved, else the configured From) to an address,
// through the transport campaigns use, and records that it went out: the
// proof the first-run checklist asks for.
func (a *Admin) settingsTest(w http.ResponseWriter, r *http.Request) error {
	ctx, l := r.Context(), a.lang(r)
	to := strings.TrimSpace(r.FormValue("test_to"))
	if err := validator.Email("test_to", to); err != nil {
		return a.settingsPage(w, r, http.StatusUnprocessableEntity, nil, to, problems(l, err))
	}
	if a.d.Sender == nil {
		return a.settingsPage(w, r, http.StatusConflict, nil, to, fieldErrors{"test_to": l.T("admin.settings.test_no_transport")})
	}
	pub, err := a.publication(ctx)
	if err != nil {
		return err
	}
	c := &model.Campaign{}
	if err := settings.FillSender(ctx, a.d.Store, c, a.d.From); err != nil {
		return err
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return a.settingsPage(w, r, http.StatusUnprocessableEntity, nil, to, fieldErrors{"from": validator.New("from", "admin.validator.from").In(l)})
	}
	dkim, err := a.d.Settings.SigningKey(ctx)
	if err != nil {
		return err
	}
	// Herald's own words, in the publication's language: it is mail.
	ml := i18n.For(pub.Language)
	subject := ml.T("admin.settings.test_subject", "Name", pub.Name)
	body := ml.T("admin.settings.test_body", "From", c.From, "ReplyTo", cmp.Or(c.ReplyTo, c.From))
	msg, err := delivery.SenderTestMessage(c.From, c.ReplyTo, dkim, to, subject, body+"\n")
	if err != nil {
		return err
	}
	if err := a.d.Sender.Send(ctx, mailer.Envelope{From: a.d.Bounce.Address(0, 0, from.Address), To: to}, msg); err != nil {
		a.d.Log.Warn("sender test failed", "to", to, "err", err)
		return a.settingsPage(w, r, http.StatusBadGateway, nil, to, fieldErrors{"test_to": l.T("admin.settings.test_refused")})
	}
	if err := settings.MarkSenderTested(ctx, a.d.Store, a.d.Now()); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#sender", l.T("admin.settings.test_sent", "To", to, "From", c.From), false)
}

func (a *Admin) settingsTracking(w http.ResponseWriter, r *http.Request) error {
	t := settings.Tracking{Opens: r.FormValue("opens") == "on", Clicks: r.FormValue("clicks") == "on", Anonymous: r.FormValue("anonymous") == "on"}
	if err := settings.SaveTracking(r.Context(), a.d.Store, t, a.d.Now()); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#tracking", a.lang(r).T("admin.settings.tracking_saved"), false)
}

func (a *Admin) dkimGenerate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	alg := r.FormValue("algorithm")
	if alg != "rsa" {
		alg = "ed25519"
	}
	sel, dom := strings.TrimSpace(r.FormValue("selector")), strings.ToLower(strings.TrimSpace(r.FormValue("domain")))
	if !validator.IsSlug(sel) || !strings.Contains(dom, ".") || strings.ContainsAny(dom, " /@") {
		return a.redirect(w, r, "/admin/settings#dkim", a.lang(r).T("admin.settings.dkim_needs"), true)
	}
	pem, err := message.GenerateKey(alg)
	if err != nil {
		return err
	}
	if err := settings.SaveDKIM(ctx, a.d.Store, pem, sel, dom); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#dkim", a.lang(r).T("admin.settings.dkim_generated_flash"), false)
}

// relayTest connects to a relay (configured, by name, or a URL typed in),
// says EHLO, upgrades to TLS and authenticates as configured, and quits:
// everything but sending. An HTTP API relay is reached (TCP and TLS) and
// left.
func (a *Admin) relayTest(w http.ResponseWriter, r *http.Request) error {
	var rc mailer.RelayConfig
	found := false
	if name := r.FormValue("relay"); name != "" {
		for _, c := range a.d.Relays {
			if c.Name == name {
				rc, found = c, true
			}
		}
	} else if u := strings.TrimSpace(r.FormValue("url")); u != "" {
		c, err := mailer.ParseRelay(u)
		if err != nil {
			return a.redirect(w, r, "/admin/settings#relays", a.lang(r).T("admin.settings.relay_url_bad"), true)
		}
		rc, found = c, true
	}
	if !found {
		return a.redirect(w, r, "/admin/settings#relays", a.lang(r).T("admin.settings.relay_choose"), true)
	}
	if rc.Name == "" {
		rc.Name = rc.Addr()
	}
	// At most mailer.ProbeTimeout: a silent port does not hold the page.
	if err := mailer.Probe(r.Context(), rc); err != nil {
		return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: %s", rc.Name, err), true)
	}
	if rc.Kind != mailer.KindSMTP && rc.Kind != "" {
		return a.redirect(w, r, "/admin/settings#relays", a.lang(r).T("admin.settings.relay_api_reached", "Name", rc.Name, "Kind", rc.Kind.Title(), "Address", rc.Addr()), false)
	}
	return a.redirect(w, r, "/admin/settings#relays", a.lang(r).T("admin.settings.relay_ok", "Name", rc.Name), false)
}
