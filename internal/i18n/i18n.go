// Package i18n holds Herald's own words in every language it ships and
// formats dates, times and numbers the way each language writes them.
//
// Contract: one catalog per language, locales/<tag>.toml, embedded in the
// binary and loaded once; English (en.toml) is the source every other
// catalog follows key for key and placeholder for placeholder (the package
// test fails otherwise). A Localizer is built for the language a reader's
// page or mail is in (For), falls back to English for a key a catalog lacks,
// and is immutable and safe for concurrent use. Messages are go-i18n
// templates with CLDR plural rules; their values are never HTML: HTML
// escapes arguments and marks the result safe. Editors' own text is never
// translated; only Herald's words are.
//
// Right to left: Dir reports "rtl" for languages written in a right-to-left
// script (Arabic, Hebrew, Persian, Urdu, ...), whether or not a catalog for
// them ships; in those languages HTML wraps each argument in <bdi> and
// Isolate wraps plain text in Unicode isolates, so an English name inside an
// Arabic sentence keeps its own direction.
package i18n

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.toml locales/admin/*/*.toml
var locales embed.FS

// Source is the language every other catalog is translated from, and the
// one Herald falls back to.
const Source = "en"

// catalogs is every shipped catalog, loaded once.
type catalogs struct {
	bundle  *goi18n.Bundle
	tags    []language.Tag // shipped, Source first
	names   []string       // their file names' tags ("pt-BR")
	matcher language.Matcher
	admin   []string // languages with an admin catalog (locales/admin/)
}

var load = sync.OnceValues(func() (*catalogs, error) { return loadFS(locales) })

// loadFS reads locales/*.toml from fsys.
func loadFS(fsys fs.FS) (*catalogs, error) {
	c := &catalogs{bundle: goi18n.NewBundle(language.English)}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(fsys, "locales/*.toml")
	if err != nil {
		return nil, fmt.Errorf("i18n: list catalogs: %w", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".toml")
		tag, err := language.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: catalog %s: %w", f, err)
		}
		if _, err := c.bundle.LoadMessageFileFS(fsys, f); err != nil {
			return nil, fmt.Errorf("i18n: catalog %s: %w", f, err)
		}
		c.tags = append(c.tags, tag)
		c.names = append(c.names, name)
	}
	// The admin's words are the same bundle's "admin." keys, in their own
	// files: locales/admin/<tag>/<area>.toml, one folder per language the
	// admin speaks, one file per part of the admin.
	admin, err := fs.Glob(fsys, "locales/admin/*/*.toml")
	if err != nil {
		return nil, fmt.Errorf("i18n: list admin catalogs: %w", err)
	}
	for _, f := range admin {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("i18n: catalog %s: %w", f, err)
		}
		tag := path.Base(path.Dir(f))
		// go-i18n reads the language from the file's name: give it one.
		if _, err := c.bundle.ParseMessageFileBytes(b, tag+".toml"); err != nil {
			return nil, fmt.Errorf("i18n: catalog %s: %w", f, err)
		}
		if !slices.Contains(c.admin, tag) {
			c.admin = append(c.admin, tag)
		}
	}
	i := slices.Index(c.names, Source)
	if i < 0 {
		return nil, errors.New("i18n: no English catalog (locales/en.toml)")
	}
	// The matcher's first tag is its fallback: English.
	c.tags[0], c.tags[i] = c.tags[i], c.tags[0]
	c.names[0], c.names[i] = c.names[i], c.names[0]
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

func mustLoad() *catalogs {
	c, err := load()
	if err != nil {
		// The catalogs are built into the binary and checked by the
		// package's tests: a broken one is a build mistake.
		panic(err)
	}
	return c
}

// Languages returns the tags of the shipped catalogs, English first, then
// in alphabetical order.
func Languages() []string {
	names := slices.Clone(mustLoad().names)
	slices.Sort(names[1:])
	return names
}

// AdminLanguages returns the languages the admin is translated into,
// English first.
func AdminLanguages() []string {
	names := slices.Clone(mustLoad().admin)
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == Source:
			return -1
		case b == Source:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// ErrLanguage is wrapped by Check's errors.
var ErrLanguage = errors.New("unsupported language")

// Name returns a shipped language's name in itself ("Français").
func Name(tag string) string { return For(tag).T("language.name") }

// Check returns tag in canonical form ("pt-BR") if Herald ships a catalog
// for it, or for its base language ("fr-CA" reads French), and an error
// naming the shipped languages otherwise. An empty tag is allowed: it
// means "the publication's language".
func Check(tag string) (string, error) {
	if tag == "" {
		return "", nil
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a language tag such as fr or pt-BR", ErrLanguage, tag)
	}
	c := mustLoad()
	_, _, conf := c.matcher.Match(t)
	if conf < language.High {
		return "", fmt.Errorf("%w: Herald has no catalog for %q; it speaks %s", ErrLanguage, tag, strings.Join(Languages(), ", "))
	}
	return t.String(), nil
}

// Negotiate picks the language to answer an Accept-Language header with,
// among offered (the languages of a publication's lists, say): the reader's
// most preferred one that is offered, else fallback.
func Negotiate(acceptLanguage string, offered []string, fallback string) string {
	var tags []language.Tag
	var names []string
	for _, o := range offered {
		t, err := language.Parse(o)
		if err != nil || slices.Contains(names, o) {
			continue
		}
		tags, names = append(tags, t), append(names, o)
	}
	want, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(want) == 0 || len(tags) == 0 {
		return fallback
	}
	_, i, conf := language.NewMatcher(tags).Match(want...)
	if conf < language.High {
		return fallback
	}
	return names[i]
}

// rtlScripts are the scripts written right to left.
var rtlScripts = map[string]bool{"Arab": true, "Hebr": true, "Thaa": true, "Syrc": true, "Nkoo": true, "Adlm": true, "Rohg": true, "Mand": true, "Samr": true}

// IsRTL reports whether tag's language is written right to left.
func IsRTL(tag string) bool {
	t, err := language.Parse(tag)
	if err != nil {
		return false
	}
	s, _ := t.Script()
	return rtlScripts[s.String()]
}

// Localizer speaks one language. Build it with For.
type Localizer struct {
	lang    string       // as asked for, the lang attribute
	catalog language.Tag // the catalog that answers
	loc     *goi18n.Localizer
	printer *message.Printer
	rtl     bool
}

var localizers sync.Map // lang -> *Localizer

// For returns the Localizer for a BCP 47 tag: its catalog is the shipped
// one that matches best, English when none does; an empty or malformed tag
// is English.
func For(tag string) *Localizer {
	if l, ok := localizers.Load(tag); ok {
		return l.(*Localizer)
	}
	c := mustLoad()
	lang := Source
	t, err := language.Parse(tag)
	if err == nil && tag != "" {
		lang = tag
	} else {
		t = language.English
	}
	_, i, conf := c.matcher.Match(t)
	if conf < language.High {
		i = 0
	}
	l := &Localizer{
		lang:    lang,
		catalog: c.tags[i],
		loc:     goi18n.NewLocalizer(c.bundle, c.names[i]),
		printer: message.NewPrinter(t),
		rtl:     IsRTL(lang),
	}
	v, _ := localizers.LoadOrStore(tag, l)
	return v.(*Localizer)
}

// Lang returns the language as asked for ("en-GB"), for lang attributes.
func (l *Localizer) Lang() string { return l.lang }

// Catalog returns the tag of the catalog that answers ("en").
func (l *Localizer) Catalog() string { return l.catalog.String() }

// RTL reports whether the language is written right to left.
func (l *Localizer) RTL() bool { return l.rtl }

// Dir returns the dir attribute: "rtl" or "ltr".
func (l *Localizer) Dir() string {
	if l.rtl {
		return "rtl"
	}
	return "ltr"
}

// Start returns the physical side a line starts on ("left" in English,
// "right" in Arabic), for email clients that ignore logical CSS.
func (l *Localizer) Start() string {
	if l.rtl {
		return "right"
	}
	return "left"
}

// End returns the physical side a line ends on.
func (l *Localizer) End() string {
	if l.rtl {
		return "left"
	}
	return "right"
}

// T returns message id filled with the named arguments, given as pairs
// ("Name", "Ada"). A message missing from the catalog comes from English;
// one missing from English too comes back as its id, so a mistake shows
// and never breaks a page.
func (l *Localizer) T(id string, args ...any) string {
	return l.localize(id, nil, data(args))
}

// Plain is T for plain text readers see (mail subjects and text parts): in
// a right-to-left language every string argument is isolated (Isolate).
func (l *Localizer) Plain(id string, args ...any) string {
	d := data(args)
	if l.rtl {
		for k, v := range d {
			if s, ok := v.(string); ok {
				d[k] = l.Isolate(s)
			}
		}
	}
	return l.localize(id, nil, d)
}

// N is T for a message with plural forms, chosen by count under the
// language's CLDR rules; the message sees count as .Count, written the
// language's way.
func (l *Localizer) N(id string, count int, args ...any) string {
	d := data(args)
	d["Count"] = l.Number(count)
	return l.localize(id, count, d)
}

func (l *Localizer) localize(id string, count any, d map[string]any) string {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if s == "" && err != nil {
		return id
	}
	return s
}

// Attr is an argument of HTML that stands in an attribute (a link's
// address): escaped, never isolated.
type Attr string

// HTML is T for HTML: every argument is escaped (a template.HTML one is
// kept as it is) and, in a right-to-left language, isolated in <bdi>
// (except an Attr); the message itself may hold markup, as the catalogs
// are Herald's own.
func (l *Localizer) HTML(id string, args ...any) template.HTML {
	return template.HTML(l.localize(id, nil, l.htmlData(args)))
}

// NHTML is N for HTML, as HTML is for T.
func (l *Localizer) NHTML(id string, count int, args ...any) template.HTML {
	d := l.htmlData(args)
	d["Count"] = l.Number(count)
	return template.HTML(l.localize(id, count, d))
}

func (l *Localizer) htmlData(args []any) map[string]any {
	d := data(args)
	for k, v := range d {
		var h string
		switch v := v.(type) {
		case Attr:
			d[k] = template.HTMLEscapeString(string(v))
			continue
		case template.HTML:
			h = string(v)
		case string:
			h = template.HTMLEscapeString(v)
		default:
			h = template.HTMLEscapeString(fmt.Sprint(v))
		}
		if l.rtl {
			h = "<bdi>" + h + "</bdi>"
		}
		d[k] = h
	}
	return d
}

// data turns argument pairs into a template's data.
func data(args []any) map[string]any {
	d := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			d[k] = args[i+1]
		}
	}
	return d
}

// Unicode's first-strong isolate and its closing mark.
const (
	fsi = "\u2068"
	pdi = "\u2069"
)

// Isolate returns s isolated with Unicode marks in a right-to-left
// language (for plain text: mail subjects and text parts), as it is
// otherwise.
func (l *Localizer) Isolate(s string) string {
	if !l.rtl || s == "" {
		return s
	}
	return fsi + s + pdi
}

// Number returns n written the language's way ("12,345", "12.345",
// "١٢٬٣٤٥").
func (l *Localizer) Number(n int) string {
	return l.printer.Sprint(number.Decimal(n))
}

// digits writes n with the language's digits and no grouping (years).
func (l *Localizer) digits(n int) string {
	return l.printer.Sprint(number.Decimal(n, number.NoSeparator()))
}

var weekdayKeys = [7]string{"date.weekday.sunday", "date.weekday.monday", "date.weekday.tuesday",
	"date.weekday.wednesday", "date.weekday.thursday", "date.weekday.friday", "date.weekday.saturday"}

var monthKeys = [12]string{"date.month.january", "date.month.february", "date.month.march",
	"date.month.april", "date.month.may", "date.month.june", "date.month.july", "date.month.august",
	"date.month.september", "date.month.october", "date.month.november", "date.month.december"}

// Date returns a calendar day in full, the language's way ("Thursday 13
// March 2025", "jeudi 13 mars 2025", "2025年3月13日（木）").
func (l *Localizer) Date(t time.Time) string {
	return l.T("date.format",
		"Weekday", l.T(weekdayKeys[t.Weekday()]),
		"Day", l.digits(t.Day()),
		"Month", l.T(monthKeys[t.Month()-1]),
		"MonthNumber", l.digits(int(t.Month())),
		"Year", l.digits(t.Year()))
}

// Time returns a time of day the language's way ("18:30", "6:30 pm").
func (l *Localizer) Time(t time.Time) string {
	h12 := t.Hour() % 12
	if h12 == 0 {
		h12 = 12
	}
	half := "time.am"
	if t.Hour() >= 12 {
		half = "time.pm"
	}
	return l.T("time.format",
		"Hour", l.digits(t.Hour()),
		"Hour12", l.digits(h12),
		"Minute", l.printer.Sprint(number.Decimal(t.Minute(), number.MinIntegerDigits(2))),
		"HalfDay", l.T(half))
}

// slotKeys name the common edition slots; other slots show as written,
// capitalised.
var slotKeys = map[string]string{"morning": "slot.morning", "midday": "slot.midday", "evening": "slot.evening"}

// Slot returns an edition slot's name ("Evening"); a slot Herald does not
// know is shown as the editor wrote it, capitalised.
func (l *Localizer) Slot(slot string) string {
	if k, ok := slotKeys[slot]; ok {
		return l.T(k)
	}
	if slot == "" {
		return ""
	}
	return strings.ToUpper(slot[:1]) + slot[1:]
}

// Dateline returns an edition's date and slot as its masthead shows them
// ("Thursday 13 March 2025 · Evening"); date is YYYY-MM-DD, and a date
// that is not one is shown as it is.
func (l *Localizer) Dateline(date, slot string) string {
	out := date
	if d, err := time.Parse(time.DateOnly, date); err == nil {
		out = l.Date(d)
	}
	if slot != "" {
		out += " · " + l.Slot(slot)
	}
	return out
}

// Join joins items the language's way ("A, B" or "A، B").
func (l *Localizer) Join(items []string) string {
	return strings.Join(items, l.T("list.separator"))
}

// Or returns the first non-empty of the values, else message id: a
// publication's own word (a section title, a credit prefix) wins over
// Herald's.
func (l *Localizer) Or(id string, values ...string) string {
	if v := cmp.Or(values...); v != "" {
		return v
	}
	return l.T(id)
}
