package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/feedback"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/token"
)

// TestFeedbackInReaderLanguage: the feedback pages of a German list's
// edition are German, from the rating to the refusal of a too long comment
// (its numbers written the German way), and the "why are you leaving"
// question after unsubscribing from an Arabic list is Arabic, right to
// left, down to its thanks; nothing of them stays in English.
func TestFeedbackInReaderLanguage(t *testing.T) {
	t.Parallel()
	st := newSite(t, sqlite(t), nil)
	de := st.addList(&model.List{Slug: "abend", Name: "Der Abend", Language: "de"})
	ar := st.addList(&model.List{Slug: "masa", Name: "Evening Brief", Language: "ar"})
	id := st.subscriber("leserin@example.com", de, ar)
	c := st.campaign(false, nil, de)
	fb := "/feedback/" + st.signer.Sign(token.Claims{Purpose: token.Feedback, SubscriberID: id, CampaignID: c.ID})

	english := []string{"How was it?", "Send my rating", "Thank you", "Anything else?", "Nothing was recorded", "Would you tell us", "Too many emails", "You are unsubscribed"}
	check := func(step, body string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %q in\n%s", step, w, body)
			}
		}
		for _, en := range english {
			if strings.Contains(body, en) {
				t.Errorf("%s: still English %q in\n%s", step, en, body)
			}
		}
	}

	client := st.client()
	resp, body := st.get(client, fb+"?r=3")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", fb, resp.StatusCode)
	}
	check("rating page", body, `<html lang="de" dir="ltr">`, "<title>Wie fanden Sie es?", "Wie fanden Sie es?", "Sehr nützlich", "Bewertung senden")
	csrf := csrfRE.FindStringSubmatch(body)[1]

	_, body = st.post(client, fb, url.Values{"r": {"3"}, "csrf": {csrf}})
	check("sections page", body, `<html lang="de" dir="ltr">`, "Vielen Dank", "Die Kurzmeldungen", "Die Lesetipps", "Noch etwas?", "(freiwillig; die Redaktion liest jedes Wort)")

	long := strings.Repeat("x", feedback.MaxComment+1)
	resp, body = st.post(client, fb+"/more", url.Values{"r": {"3"}, "comment": {long}, "csrf": {csrf}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a too long comment = %d, want 422", resp.StatusCode)
	}
	check("refusal", body, "Es wurde nichts gespeichert", "höchstens 2.000 Zeichen hinein, er hat 2.001.")

	_, body = st.post(client, fb+"/more", url.Values{"r": {"3"}, "s_briefs": {"1"}, "comment": {"Kürzer, bitte."}, "csrf": {csrf}})
	check("thanks", body, "Vielen Dank", "Wir haben Ihre Antwort erhalten.")
	if said, err := st.store.CampaignFeedback(context.Background(), c.ID, 10); err != nil || len(said.Comments) != 1 || said.Comments[0].Comment != "Kürzer, bitte." {
		t.Fatalf("the German answer was not stored: %+v, %v", said, err)
	}

	// Leaving the Arabic list: the question comes in Arabic, right to left.
	unsub := "/unsubscribe/" + st.signer.Sign(token.Claims{Purpose: token.Unsubscribe, SubscriberID: id, ListID: ar.ID})
	csrf = st.csrf(client, unsub)
	_, body = st.post(client, unsub, url.Values{"scope": {"list"}, "csrf": {csrf}})
	check("leaving", body, `<html lang="ar" dir="rtl">`, "تم إلغاء اشتراكك", "هل يمكنك أن تخبرنا بسبب مغادرتك؟", "رسائل كثيرة جدًا", `action="`+unsub+`/why"`)
	if st.status(id, ar.ID) != model.SubUnsubscribed {
		t.Fatal("the Arabic list's button did not unsubscribe")
	}
	resp, body = st.post(client, unsub+"/why", url.Values{"reason": {"spite"}, "csrf": {csrf}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown reason = %d, want 422", resp.StatusCode)
	}
	check("unknown reason", body, `dir="rtl"`, "لم يُسجَّل شيء", "هذا السبب ليس من الأسباب المعروضة.")
	_, body = st.post(client, unsub+"/why", url.Values{"reason": {"too-many"}, "csrf": {csrf}})
	check("why thanks", body, `<html lang="ar" dir="rtl">`, "شكرًا لك", "وصلتنا إجابتك")

	// An edition that sets its own language mailed the German list in
	// Japanese: its feedback page is Japanese too.
	e := &model.Edition{Slug: "yukan", Subject: "夕刊", Language: "ja", Status: model.EditionPublished}
	if err := st.store.CreateEdition(context.Background(), e, ""); err != nil {
		t.Fatal(err)
	}
	cj := &model.Campaign{Name: "夕刊", EditionID: e.ID, ListIDs: []int64{de.ID}, From: "The Ledger <news@example.com>"}
	if err := st.store.CreateCampaign(context.Background(), cj); err != nil {
		t.Fatal(err)
	}
	fbj := "/feedback/" + st.signer.Sign(token.Claims{Purpose: token.Feedback, SubscriberID: id, CampaignID: cj.ID})
	_, body = st.get(client, fbj)
	check("edition in Japanese", body, `<html lang="ja" dir="ltr">`, "いかがでしたか？", "評価を送信する")
}
