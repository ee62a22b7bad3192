package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/herald-news/herald/internal/doctor"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// Setting keys the admin writes. Other packages read them through
// LoadTracking and LoadDKIM.
const (
	SettingTrackOpens    = "tracking.opens"     // "on" or "off": new campaigns track opens
	SettingTrackClicks   = "tracking.clicks"    // "on" or "off": new campaigns track clicks
	SettingAnonymous     = "tracking.anonymous" // "on": events are recorded without the subscriber
	SettingDKIMKey       = "dkim.key"           // PKCS#8 PEM
	SettingDKIMSelector  = "dkim.selector"
	SettingDKIMDomain    = "dkim.domain"
	settingTrackingSaved = "tracking.saved"
)

// Tracking is the tracking and privacy settings.
type Tracking struct {
	Opens, Clicks bool // defaults for new campaigns
	Anonymous     bool // record events without who caused them
}

// LoadTracking reads the tracking settings; before they are saved, opens
// and clicks are tracked and events are not anonymous.
func LoadTracking(ctx context.Context, st *store.Store) (Tracking, error) {
	t := Tracking{Opens: true, Clicks: true}
	get := func(k string, v *bool) error {
		s, err := st.Setting(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		*v = s == "on"
		return nil
	}
	return t, errors.Join(get(SettingTrackOpens, &t.Opens), get(SettingTrackClicks, &t.Clicks), get(SettingAnonymous, &t.Anonymous))
}

// LoadDKIM returns the DKIM key generated in the settings page, or nil
// when none was generated. The CLI uses it when the configuration file
// names no key.
func LoadDKIM(ctx context.Context, st *store.Store) (*message.DKIM, error) {
	// One read for the three, written together: a key never meets the
	// selector of the key before it.
	v, err := st.Settings(ctx, SettingDKIMKey, SettingDKIMSelector, SettingDKIMDomain)
	if err != nil {
		return nil, err
	}
	pem, ok := v[SettingDKIMKey]
	if !ok {
		return nil, nil
	}
	key, err := message.ParseKey([]byte(pem))
	if err != nil {
		return nil, fmt.Errorf("stored DKIM key: %w", err)
	}
	return &message.DKIM{Domain: v[SettingDKIMDomain], Selector: v[SettingDKIMSelector], Key: key}, nil
}

type dkimView struct {
	Source, Domain, Selector, Name, Record, Split string
}

func (a *Admin) dkimView(ctx context.Context) (*dkimView, error) {
	d, src := a.d.DKIM, "configuration file"
	if d == nil {
		var err error
		if d, err = LoadDKIM(ctx, a.d.Store); err != nil {
			return nil, err
		}
		src = "generated here"
	}
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
	tr, err := LoadTracking(ctx, a.d.Store)
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
	key := a.d.DKIM
	if key == nil {
		var err error
		if key, err = LoadDKIM(ctx, a.d.Store); err != nil {
			return nil, err
		}
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

var hexColor = regexp.MustCompile(`^(#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?)?$`)

func (a *Admin) settingsPublication(w http.ResponseWriter, r *http.Request) error {
	f := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	pub := model.Publication{Name: f("name"), SiteURL: f("site_url"), LogoURL: f("logo_url"), Language: f("language"),
		PostalAddress: f("postal_address"), TimeZone: f("time_zone"), Colors: model.Colors{Accent: f("accent"), Text: f("text"), Background: f("background")},
		CreditPrefix: f("credit_prefix")}
	for _, k := range []model.SectionKind{model.KindLead, model.KindCards, model.KindBriefs, model.KindPicks, model.KindText} {
		if r.FormValue("use_"+string(k)) == "on" {
			pub.Sections = append(pub.Sections, model.SectionDefault{Kind: k, Title: f("title_" + string(k))})
		}
	}
	for _, c := range []string{pub.Colors.Accent, pub.Colors.Text, pub.Colors.Background} {
		if !hexColor.MatchString(c) {
			return a.redirect(w, r, "/admin/settings", "Colours are hex values such as #9c2f1f.", true)
		}
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
	if err := a.d.Store.SavePublication(r.Context(), pub); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/settings", "Publication saved.", false)
}

func (a *Admin) settingsTracking(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	onOff := func(k string) string {
		if r.FormValue(k) == "on" {
			return "on"
		}
		return "off"
	}
	for k, form := range map[string]string{SettingTrackOpens: "opens", SettingTrackClicks: "clicks", SettingAnonymous: "anonymous"} {
		if err := a.d.Store.PutSetting(ctx, k, onOff(form)); err != nil {
			return err
		}
	}
	if err := a.d.Store.PutSetting(ctx, settingTrackingSaved, a.d.Now().UTC().Format(time.RFC3339)); err != nil {
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
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`).MatchString(sel) || !strings.Contains(dom, ".") || strings.ContainsAny(dom, " /@") {
		return a.redirect(w, r, "/admin/settings#dkim", "Give a selector (such as herald2025) and your sending domain.", true)
	}
	pem, err := message.GenerateKey(alg)
	if err != nil {
		return err
	}
	if err := a.d.Store.PutSettings(ctx, map[string]string{SettingDKIMKey: string(pem), SettingDKIMSelector: sel, SettingDKIMDomain: dom}); err != nil {
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
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if rc.Kind != mailer.KindSMTP && rc.Kind != "" {
		if err := mailer.ProbeAPI(ctx, rc); err != nil {
			return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: %s", rc.Name, err), true)
		}
		return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: reached the %s API at %s. Its key is checked by the first send: send a test copy.",
			rc.Name, rc.Kind.Title(), rc.Addr()), false)
	}
	if err := probeRelay(ctx, rc); err != nil {
		return a.redirect(w, r, "/admin/settings#relays", fmt.Sprintf("%s: %s", rc.Name, err), true)
	}
	return a.redirect(w, r, "/admin/settings#relays", rc.Name+": connected, greeted and authenticated. Ready to send.", false)
}

func probeRelay(ctx context.Context, rc mailer.RelayConfig) error {
	if rc.Name == "" {
		rc.Name = rc.Addr()
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", rc.Addr())
	if err != nil {
		return errors.New("could not connect (check the host and port, and that the server is reachable)")
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tlsCfg := rc.TLSConfig
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: rc.Host}
	}
	helo := rc.HelloName
	if helo == "" {
		helo = "localhost"
	}
	var c *smtp.Client
	switch rc.TLS {
	case mailer.TLSImplicit:
		c = smtp.NewClient(tls.Client(conn, tlsCfg))
		err = c.Hello(helo)
	case mailer.TLSStartTLS:
		c, err = smtp.NewClientStartTLS(conn, tlsCfg)
		if err != nil {
			conn.Close()
			return errors.New("the SMTP greeting or STARTTLS failed (check the port, the certificate and the server name)")
		}
	default:
		c = smtp.NewClient(conn)
		err = c.Hello(helo)
	}
	defer c.Close()
	if err == nil {
		err = c.Noop() // forces the greeting and EHLO
	}
	if err != nil {
		return errors.New("the server did not greet us as an SMTP server")
	}
	if rc.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", rc.Username, rc.Password)); err != nil {
			return errors.New("the server refused the username or password")
		}
	}
	if err := c.Quit(); err != nil {
		return errors.New("the server did not close the session cleanly")
	}
	return nil
}
