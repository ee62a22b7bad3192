package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// TestNoticeRenderedOnceIsTheSame: a confirmation or welcome rendered once
// for a list, with each reader's token put in place of linkMark, is byte
// for byte the notice rendered with that token, in a left-to-right and a
// right-to-left language, with and without a brand, under a base URL with
// characters HTML escapes.
func TestNoticeRenderedOnceIsTheSame(t *testing.T) {
	key := make([]byte, 32)
	copy(key, "notice-test-signing-key-01234567")
	signer, err := token.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	lists := []*model.List{
		{ID: 1, Name: "Morning <Briefing> & more", Language: "en"},
		{ID: 2, Name: "الموجز", Language: "ar", Brand: &model.Brand{Name: "Desk & Co", LogoURL: "https://img.example/logo.png?a=1&b=2",
			Colors: model.Colors{Accent: "#123456", Background: "#fefefe"}}},
		{ID: 3, Name: "Le point", Language: "fr"},
	}
	for _, base := range []string{"https://news.example", "https://news.example/a&b'c"} {
		q := &MailQueue{cfg: MailQueueConfig{BaseURL: base, Signer: signer, ConfirmTTL: 7 * 24 * time.Hour}}
		b := &mailBatch{pub: model.DefaultPublication(base)}
		for _, l := range lists {
			for i := range 20 {
				tok := signer.Sign(token.Claims{Purpose: token.Confirm, SubscriberID: int64(1000 + i), ListID: l.ID, Expires: time.Now().Add(time.Duration(i) * time.Hour)})
				for _, kind := range []struct {
					name   string
					render func(*mailBatch, *model.List, string) noticeText
				}{{"confirmation", q.confirmationNotice}, {"welcome", q.welcomeNotice}} {
					want := kind.render(b, l, tok)
					once := kind.render(b, l, linkMark)
					text, html := once.with(tok)
					if once.subject != want.subject || text != want.text || html != want.html {
						t.Fatalf("%s for list %d under %s: rendered once differs from rendered with the token\ntext %q\nwant %q\nhtml %q\nwant %q",
							kind.name, l.ID, base, text, want.text, html, want.html)
					}
					if !strings.Contains(want.html, tok) || !strings.Contains(want.text, tok) {
						t.Fatalf("%s: the token is not in both parts", kind.name)
					}
				}
			}
		}
	}
}
