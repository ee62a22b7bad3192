package validator

import (
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// MaxCreditPrefix is the longest photo credit prefix, in characters (as an
// edition's own prefix: edition.MaxPrefix).
const MaxCreditPrefix = 40

// Publication checks the publication's settings before they are stored: a
// name on one line, absolute http(s) site and logo URLs, readable colours
// (Colors), a short credit prefix, a time zone Herald knows, a footer
// address on one line, and the sender identity every campaign,
// confirmation and series takes unless its list's brand has its own: a
// From with or without a display name and a bare Reply-To (Sender; both
// optional, the configuration's from stands in). It returns every problem
// (Errors), in the settings form's order.
func Publication(p model.Publication) error {
	var es Errors
	switch {
	case strings.TrimSpace(p.Name) == "":
		es = append(es, fieldError("name", "admin.validator.publication_name"))
	case !OneLine(p.Name):
		es = append(es, fieldError("name", "admin.validator.one_line"))
	}
	if !IsWebURL(p.SiteURL) {
		es = append(es, fieldError("site_url", "admin.validator.url", "Value", q(p.SiteURL)))
	}
	if p.LogoURL != "" && !IsWebURL(p.LogoURL) {
		es = append(es, fieldError("logo_url", "admin.validator.url", "Value", q(p.LogoURL)))
	}
	es.add(Sender("from", "reply_to", p.From, p.ReplyTo, false))
	if !OneLine(p.PostalAddress) {
		es = append(es, fieldError("postal_address", "admin.validator.one_line"))
	}
	es.add(Colors(p.Colors))
	if utf8.RuneCountInString(p.CreditPrefix) > MaxCreditPrefix || !OneLine(p.CreditPrefix) {
		es = append(es, fieldError("credit_prefix", "admin.validator.credit_prefix", "Max", MaxCreditPrefix))
	}
	if p.TimeZone != "" {
		if _, err := model.LoadZone(p.TimeZone); err != nil {
			es = append(es, fieldError("time_zone", "admin.validator.time_zone", "Value", q(p.TimeZone)))
		}
	}
	return es.Err()
}
