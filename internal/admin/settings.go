package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/doctor"
	"github.com/herald-news/herald/internal/edition"
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
	ctx := r.Context()
	pub, err := a.publication(ctx)
	if err != nil {
		return err
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
	titles := map[string]string{}
	for _, s := range pub.Sections {
		titles[string(s.Kind)] = s.Title
	}
	a.page(w, r, http.StatusOK, "settings", "Settings", "settings", map[string]any{
		"Pub": pub, "Titles": titles, "Tracking": tr, "DKIM": dk, "Relays": a.relayRows(), "Outbox": a.d.Outbox != nil,
		"Changes": a.relayChanges(), "Health": a.d.RelayStats != nil,
		"Kinds": []string{"lead", "cards", "briefs", "picks", "text"}, "Zone": a.zone(ctx).String(),
		"Checks": checks, "ChecksOK": doctor.AllOK(checks),
	})
	return nil
}

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
		CreditPrefix: f("credit_prefix"), AskFeedback: r.FormValue("ask_feedback") == "on"}
	for _, k := range []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks, model.KindText} {
		if r.FormValue("use_"+string(k)) == "on" {
			pub.Sections = append(pub.Sections, model.SectionDefault{Kind: k, Title: f("title_" + string(k))})
		}
	}
	if err := validator.Colors(pub.Colors); err != nil {
		return a.redirect(w, r, "/admin/settings", err.Error(), true)
	}
	if pub.Name == "" {
		return a.redirect(w, r, "/admin/settings", "The publication needs a name.", true)
	}
	if utf8.RuneCountInString(pub.CreditPrefix) > edition.MaxPrefix || strings.ContainsFunc(pub.CreditPrefix, unicode.IsControl) {
		return a.redirect(w, r, "/admin/settings", fmt.Sprintf("The photo credit prefix is at most %d characters, on one line.", edition.MaxPrefix), true)
	}
	if pub.TimeZone != "" {
		if _, err := model.LoadZone(pub.TimeZone); err != nil {
			return a.redirect(w, r, "/admin/settings", "Time zone: "+err.Error()+".", true)
		}
	}
	if _, err := render.New(pub, render.Options{ThemeDir: a.d.ThemeDir, ArchiveURL: a.archiveURL()}); err != nil {
		return a.redirect(w, r, "/admin/settings", "The site and logo URLs must be absolute http(s) addresses.", true)
	}
	if err := settings.SavePublication(r.Context(), a.d.Store, pub); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings", "Publication saved.", false)
}

func (a *Admin) settingsTracking(w http.ResponseWriter, r *http.Request) error {
	t := settings.Tracking{Opens: r.FormValue("opens") == "on", Clicks: r.FormValue("clicks") == "on", Anonymous: r.FormValue("anonymous") == "on"}
	if err := settings.SaveTracking(r.Context(), a.d.Store, t, a.d.Now()); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#tracking", "Tracking and privacy saved.", false)
}

func (a *Admin) dkimGenerate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	alg := r.FormValue("algorithm")
	if alg != "rsa" {
		alg = "ed25519"
	}
	sel, dom := strings.TrimSpace(r.FormValue("selector")), strings.ToLower(strings.TrimSpace(r.FormValue("domain")))
	if !validator.IsSlug(sel) || !strings.Contains(dom, ".") || strings.ContainsAny(dom, " /@") {
		return a.redirect(w, r, "/admin/settings#dkim", "Give a selector (such as herald2025) and your sending domain.", true)
	}
	pem, err := message.GenerateKey(alg)
	if err != nil {
		return err
	}
	if err := settings.SaveDKIM(ctx, a.d.Store, pem, sel, dom); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings#dkim", "New DKIM key generated. Publish the DNS record below: test sends and campaigns that start sending from now on are signed with it.", false)
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
			return a.redirect(w, r, "/admin/settings#relays", "That relay URL does not parse: use smtp://user:pass@host:587, or postmark://TOKEN@api and the like.", true)
		}
		rc, found = c, true
	}
	if !found {
		return a.redirect(w, r, "/admin/settings#relays", "Choose a relay to test.", true)
	}
	if rc.Name == "" {
		rc.Name = rc.Addr()
	}
	// At most mailer.ProbeTimeout: a silent port does not hold the page.
	if err := mailer.Probe(r.Context(), rc); err != nil {
		return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: %s", rc.Name, err), true)
	}
	if rc.Kind != mailer.KindSMTP && rc.Kind != "" {
		return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: reached the %s API at %s. Its key is checked by the first send: send a test copy.",
			rc.Name, rc.Kind.Title(), rc.Addr()), false)
	}
	return a.redirect(w, r, "/admin/settings#relays", rc.Name+": connected, greeted and authenticated. Ready to send.", false)
}
