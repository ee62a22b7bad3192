package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSamples(t *testing.T) {
	const rcpt, verp, msgID = "reader@reader-isp.example", "bounces+abc@bounces.gazette.example", "herald.c42.s7@gazette.example"
	for _, sm := range samples {
		t.Run(sm.file, func(t *testing.T) {
			reps, err := Parse(fill(t, sm.file, rcpt, verp, msgID))
			if sm.kind == "" {
				if !errors.Is(err, ErrAutoReply) && !errors.Is(err, ErrNotReport) {
					t.Fatalf("Parse = %+v, %v; want nothing to record", reps, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(reps) != 1 {
				t.Fatalf("got %d reports, want 1: %+v", len(reps), reps)
			}
			r := reps[0]
			if r.Kind != sm.kind || r.Email != rcpt || r.Status != sm.status || r.MessageID != msgID || r.ReturnPath != verp {
				t.Fatalf("report = %+v; want kind %s, status %q, address, Message-ID and Return-Path of the original", r, sm.kind, sm.status)
			}
			if r.Kind != "complaint" && r.Detail == "" {
				t.Fatal("a bounce without the server's words")
			}
		})
	}
}

func TestParseAutoReplyAndJunk(t *testing.T) {
	_, err := Parse(fill(t, "autoreply.eml", "reader@reader-isp.example", "bounces+abc@b.example", "x@y"))
	if !errors.Is(err, ErrAutoReply) {
		t.Fatalf("out-of-office: %v, want ErrAutoReply", err)
	}
	for _, junk := range []string{"", "not mail at all", "Subject: hello\r\n\r\nJust a note from a person.\r\n"} {
		if reps, err := Parse([]byte(junk)); err == nil {
			t.Fatalf("Parse(%q) = %+v, want an error", junk, reps)
		}
	}
}

// FuzzDSN feeds the parser arbitrary mail, seeded with the samples: it
// must never panic, and every report it returns must be of a known kind.
func FuzzDSN(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		reps, err := Parse(raw)
		if err != nil && len(reps) > 0 {
			t.Fatalf("reports and an error: %+v, %v", reps, err)
		}
		for _, r := range reps {
			switch r.Kind {
			case "bounce", "soft_bounce", "complaint":
			default:
				t.Fatalf("report of kind %q", r.Kind)
			}
			if len(r.Detail) > 500 {
				t.Fatalf("detail of %d bytes", len(r.Detail))
			}
		}
	})
}

// BenchmarkParse reads each sample once per iteration.
func BenchmarkParse(b *testing.B) {
	var raws [][]byte
	for _, sm := range samples {
		raws = append(raws, fill(b, sm.file, "reader@reader-isp.example", "bounces+abc@bounces.gazette.example", "herald.c42.s7@gazette.example"))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range raws {
			Parse(raw)
		}
	}
}

// A plain bounce that names the envelope sender before the failed address
// reports the failed address.
func TestPlainBounceSkipsTheEnvelopeSender(t *testing.T) {
	raw := "From: MAILER-DAEMON@mail.oldhost.example\r\nTo: bounces+abc@bounces.gazette.example\r\nSubject: failure notice\r\n\r\n" +
		"Your message from <bounces+abc@bounces.gazette.example> could not be delivered.\r\n" +
		"This is a permanent error; I've given up.\r\n\r\n<reader@reader-isp.example>:\r\n550 5.1.1 no such user\r\n"
	reps, err := Parse([]byte(raw))
	if err != nil || len(reps) != 1 || reps[0].Email != "reader@reader-isp.example" || reps[0].Kind != "bounce" {
		t.Fatalf("Parse = %+v, %v", reps, err)
	}
}

// TestCleanKeepsWholeCharacters: report texts lose NULs and invalid UTF-8
// and are cut at a character boundary, never inside one (PostgreSQL
// refuses both, failing the write).
func TestCleanKeepsWholeCharacters(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 10, "abc"},
		{"a\x00b", 10, "ab"},
		{"x\xffy", 10, "xy"},
		{"aé", 2, "a"}, // "é" is two bytes: cut before it
		{strings.Repeat("é", 300), 501, strings.Repeat("é", 250)},
		{"€€", 5, "€"},
	} {
		got := Clean(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) || len(got) > tc.n {
			t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
