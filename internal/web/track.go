package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/herald-news/herald/internal/engage"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// campaignInfo is what the tracking endpoints need of a campaign.
type campaignInfo struct {
	tracking  bool
	editionID int64
	status    model.CampaignStatus
	lists     []int64
	links     map[string]struct{}
	at        time.Time
}

// campaignCache keeps campaigns' link allowlists in memory: the redirect
// must not wait on the database. Frozen links never change; the tracking
// flag is re-read after the TTL.
type campaignCache struct {
	store *store.Store
	ttl   time.Duration

	mu sync.RWMutex
	m  map[int64]*campaignInfo
}

func newCampaignCache(st *store.Store, ttl time.Duration) *campaignCache {
	return &campaignCache{store: st, ttl: ttl, m: map[int64]*campaignInfo{}}
}

const maxCachedCampaigns = 1000

func (c *campaignCache) get(ctx context.Context, id int64) (*campaignInfo, error) {
	c.mu.RLock()
	info := c.m[id]
	c.mu.RUnlock()
	if info != nil && time.Since(info.at) < c.ttl {
		return info, nil
	}
	camp, err := c.store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	info = &campaignInfo{tracking: camp.Tracking, editionID: camp.EditionID, status: camp.Status,
		lists: camp.ListIDs, links: map[string]struct{}{}, at: time.Now()}
	frozen, err := c.store.FrozenContent(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound): // not started: no links yet
	case err != nil:
		return nil, err
	default:
		for _, l := range frozen.Links {
			info.links[l] = struct{}{}
		}
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedCampaigns {
		clear(c.m)
	}
	c.m[id] = info
	c.mu.Unlock()
	return info, nil
}

// record classifies an open or click and hands it to the recorder, when
// tracking is on for the campaign. A verdict already set (the hidden link)
// stands.
func (s *Server) record(r *http.Request, info *campaignInfo, e model.Event) {
	if s.opts.Tracking == TrackOff || !info.tracking {
		return
	}
	if e.Class == "" {
		v := s.classify.Classify(engage.HitFrom(e.Kind, r, s.clientIP(r)))
		e.Class, e.Reason = v.Class, v.Reason
	}
	if s.opts.Tracking == TrackAnonymous || s.privacy.anonymous(r.Context()) {
		e.SubscriberID = 0
	}
	s.events.Add(e)
}

// privacySetting caches the admin's "anonymous events" setting for a few
// seconds, so tracking hits do not each read it and a change still applies
// on every node within moments.
type privacySetting struct {
	read func(ctx context.Context) (bool, error)
	ttl  time.Duration
	log  *slog.Logger

	mu   sync.Mutex
	at   time.Time
	anon bool
}

func (p *privacySetting) anonymous(ctx context.Context) bool {
	if p.read == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.at) < p.ttl {
		return p.anon
	}
	anon, err := p.read(ctx)
	if err != nil {
		// Keep the last answer (anonymous if never read: the safe side
		// for readers) and ask again on the next hit.
		p.log.Error("read the privacy setting", "err", err)
		return p.anon || p.at.IsZero()
	}
	p.anon, p.at = anon, time.Now()
	return anon
}

// clickRedirect sends the reader on to a link of the campaign's edition,
// and only to one: any other URL is refused, so the endpoint is no open
// redirect.
func (s *Server) clickRedirect(w http.ResponseWriter, r *http.Request) {
	c, err := s.signer.Verify(r.PathValue("token"), token.Click, now())
	if err != nil {
		s.badToken(w, r)
		return
	}
	info, err := s.campaigns.get(r.Context(), c.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		s.badToken(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "read campaign", err)
		return
	}
	target := r.URL.Query().Get("u")
	if _, ok := info.links[target]; !ok || !(strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://")) {
		s.badToken(w, r)
		return
	}
	s.record(r, info, model.Event{Kind: model.EventClick, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID, URL: target, At: time.Now().UTC()})
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// pixel is a transparent 1x1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// openPixel records an open and always answers with the image, so a mail
// client never shows a broken picture; a bad token just records nothing.
func (s *Server) openPixel(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimSuffix(r.PathValue("file"), ".gif")
	if c, err := s.signer.Verify(tok, token.Open, now()); err == nil {
		if info, err := s.campaigns.get(r.Context(), c.CampaignID); err == nil {
			s.record(r, info, model.Event{Kind: model.EventOpen, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID, At: time.Now().UTC()})
		}
	}
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-store, private")
	w.Write(pixel)
}

// hiddenLink is the target of the link every tracked HTML email carries
// where no reader can see or reach it (delivery adds it): whatever follows
// it is a machine, and so are that recipient's clicks around it (engage's
// hidden-link rule). It answers like any link, with a redirect home.
func (s *Server) hiddenLink(w http.ResponseWriter, r *http.Request) {
	if c, err := s.signer.Verify(r.PathValue("token"), token.Click, now()); err == nil {
		if info, err := s.campaigns.get(r.Context(), c.CampaignID); err == nil {
			s.record(r, info, model.Event{Kind: model.EventClick, CampaignID: c.CampaignID, SubscriberID: c.SubscriberID,
				At: time.Now().UTC(), Class: model.ClassMachine, Reason: engage.ReasonHiddenLink})
		}
	}
	h := w.Header()
	h.Set("Location", s.base+"/")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
