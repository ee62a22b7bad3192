package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/delivery/deliverytest"
	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/web"
)

// site is a running public web over a real SQLite store, with a real
// mailer sending into an in-process SMTP sink.
type site struct {
	t      *testing.T
	store  *store.Store
	signer *token.Signer
	sink   *smtpsink.Sink
	mailer *mailer.Mailer
	queue  *delivery.MailQueue // sends the confirmation and welcome messages
	web    *web.Server
	ts     *httptest.Server
	daily  *model.List // public, double opt-in
	weekly *model.List // public, single opt-in
	// campaignFrom is the From of campaigns send starts; "" fills it in
	// as the front doors do (settings.FillSender).
	campaignFrom string
}

func newSite(t *testing.T, s *store.Store, tweak func(*web.Options)) *site {
	t.Helper()
	ctx := context.Background()
	if err := s.SavePublication(ctx, sample.Publication()); err != nil {
		t.Fatal(err)
	}
	daily := &model.List{Slug: "daily", Name: "The Daily Briefing", Description: "Our evening briefing, every weekday.", OptIn: model.OptInDouble, Public: true}
	weekly := &model.List{Slug: "weekly", Name: "Weekend Reads", Description: "Long reads for Saturday.", OptIn: model.OptInSingle, Public: true}
	for _, l := range []*model.List{daily, weekly} {
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	sink, m, _ := deliverytest.Relay(t, smtpsink.Options{})
	signer := deliverytest.Signer(t)

	st := &site{t: t, store: s, signer: signer, sink: sink, mailer: m, daily: daily, weekly: weekly}
	var h http.Handler = http.NotFoundHandler()
	st.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(st.ts.Close)
	opts := web.DefaultOptions()
	opts.EventFlush = 20 * time.Millisecond
	opts.Webhooks.Secret = "hook-secret"
	if tweak != nil {
		tweak(&opts)
	}
	st.queue = st.startQueue()
	srv, err := web.NewServer(web.Deps{Store: s, Signer: signer, Mail: st.queue, BaseURL: st.ts.URL, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	h = srv
	st.web = srv
	t.Cleanup(func() { srv.Close(context.Background()) })
	return st
}

// startQueue starts a mail queue sending through the site's relay, as
// serve runs one beside the public web; the test's end closes it.
func (st *site) startQueue() *delivery.MailQueue {
	st.t.Helper()
	q, err := delivery.NewMailQueue(delivery.MailQueueConfig{Store: st.store, Sender: st.mailer, Signer: st.signer,
		BaseURL: st.ts.URL, From: "The Ledger <news@example.com>"})
	if err != nil {
		st.t.Fatal(err)
	}
	q.Start()
	st.t.Cleanup(func() { q.Close(context.Background()) })
	return q
}

// flush writes the queued events and sends the queued mail (closing the
// server's event queue and the mail queue).
func (st *site) flush() {
	st.t.Helper()
	if err := errors.Join(st.web.Close(context.Background()), st.queue.Close(context.Background())); err != nil {
		st.t.Fatal(err)
	}
}

// client is a browser-like HTTP client: cookies, no redirects followed.
func (st *site) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (st *site) get(c *http.Client, path string) (*http.Response, string) {
	st.t.Helper()
	resp, err := c.Get(st.ts.URL + path)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (st *site) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	st.t.Helper()
	resp, err := c.PostForm(st.ts.URL+path, form)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches a page and returns the form token in it.
func (st *site) csrf(c *http.Client, path string) string {
	st.t.Helper()
	_, body := st.get(c, path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		st.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// subscriber creates a confirmed subscriber on the lists.
func (st *site) subscriber(email string, lists ...*model.List) int64 {
	st.t.Helper()
	ctx := context.Background()
	sub := &model.Subscriber{Email: email, Name: "Test Reader"}
	if _, err := st.store.UpsertSubscriber(ctx, sub); err != nil {
		st.t.Fatal(err)
	}
	for _, l := range lists {
		if err := st.store.SetSubscription(ctx, sub.ID, l.ID, model.SubConfirmed, model.SourceAdmin); err != nil {
			st.t.Fatal(err)
		}
	}
	return sub.ID
}

// campaign creates and starts a campaign to lists with the given links.
func (st *site) campaign(tracking bool, links []string, lists ...*model.List) *model.Campaign {
	st.t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, l := range lists {
		ids = append(ids, l.ID)
	}
	c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: ids, From: "The Ledger <news@example.com>", Tracking: tracking}
	if err := st.store.CreateCampaign(ctx, c); err != nil {
		st.t.Fatal(err)
	}
	if _, err := st.store.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", Prefix: "x", HTML: []byte("h"), Text: []byte("t"), Links: links}); err != nil {
		st.t.Fatal(err)
	}
	return c
}

func (st *site) status(subscriberID, listID int64) model.SubscriptionStatus {
	st.t.Helper()
	subs, err := st.store.Subscriptions(context.Background(), subscriberID)
	if err != nil {
		st.t.Fatal(err)
	}
	for _, s := range subs {
		if s.ListID == listID {
			return s.Status
		}
	}
	return ""
}

// waitMail waits for n captured messages (mail is sent in the background).
func (st *site) waitMail(n int) []smtpsink.Message {
	st.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		msgs := st.sink.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			st.t.Fatalf("waited for %d messages, got %d", n, len(msgs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// linkIn finds the first URL with the given path prefix in a raw message
// (quoted-printable soft line breaks removed).
func linkIn(t *testing.T, raw []byte, prefix string) string {
	t.Helper()
	flat := strings.ReplaceAll(string(raw), "=\r\n", "")
	re := regexp.MustCompile(`https?://[^\s"<>]+` + regexp.QuoteMeta(prefix) + `[A-Za-z0-9_\-]+`)
	m := re.FindString(flat)
	if m == "" {
		t.Fatalf("no %s link in message:\n%s", prefix, flat)
	}
	return m
}

func storedEvents(t *testing.T, s *store.Store, campaignID int64) store.EventCounts {
	t.Helper()
	c, err := s.CampaignEventCounts(context.Background(), campaignID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sqlite(t testing.TB) *store.Store { return storetest.SQLite(t) }

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }
