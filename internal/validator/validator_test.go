package validator_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/validator"
)

// wantField fails unless err is a *validator.Error naming field (or nil
// when field is "").
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *validator.Error
	switch {
	case field == "" && err != nil:
		t.Errorf("%s: %v, want no error", what, err)
	case field != "" && !errors.As(err, &ve):
		t.Errorf("%s: %v, want a *validator.Error on %q", what, err, field)
	case field != "" && ve.Field != field:
		t.Errorf("%s: field %q (%s), want %q", what, ve.Field, ve.Message, field)
	case field != "" && (ve.Message == "" || !strings.HasSuffix(ve.Message, ".")):
		t.Errorf("%s: message %q is not a sentence", what, ve.Message)
	}
}

func TestCampaign(t *testing.T) {
	ok := func() *model.Campaign {
		return &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{1}, From: "The Courier <news@example.com>"}
	}
	for _, tc := range []struct {
		what  string
		edit  func(c *model.Campaign)
		field string
	}{
		{"complete", func(c *model.Campaign) {}, ""},
		{"a bare From", func(c *model.Campaign) { c.From = "news@example.com" }, ""},
		{"a Reply-To", func(c *model.Campaign) { c.ReplyTo = "letters@example.com" }, ""},
		{"a segment alone", func(c *model.Campaign) { c.ListIDs, c.SegmentIDs = nil, []int64{3} }, ""},
		{"no name", func(c *model.Campaign) { c.Name = "  " }, "name"},
		{"a name on two lines", func(c *model.Campaign) { c.Name = "Evening\r\nBcc: all@example.com" }, "name"},
		{"no audience", func(c *model.Campaign) { c.ListIDs = nil }, "list_ids"},
		{"no From", func(c *model.Campaign) { c.From = "" }, "from"},
		{"a From that is not an address", func(c *model.Campaign) { c.From = "The Courier" }, "from"},
		{"a From on two lines", func(c *model.Campaign) { c.From = "The Courier <news@example.com>\nBcc: x@example.com" }, "from"},
		{"a Reply-To that is not an address", func(c *model.Campaign) { c.ReplyTo = "letters at example.com" }, "reply_to"},
		{"a Reply-To with a name", func(c *model.Campaign) { c.ReplyTo = "Letters <letters@example.com>" }, "reply_to"},
		{"a bad local time", func(c *model.Campaign) { c.LocalTime = "7am" }, "local_time"},
		{"one A/B subject", func(c *model.Campaign) {
			c.AB = &model.ABTest{Variants: []model.Variant{{Subject: "One"}}, SamplePercent: 20, Wait: time.Hour, Metric: model.ABOpens}
		}, "ab_test"},
	} {
		c := ok()
		tc.edit(c)
		wantField(t, tc.what, validator.Campaign(c), tc.field)
	}
}

// TestSlugIsOneRule: the list slug rule, as lists, segments and the DKIM
// selector use it.
func TestSlugIsOneRule(t *testing.T) {
	for s, want := range map[string]bool{
		"evening": true, "a": true, "2026-news": true, strings.Repeat("a", 63): true,
		"": false, "-evening": false, "Evening": false, "two words": false, "évening": false, strings.Repeat("a", 64): false,
	} {
		if validator.IsSlug(s) != want {
			t.Errorf("IsSlug(%q) = %v, want %v", s, !want, want)
		}
	}
	wantField(t, "good list", validator.List(&model.List{Slug: "evening", Name: "Evening"}), "")
	wantField(t, "bad slug", validator.List(&model.List{Slug: "Bad Slug", Name: "Evening"}), "slug")
	wantField(t, "no name", validator.List(&model.List{Slug: "evening"}), "name")
	wantField(t, "two-line name", validator.List(&model.List{Slug: "evening", Name: "Eve\nning"}), "name")
	wantField(t, "odd opt-in", validator.List(&model.List{Slug: "evening", Name: "Evening", OptIn: "triple"}), "opt_in")
}

// TestColorIsOneRule: the colour rule the admin's settings, the public
// pages' theme and the renderer share.
func TestColorIsOneRule(t *testing.T) {
	for s, want := range map[string]bool{
		"#9c2f1f": true, "#FFF": true, "#abc": true,
		"": false, "9c2f1f": false, "#9c2f1": false, "red": false, "#9c2f1f;}body{x:y": false,
	} {
		if validator.IsColor(s) != want {
			t.Errorf("IsColor(%q) = %v, want %v", s, !want, want)
		}
	}
	wantField(t, "empty colours", validator.Colors(model.Colors{}), "")
	wantField(t, "good colours", validator.Colors(model.Colors{Accent: "#9c2f1f", Text: "#111", Background: "#ffffff"}), "")
	wantField(t, "a named colour", validator.Colors(model.Colors{Text: "black"}), "text")
}

// TestColorsMustBeReadable: an accent or text colour that cannot reach
// WCAG's 4.5:1 on the background is refused, saying the ratio; the button
// ink is whichever of black and white reads better on the accent.
func TestColorsMustBeReadable(t *testing.T) {
	for _, tc := range []struct {
		c     model.Colors
		field string
		says  string
	}{
		{model.Colors{Accent: "#ffffff"}, "accent", "1.00:1"},
		{model.Colors{Accent: "#f5c518"}, "accent", "1.63:1"},
		{model.Colors{Accent: "#f5c518", Text: "#ece8e1", Background: "#1c1f23"}, "background", "lighter background"},
		{model.Colors{Accent: "#1a4d7a", Background: "#f6f4ef"}, "", ""},
		{model.Colors{Text: "#999999"}, "text", "2.84:1"},
		{model.Colors{Accent: "#9c2f1f", Text: "#1f2328", Background: "#ffffff"}, "", ""},
		{model.Colors{Background: "#000000"}, "background", ""},
	} {
		err := validator.Colors(tc.c)
		wantField(t, fmt.Sprintf("%+v", tc.c), err, tc.field)
		if err != nil && !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%+v: %q does not say %s", tc.c, err, tc.says)
		}
	}
	if r := validator.Contrast("#f5c518", "#ffffff"); fmt.Sprintf("%.2f", r) != "1.63" {
		t.Errorf("Contrast(#f5c518, #ffffff) = %.2f, want 1.63", r)
	}
	for bg, ink := range map[string]string{"#f5c518": "#000000", "#9c2f1f": "#ffffff", "#fff": "#000000", "#1a4d7a": "#ffffff"} {
		if got := validator.Ink(bg); got != ink {
			t.Errorf("Ink(%s) = %s, want %s", bg, got, ink)
		}
		if r := validator.Contrast(validator.Ink(bg), bg); r < 4.5 {
			t.Errorf("Ink(%s) reads at %.2f:1", bg, r)
		}
	}
}

func TestSubscriberUserToken(t *testing.T) {
	wantField(t, "subscriber", validator.Subscriber(&model.Subscriber{Email: "reader@example.org"}), "")
	wantField(t, "no address", validator.Subscriber(&model.Subscriber{Email: "reader"}), "email")
	wantField(t, "odd status", validator.Subscriber(&model.Subscriber{Email: "reader@example.org", Status: "gone"}), "status")
	wantField(t, "bad tz", validator.Subscriber(&model.Subscriber{Email: "reader@example.org", Attributes: map[string]any{"tz": "Mars/Olympus"}}), "attributes")
	wantField(t, "user", validator.User("ed@example.com", "Ed"), "")
	wantField(t, "user without an address", validator.User("ed", "Ed"), "email")
	wantField(t, "user name on two lines", validator.User("ed@example.com", "Ed\nBcc"), "name")
	wantField(t, "token", validator.Token("nightly import"), "")
	wantField(t, "token without a name", validator.Token(" "), "name")
	wantField(t, "token name too long", validator.Token(strings.Repeat("x", validator.MaxNameLength+1)), "name")
}

// TestNameCarriesNoLink: a subscriber's name is bounded and holds no web
// or email address (it goes into the To header and the greeting).
func TestNameCarriesNoLink(t *testing.T) {
	for name, ok := range map[string]bool{
		"": true, "Ada Lovelace": true, "J. R. R. Tolkien": true, "St.John Rivers": true, "Zoë O'Brien-Núñez": true,
		"Dr. Who": true, "Anne-Marie 2nd": true, strings.Repeat("é", validator.MaxName): true,
		strings.Repeat("é", validator.MaxName+1): false, "Ada\nBcc": false,
		"=HYPERLINK(\"http://evil.example\")": false, "Win at https://x.test": false, "see www.prize": false,
		"me@evil.example": false, "Claim your prize: bit.ly/abc": false, "prizes.example.com": false, "visit spam.ru now": false,
	} {
		err := validator.Name(name)
		if (err == nil) != ok {
			t.Errorf("Name(%q) = %v, want ok %v", name, err, ok)
		}
		if err == nil {
			wantField(t, name, validator.Subscriber(&model.Subscriber{Email: "a@example.org", Name: name}), "")
		} else {
			wantField(t, name, validator.Subscriber(&model.Subscriber{Email: "a@example.org", Name: name}), "name")
			if validator.ReaderName(name) != "" && !strings.Contains(name, "\n") { // mail folds line breaks
				t.Errorf("ReaderName(%q) = %q, want empty", name, validator.ReaderName(name))
			}
		}
	}
	if got := validator.ReaderName("  Ada \n Lovelace "); got != "Ada Lovelace" {
		t.Errorf("ReaderName folds to %q", got)
	}
}

// TestErrorsAllAtOnceAndTranslated: a whole form's check returns every
// problem in the form's order; errors.As still finds the first (the API
// and the CLI show it); each problem has a catalog key the admin renders
// in the user's language, and an English Message for the API and the CLI.
func TestErrorsAllAtOnceAndTranslated(t *testing.T) {
	err := validator.Publication(model.Publication{Name: " ", SiteURL: "courier.example", From: "The Courier",
		ReplyTo: "Letters <letters@example.com>", Colors: model.Colors{Accent: "red"}, CreditPrefix: strings.Repeat("x", 41), TimeZone: "Mars/Olympus"})
	var fields []string
	for _, ve := range validator.All(err) {
		fields = append(fields, ve.Field)
		if ve.Key == "" || ve.Message == "" || !strings.HasSuffix(ve.Message, ".") {
			t.Errorf("%s: key %q, message %q", ve.Field, ve.Key, ve.Message)
		}
	}
	if got := strings.Join(fields, " "); got != "name site_url from reply_to accent credit_prefix time_zone" {
		t.Errorf("fields = %s", got)
	}
	if first := validator.As(err); first == nil || first.Field != "name" {
		t.Errorf("As finds %+v, want the name's problem", first)
	}
	if validator.Publication(model.Publication{Name: "The Courier", SiteURL: "https://courier.example",
		From: "The Courier <news@courier.example>", ReplyTo: "letters@courier.example"}) != nil {
		t.Error("a good publication is refused")
	}

	ve := validator.As(validator.List(&model.List{Slug: "Le Matin", Name: "Le Matin"}))
	if ve == nil || ve.Field != "slug" {
		t.Fatalf("slug: %v", ve)
	}
	for lang, want := range map[string]string{
		"en": `A list's slug is lower-case letters, digits and dashes (at most 63), starting with a letter or digit; "Le Matin" is not.`,
		"fr": `L’identifiant d’une liste se compose de minuscules, de chiffres et de tirets (63 au plus) et commence par une lettre ou un chiffre ; "Le Matin" ne convient pas.`,
		"de": `Die Kennung einer Liste besteht aus Kleinbuchstaben, Ziffern und Bindestrichen (höchstens 63) und beginnt mit einem Buchstaben oder einer Ziffer; "Le Matin" passt nicht.`,
	} {
		if got := ve.In(i18n.For(lang)); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if ve.Message != ve.In(i18n.For("en")) {
		t.Errorf("Message %q is not the English", ve.Message)
	}
	// English keeps the domain's precise words; another language has the
	// key's.
	ve = validator.As(validator.User("ada", "Ada"))
	if ve == nil || ve.In(i18n.For("en")) != "The address has no @." && !strings.HasPrefix(ve.In(i18n.For("en")), "The address has no @") {
		t.Errorf("English user address: %v", ve)
	}
	if got := ve.In(i18n.For("de")); got != `"ada" ist keine E-Mail-Adresse wie name@beispiel.de.` {
		t.Errorf("German user address: %q", got)
	}
}
