package segment

import (
	"reflect"
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

// TestSavedQueryMeansWhatItsPreviewMeant: a value with a tab, a newline, a
// backslash or a quote is written back (String, what SaveSegment stores)
// so that it reads as the same value: with Go's escapes a tab came back
// as the letter t, and the saved segment selected nobody.
func TestSavedQueryMeansWhatItsPreviewMeant(t *testing.T) {
	for _, v := range []string{"a\tb", "two\nlines", `back\slash`, `ends with \`, `say "hi"`, "é ü 日本", ""} {
		n, err := Parse(`attr.note = "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("%q: the written query %q does not parse: %v", v, n.String(), err)
		}
		if got := again.(Cond).Value; got != v {
			t.Errorf("value %q reads back as %q from %q", v, got, n.String())
		}
	}
}

// TestDeepNestingIsRefused: a thousand nested nots (or parentheses) would
// make an SQL expression deeper than SQLite takes; the parser refuses it,
// naming where, so it is never saved.
func TestDeepNestingIsRefused(t *testing.T) {
	for _, q := range []string{
		strings.Repeat("not ", 990) + "list = a",
		strings.Repeat("(", 40) + "list = a" + strings.Repeat(")", 40),
		strings.Repeat("not (", 9) + "list = a" + strings.Repeat(")", 9),
	} {
		_, err := Parse(q)
		if err == nil || !strings.Contains(err.Error(), "nest more than 16 deep") {
			t.Errorf("%.40s…: %v", q, err)
		}
	}
	if _, err := Parse(strings.Repeat("not ", 16) + "list = a"); err != nil {
		t.Errorf("16 levels: %v", err)
	}
	if _, err := Parse("(list = a or list = b) and not (list = c and (list = d or never opened))"); err != nil {
		t.Errorf("an ordinary query: %v", err)
	}
}

// FuzzRoundTrip: whatever parses, written back with String, parses again
// to the same tree and the same text (what the admin previews is what a
// saved segment selects).
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`list = news`, `attr.city = "Le\"eds" and not opened within 30 days`, "attr.x = \"a\tb\"",
		`(list = a or list = b) and never clicked`, `signup before 2025-01-01 or domain = example.org`,
		`not not (attr.vip exists and attr.plan != "pro")`, `attr.note = "\\"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q)
		if err != nil {
			return
		}
		text := n.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("%q parsed, but its written form %q does not: %v", q, text, err)
		}
		if again.String() != text {
			t.Fatalf("%q: written %q, then %q", q, text, again.String())
		}
		if !reflect.DeepEqual(n, again) {
			t.Fatalf("%q: the tree changed through %q:\n%#v\n%#v", q, text, n, again)
		}
	})
}
