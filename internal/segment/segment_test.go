package segment

import (
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	for in, want := range map[string]string{
		`list = news`:                                        `list = news`,
		`LIST = News and attr.city = Leeds`:                  `list = news and attr.city = "Leeds"`,
		`attr.plan != "pro team" or attr.vip exists`:         `attr.plan != "pro team" or attr.vip exists`,
		`domain = Example.COM and not opened within 30 days`: `domain = example.com and not opened within 30 days`,
		`(list = a or list = b) and never clicked`:           `(list = a or list = b) and never clicked`,
		`signup after 2026-01-31 and signup within 7 days`:   `signup after 2026-01-31 and signup within 7 days`,
		`list = a or list = b and clicked within 1 day`:      `list = a or list = b and clicked within 1 days`,
		`not (list = a and list = b)`:                        `not (list = a and list = b)`,
		`attr.note = "say \"hi\""`:                           `attr.note = "say \"hi\""`,
	} {
		n, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := n.String(); got != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
		// The canonical form parses to itself.
		if again, err := Parse(n.String()); err != nil || again.String() != want {
			t.Errorf("reparse %q: %v, %v", want, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		``:                         "character 1: the query is empty",
		`list = news and`:          "character 16: the query ends where a condition was expected",
		`list news`:                "character 6: after list write = or !=",
		`list = "News Letter"`:     `"News Letter" is not a list slug`,
		`attr.ci"ty = x`:           "a quoted value has no closing",
		`attr.city' = x`:           `attribute name "city'"`,
		`opened within 0 days`:     "expected a number of days from 1 to 36500",
		`opened within 3 weeks`:    "write the number as N days",
		`opened`:                   "after opened write within N days",
		`signup before 31/01/2026`: `"31/01/2026" is not a date written as YYYY-MM-DD`,
		`(list = a`:                "this ( is never closed",
		`list = a)`:                "a closing ) has no opening (",
		`list = a list = b`:        `expected and, or or the end of the query, found "list"`,
		`city = Leeds`:             `unknown condition "city"`,
		`domain = example`:         `"example" is not a domain`,
		`attr.a ! b`:               "! must be followed by =",
		`never bounced`:            "after never write opened or clicked",
		strings.Repeat("x", 4001):  "longer than 4000",
		strings.Repeat("list = a or ", 64) + "list = b": "at most 64 are allowed",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.40q) = %v, want an error containing %q", in, err, want)
		}
	}
}
