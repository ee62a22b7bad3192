package message

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// holeValues fills hole i of a part with vals[part][i].
type holeValues [2][]string

func (h holeValues) AppendHole(dst []byte, part, i int) []byte { return append(dst, h[part][i]...) }

// layoutOf cuts s at every "{}" and returns the layout and the values
// that fill it back.
func layoutOf(s string) Layout {
	var l Layout
	for _, run := range strings.Split(s, "{}") {
		l.Static = append(l.Static, []byte(run))
	}
	return l
}

func fill(s string, vals []string) string {
	runs := strings.Split(s, "{}")
	var b strings.Builder
	for i, r := range runs {
		b.WriteString(r)
		if i < len(vals) && i < len(runs)-1 {
			b.WriteString(vals[i])
		}
	}
	return b.String()
}

var tValue = regexp.MustCompile(`t=\d+;`)

// TestSplicedMatchesWhole: messages spliced from pre-encoded runs and
// holes are byte for byte those Append builds from the whole bodies, with
// holes anywhere on a line (its start, its end, inside a long line that
// folds, beside spaces that end a line and bytes that need encoding), with
// and without DKIM.
func TestSplicedMatchesWhole(t *testing.T) {
	text := "{}Good evening, {}.\n" + strings.Repeat("A line of plain text that runs well past seventy-six characters, as prose does. ", 3) +
		"{}\nTrailing space {}  \n\n.dot line\n=equals and caf\u00e9 {}\n{}"
	html := "<html><body>\n<p>{}</p>\n<a href=\"{}\">Unsubscribe</a>" + strings.Repeat("<td style=\"padding:0\">x</td>", 20) + "{}\n</body></html>\n{}"
	values := [][2][]string{
		{{"", "Ana", "", "x", "\u00e9\u00e9", ""}, {"Ana", "https://n.example/u/abc", "", ""}},
		{{"Zo\u00eb ", "Jo\u00e3o da Silva", "tail ", "y ", "\r\n.", "end "}, {"<b>&amp;</b>", "https://n.example/u/" + strings.Repeat("t", 90), " ", "last"}},
		{{strings.Repeat("long ", 30), "\t", "=", "\n", "x", "\n"}, {"\n.", "=3D", strings.Repeat("\u00e9", 50), "\n"}},
	}
	for _, alg := range []string{"", "ed25519", "rsa"} {
		cfg := testConfig()
		cfg.Boundary = "b0undary"
		if alg != "" {
			cfg.DKIM = &DKIM{Domain: "ledger.example", Selector: "h", Key: testKey(t, alg)}
		}
		tpl, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := tpl.Splice(layoutOf(text), layoutOf(html))
		if err != nil {
			t.Fatal(err)
		}
		var sc Scratch
		var buf []byte
		compared := 0
		for i, v := range values {
			m := testMessage()
			m.Headers = []Field{{Key: "X-PM-Metadata-herald-message-id", Value: m.MessageID}}
			m.Text, m.HTML = []byte(fill(text, v[0])), []byte(fill(html, v[1]))
			want, err := tpl.Append(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			buf, err = sp.Append(buf[:0], m, holeValues(v), &sc)
			if err != nil {
				t.Fatal(err)
			}
			got := buf
			if !bytes.Equal(tValue.Find(want), tValue.Find(got)) {
				continue // signed a second apart
			}
			compared++
			if !bytes.Equal(got, want) {
				t.Errorf("%s message %d differs:\n got %q\nwant %q", alg, i, got, want)
			}
		}
		if compared == 0 {
			t.Errorf("%s: no message compared", alg)
		}
	}
}

// TestAppendFieldFoldsAsGoMessage: header fields written per message are
// folded as go-message folds them.
func TestAppendFieldFoldsAsGoMessage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "Ana", "\u00e9t\u00e9", "https://n.example/u/" + strings.Repeat("x", 120), "<x@y>,", " ", "\t", strings.Repeat("w", 80), "=?utf-8?q?Zo=C3=AB?="}
	for i := range 2000 {
		var v strings.Builder
		for range r.IntN(30) {
			v.WriteString(words[r.IntN(len(words))])
			if r.IntN(3) > 0 {
				v.WriteByte(' ')
			}
		}
		key := []string{"To", "List-Unsubscribe", "X-Pm-Metadata-Herald-Message-Id"}[i%3]
		var h textproto.Header
		h.Set(key, v.String())
		var want appendWriter
		if err := textproto.WriteHeader(&want, h); err != nil {
			t.Fatal(err)
		}
		got := appendField(nil, key, []byte(v.String()))
		if !bytes.Equal(got, want.b[:len(want.b)-2]) {
			t.Fatalf("%s: %q\n got %q\nwant %q", key, v.String(), got, want.b)
		}
	}
}

// TestSplicedRefusesWhatAppendRefuses: a reserved or broken extra field, a
// line break in an address, and a personal value that holds the boundary
// fail the message, as Append fails it, and leave dst as it was.
func TestSplicedRefusesWhatAppendRefuses(t *testing.T) {
	cfg := testConfig()
	cfg.Boundary = "b0undary"
	tpl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := tpl.Splice(layoutOf("Hello {}\n"), layoutOf("<p>{}</p>\n"))
	if err != nil {
		t.Fatal(err)
	}
	ok := holeValues{{"Ana"}, {"Ana"}}
	for name, c := range map[string]struct {
		edit  func(*Message)
		holes holeValues
		is    error
	}{
		"reserved field": {func(m *Message) { m.Headers = []Field{{Key: "list-unsubscribe", Value: "x"}} }, ok, ErrInvalid},
		"field break":    {func(m *Message) { m.Headers = []Field{{Key: "X-A", Value: "a\r\nBcc: x@y"}} }, ok, ErrHeaderInjection},
		"address break":  {func(m *Message) { m.To.Name = "Ana\r\nBcc: x@y" }, ok, ErrHeaderInjection},
		"boundary":       {func(*Message) {}, holeValues{{"x\r\n--b0undary--"}, {"Ana"}}, ErrInvalid},
	} {
		m := testMessage()
		c.edit(m)
		dst := []byte("kept")
		out, err := sp.Append(dst, m, c.holes, &Scratch{})
		if !errors.Is(err, c.is) || string(out) != "kept" {
			t.Errorf("%s: err %v, dst %q", name, err, out)
		}
	}
}

// TestSplicedAfterALoneCR: a lone CR, then bytes that are encoded, then a
// line break make one break in quoted-printable (as mime/quotedprintable
// writes it), so the line after does not start clean; whether the CR is in
// the shared text or in a reader's value, the spliced message is still
// the whole one.
func TestSplicedAfterALoneCR(t *testing.T) {
	long := strings.Repeat("A shared line long enough to need a soft line break in the encoding. ", 2)
	text := "Hello {}\r\u00e9\u00e9\n" + long + "\n{}\u00e9\n" + long + "\n{} end\n"
	html := "<p>{}</p>\n"
	cfg := testConfig()
	cfg.Boundary = "b0undary"
	tpl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := tpl.Splice(layoutOf(text), layoutOf(html))
	if err != nil {
		t.Fatal(err)
	}
	var sc Scratch
	for _, v := range [][2][]string{
		{{"Ana", "x", "y"}, {"a"}},
		{{"Ana", "x\r", "y\r"}, {"a"}},
	} {
		m := testMessage()
		m.Text, m.HTML = []byte(fill(text, v[0])), []byte(fill(html, v[1]))
		want, err := tpl.Append(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sp.Append(nil, m, holeValues(v), &sc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("values %q: spliced differs:\n got %q\nwant %q", v[0], got, want)
		}
		for _, line := range bytes.Split(got, []byte("\r\n")) {
			if len(line) > 76 {
				t.Errorf("values %q: a line of %d characters: %q", v[0], len(line), line)
			}
		}
	}
}
