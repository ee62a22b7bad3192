package web

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
	"github.com/herald-news/herald/internal/validator"
)

// honeypotField is a form field people never see; bots fill it in. The
// embed snippet on the admin's list page carries it too.
const honeypotField = "website"

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	lists, err := s.store.Lists(r.Context())
	if err != nil {
		s.serverError(w, r, "read lists", err)
		return
	}
	var public []model.List
	for _, l := range lists {
		if l.Public {
			public = append(public, l.List)
		}
	}
	l := s.negotiate(r)
	s.render(w, r, http.StatusOK, "home", view{L: l, Title: l.T("home.title"), Feeds: true, Data: struct{ Lists []model.List }{public}})
}

// publicList returns the public list named by the path, or answers 404.
func (s *Server) publicList(w http.ResponseWriter, r *http.Request) *model.List {
	l, err := s.store.ListBySlug(r.Context(), r.PathValue("slug"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !l.Public) {
		s.notFound(w, r)
		return nil
	}
	if err != nil {
		s.serverError(w, r, "read list", err)
		return nil
	}
	return l
}

func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request) {
	l := s.publicList(w, r)
	if l == nil {
		return
	}
	csrf := s.csrfToken(w, r)
	lang := s.forList(r, l)
	s.render(w, r, http.StatusOK, "subscribe", view{L: lang, list: l, Title: lang.T("subscribe.title", "List", l.Name), CSRF: csrf, Data: struct {
		List *model.List
	}{l}})
}

func (s *Server) subscribePost(w http.ResponseWriter, r *http.Request) {
	s.subscribe(w, r, true)
}

func (s *Server) subscribeEmbed(w http.ResponseWriter, r *http.Request) {
	s.subscribe(w, r, false)
}

// subscribe handles both forms. Whatever the address's state (new,
// pending, already subscribed, suppressed, or a bot's honeypot hit), the
// answer is the same page: only the list's opt-in mode changes the words.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request, hosted bool) {
	if s.limited(w, r) {
		return
	}
	if !parseForm(w, r) {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_form_title", "error.go_back")
		return
	}
	if hosted && !s.csrfOK(r) {
		s.badCSRF(w, r)
		return
	}
	l := s.publicList(w, r)
	if l == nil {
		return
	}
	lang := s.forList(r, l)
	email, err := address.Normalize(r.PostFormValue("email"))
	if err != nil {
		s.render(w, r, http.StatusUnprocessableEntity, "notice", view{L: lang, list: l, Title: lang.T("subscribe.bad_address_title"), NoIndex: true, Data: notice{
			Paragraphs: []string{lang.T("subscribe.bad_address")},
			Link:       &link{URL: "/subscribe/" + l.Slug, Text: lang.T("subscribe.back")},
			Error:      true,
		}})
		return
	}
	name := cleanName(r.PostFormValue("name"))
	if r.PostFormValue(honeypotField) == "" {
		_, outcome, err := s.store.Signup(r.Context(), email, name, l, model.SourceForm, s.opts.Welcome)
		if validator.As(err) != nil {
			s.badName(w, r, err, "/subscribe/"+l.Slug)
			return
		}
		if err != nil {
			s.serverError(w, r, "sign up", err)
			return
		}
		if outcome == store.SignupPending || outcome == store.SignupJoined {
			s.wakeMail() // the signup queued a message
		}
	}
	pub, _, _ := s.renderer.get(r.Context())
	if page := s.answers.get(l, pub); page != nil {
		writePage(w, http.StatusOK, page)
		return
	}
	paras := []string{lang.T("subscribe.thanks_new"), lang.T("subscribe.thanks_back")}
	title := lang.T("subscribe.thanks_title")
	if l.OptIn == model.OptInDouble {
		title = lang.T("subscribe.check_title")
		paras = []string{
			lang.T("subscribe.check_sent", "List", l.Name),
			lang.T("subscribe.check_works", "Duration", delivery.Days(lang, s.opts.ConfirmTTL)),
		}
	}
	v := view{L: lang, list: l, Title: title, NoIndex: true, Data: notice{Paragraphs: paras,
		Link: &link{URL: "/archive", Text: lang.T("subscribe.read_past")}}}
	page, err := s.execute(r, "notice", &v)
	if err != nil {
		s.failedPage(w, "notice", v, err)
		return
	}
	if now, _, _ := s.renderer.get(r.Context()); reflect.DeepEqual(now, pub) {
		s.answers.put(l, pub, page) // rendered with pub, not one read since
	}
	writePage(w, http.StatusOK, page)
}

// answerCache keeps the page a signup is answered with, rendered once for
// each list as it and the publication stand: the page is the same for
// every signup to a list (it must be: it tells no one whether an address
// was known), and rendering it was a sixth of a signup's work. A list or
// publication that changed in any way renders it again.
type answerCache struct {
	mu sync.Mutex
	m  map[int64]answer
}

type answer struct {
	list model.List
	pub  model.Publication
	page []byte
}

// get returns the page for list l under publication pub, or nil.
func (c *answerCache) get(l *model.List, pub model.Publication) []byte {
	c.mu.Lock()
	a, ok := c.m[l.ID]
	c.mu.Unlock()
	if !ok || !reflect.DeepEqual(a.list, *l) || !reflect.DeepEqual(a.pub, pub) {
		return nil
	}
	return a.page
}

// put keeps page as the answer for list l under publication pub.
func (c *answerCache) put(l *model.List, pub model.Publication, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]answer{}
	}
	c.m[l.ID] = answer{list: *l, pub: pub, page: page}
}

// cleanName trims a name and drops control characters; validator.Name
// (which the store applies) bounds it and refuses links in it.
func cleanName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// badName answers a name the store refused (too long, or holding a link),
// saying why, with the way back to the form.
func (s *Server) badName(w http.ResponseWriter, r *http.Request, err error, back string) {
	s.render(w, r, http.StatusUnprocessableEntity, "notice", view{Title: "Check the name", NoIndex: true, Data: notice{
		Paragraphs: []string{validator.As(err).Message},
		Link:       &link{URL: back, Text: "Back to the form"},
		Error:      true,
	}})
}

// confirmClaims verifies a confirmation token and loads its list.
func (s *Server) confirmClaims(w http.ResponseWriter, r *http.Request) (token.Claims, *model.List, bool) {
	c, err := s.signer.Verify(r.PathValue("token"), token.Confirm, now())
	if err != nil {
		s.badToken(w, r)
		return c, nil, false
	}
	l, err := s.listByID(r.Context(), c.ListID)
	if errors.Is(err, store.ErrNotFound) {
		s.badToken(w, r)
		return c, nil, false
	}
	if err != nil {
		s.serverError(w, r, "read list", err)
		return c, nil, false
	}
	return c, l, true
}

// confirmPage shows a button: link scanners that fetch the link confirm
// nothing.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	_, l, ok := s.confirmClaims(w, r)
	if !ok {
		return
	}
	csrf := s.csrfToken(w, r)
	lang := s.forList(r, l)
	s.render(w, r, http.StatusOK, "confirm", view{L: lang, list: l, Title: lang.T("confirm.title"), NoIndex: true, CSRF: csrf,
		Data: struct {
			List  *model.List
			Token string
		}{l, r.PathValue("token")}})
}

func (s *Server) confirmPost(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	if !parseForm(w, r) || !s.csrfOK(r) {
		s.badCSRF(w, r)
		return
	}
	c, l, ok := s.confirmClaims(w, r)
	if !ok {
		return
	}
	changed, err := s.store.ConfirmSubscription(r.Context(), c.SubscriberID, l.ID, model.SourceForm, s.opts.Welcome)
	if errors.Is(err, store.ErrNotFound) {
		s.badToken(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "confirm subscription", err)
		return
	}
	if changed && s.opts.Welcome {
		s.wakeMail() // the confirmation queued the welcome message
	}
	prefs := s.base + "/preferences/" + s.signer.Sign(token.Claims{Purpose: token.Preferences, SubscriberID: c.SubscriberID})
	lang := s.forList(r, l)
	s.render(w, r, http.StatusOK, "notice", view{L: lang, list: l, Title: lang.T("confirm.done_title"), NoIndex: true, Data: notice{
		Paragraphs: []string{lang.T("confirm.done", "List", l.Name)},
		Link:       &link{URL: prefs, Text: lang.T("email.preferences")},
	}})
}
