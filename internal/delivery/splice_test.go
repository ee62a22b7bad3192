package delivery

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/token"
)

var signedAt = regexp.MustCompile(`t=\d+;`)

// readerName gives reader i a name: none, plain, quoted, accented,
// non-Latin, long, with a line break or markup, or one holding a link
// (left out).
func readerName(i int) string {
	names := []string{"", "Ana Reader", `Jo "Ace" O'Neil`, "Zoë Brontë-Łukasiewicz", "Дарья Смирнова", "田中 太郎",
		"Ngozi Adichie-Okonkwo of the Very Long Family Name That Keeps Going Past The Fold", "Line\nBreak",
		"<b>Bold</b> & Co", "see https://spam.example now", "Ñandú 🐦"}
	n := names[i%len(names)]
	if n != "" && i%3 == 0 {
		n += fmt.Sprintf(" %d", i)
	}
	return n
}

// spliceFixture is the sample edition prepared as a campaign's copy, and
// a worker to build its messages.
type spliceFixture struct {
	run *campaignRun
	v   *variantRun
	w   *worker
}

func newSpliceFixture(t testing.TB, tracking, anonymous, dkim bool) spliceFixture {
	t.Helper()
	r, err := render.New(sample.Publication(), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := sample.Edition()
	if err != nil {
		t.Fatal(err)
	}
	em, err := r.Email(ed)
	if err != nil {
		t.Fatal(err)
	}
	frozen := em.Freeze()
	signer, err := token.NewSigner(bytes.Repeat([]byte("splice-test-key-"), 3))
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]bool{}
	for _, l := range frozen.Links {
		links[l] = true
	}
	if len(links) == 0 {
		t.Fatal("the sample edition has no links to track")
	}
	e := &Engine{cfg: Config{BaseURL: "https://news.example", Signer: signer}}
	cfg := message.Config{
		From: message.Address{Name: "The Northgate Courier", Email: "news@courier.example"}, Subject: frozen.Subject,
		ListID: "evening.courier.example", ListName: "Evening · Courier", FeedbackID: "c7:evening:herald",
		UnsubscribeMailto: "unsubscribe@courier.example", Boundary: "7f3a9c0e5b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b1d",
	}
	if dkim {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DKIM = &message.DKIM{Domain: "courier.example", Selector: "h1", Key: key}
	}
	tmpl, err := message.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := &campaignRun{id: 7, tracking: tracking, anonymous: anonymous, links: links, domain: "courier.example",
		web: Links{BaseURL: e.cfg.BaseURL, Signer: signer}.Web(7)}
	v, err := e.newVariant(run, render.Thaw(frozen, "reader"), tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return spliceFixture{run: run, v: v, w: &worker{e: e, links: Links{BaseURL: e.cfg.BaseURL, Signer: signer}}}
}

func readerRow(i int) model.Delivery {
	return model.Delivery{ID: int64(i + 1), CampaignID: 7, SubscriberID: int64(1000 + i),
		Email: fmt.Sprintf("reader%d@readers.example", i), Name: readerName(i)}
}

// TestSplicedMessagesMatchWholeOnes: for a thousand readers of the sample
// edition (text and HTML), with tracking off, on and anonymous, with and
// without DKIM (Ed25519), the message spliced from runs encoded once is
// byte for byte the message built whole, the way every message was built
// before splicing (same Date and boundary; DKIM signatures made in the
// same second).
func TestSplicedMessagesMatchWholeOnes(t *testing.T) {
	date := time.Date(2026, 12, 7, 18, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                      string
		tracking, anonymous, dkim bool
	}{
		{"plain", false, false, false},
		{"tracked", true, false, false},
		{"anonymous", true, true, false},
		{"plain-ed25519", false, false, true},
		{"tracked-ed25519", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSpliceFixture(t, tc.tracking, tc.anonymous, tc.dkim)
			var whole, spliced []byte
			var err error
			compared := 0
			for i := range 1000 {
				d := readerRow(i)
				for try := 0; try < 3; try++ {
					whole, err = f.w.buildWhole(whole[:0], f.run, f.v, d, date)
					if err != nil {
						t.Fatal(err)
					}
					spliced, err = f.w.buildSpliced(spliced[:0], f.run, f.v, d, date)
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Equal(signedAt.Find(whole), signedAt.Find(spliced)) {
						break // not signed a second apart
					}
				}
				if !bytes.Equal(whole, spliced) {
					at := 0
					for at < min(len(whole), len(spliced)) && whole[at] == spliced[at] {
						at++
					}
					t.Fatalf("reader %d (%q): messages differ from byte %d:\nwhole   %q\nspliced %q", i, d.Name, at,
						whole[max(0, at-80):min(len(whole), at+80)], spliced[max(0, at-80):min(len(spliced), at+80)])
				}
				compared++
			}
			if compared != 1000 || len(whole) < 20000 {
				t.Fatalf("compared %d messages of %d bytes", compared, len(whole))
			}
			if tc.tracking && !tc.anonymous && !bytes.Contains(whole, []byte("/c/")) {
				t.Error("tracked messages have no click links")
			}
		})
	}
}

// BenchmarkBuildMessage builds one reader's message of the sample edition
// (~26 KB) per iteration, whole (as before splicing) and spliced, in the
// same run: personalisation, tracking, encoding and signing included.
// Compare cpu-µs/msg on a busy machine.
func BenchmarkBuildMessage(b *testing.B) {
	for _, c := range []struct {
		name           string
		tracking, dkim bool
	}{{"plain", false, false}, {"tracked", true, false}, {"ed25519", false, true}} {
		for _, way := range []string{"whole", "spliced"} {
			b.Run(c.name+"/"+way, func(b *testing.B) {
				f := newSpliceFixture(b, c.tracking, false, c.dkim)
				build := f.w.buildSpliced
				if way == "whole" {
					build = f.w.buildWhole
				}
				rows := make([]model.Delivery, 1000)
				for i := range rows {
					rows[i] = readerRow(i)
				}
				var buf []byte
				var err error
				i := 0
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					if buf, err = build(buf[:0], f.run, f.v, rows[i%len(rows)], time.Time{}); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				if cpu := cpuTime() - cpu; cpu > 0 {
					// CPU a message, GC included: steadier than ns/op
					// when other work shares the cores.
					b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
				}
			})
		}
	}
}
