package address

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	good := []struct{ in, want string }{
		{"reader@example.com", "reader@example.com"},
		{"  Reader@Example.COM \n", "Reader@example.com"},
		{"first.last+news@sub.example.co.uk", "first.last+news@sub.example.co.uk"},
		{"leser@bücher.example", "leser@xn--bcher-kva.example"},
		{"x@EXAMPLE.com.", "x@example.com"},
		{"o'brien@example.ie", "o'brien@example.ie"},
	}
	for _, c := range good {
		got, err := Normalize(c.in)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, reason string }{
		{"", "empty"},
		{"no-at-sign.example.com", "no @"},
		{"@example.com", "nothing before"},
		{"reader@", "nothing after"},
		{"reader@localhost", "no dot"},
		{"Reader <reader@example.com>", "bare address"},
		{"a b@example.com", "bare address"},
		{"reader@exa mple.com", "bare address"},
		{"reader@example.com\r\nBcc: x@example.com", "line break"},
		{"reader@-bad-.com", "not a valid domain"},
		{"reader@exa_mple.com", "not a valid domain"}, {"reader@exa$mple.com", "not a valid domain"},
		{"reader..x@example.com", "cannot hold"},
		{"\xff@example.com", "UTF-8"},
		{strings.Repeat("a", 65) + "@example.com", "longer than 64"},
		{"a@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 60) + ".com", "longer than 254"},
	}
	for _, c := range bad {
		got, err := Normalize(c.in)
		if err == nil {
			t.Errorf("Normalize(%q) = %q, want an error about %q", c.in, got, c.reason)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) error %v does not wrap ErrInvalid", c.in, err)
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("Normalize(%q) error %q, want it to mention %q", c.in, err, c.reason)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"reader@example.com", "a@b.c", "leser@bücher.example", "\"q\"@x.org", "x@@y.z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Normalize(s)
		if err != nil {
			return
		}
		again, err := Normalize(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
		if len(out) > MaxLength || strings.ContainsAny(out, "\r\n <>") {
			t.Fatalf("Normalize(%q) = %q escapes the rules", s, out)
		}
	})
}
