package precheck

import (
	"context"
	"errors"
	"strings"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// EmailInput is m as a reader gets it, before tracking: a reader with no
// name, and Herald's own unsubscribe, preferences and archive links under
// baseURL, which the check leaves alone.
func EmailInput(m *render.Email, baseURL, slug string) Input {
	base := strings.TrimSuffix(baseURL, "/")
	f := render.Fields{UnsubscribeURL: base + "/unsubscribe/preview", PreferencesURL: base + "/preferences/preview",
		WebURL: base + "/archive/" + slug}
	return Input{Subject: m.Subject(), Preheader: m.Preheader(), HTML: m.AppendHTML(nil, f), Own: []string{base}}
}

// Editions checks stored editions, as the composer's panel and the
// warning before a campaign starts show them.
type Editions struct {
	Checker *Checker
	// Email renders a stored edition's email as a campaign of it goes out
	// (delivery.EditionEmail).
	Email   func(ctx context.Context, editionID int64) (*render.Email, *render.Renderer, *model.Edition, error)
	BaseURL string
}

// ErrNoChecker is returned by a nil *Editions: no checks were set up.
var ErrNoChecker = errors.New("pre-send checks are not set up on this server")

// Check renders the edition and checks it.
func (s *Editions) Check(ctx context.Context, editionID int64) (Report, error) {
	if s == nil || s.Checker == nil || s.Email == nil {
		return Report{}, ErrNoChecker
	}
	m, _, ed, err := s.Email(ctx, editionID)
	if err != nil {
		return Report{}, err
	}
	return s.Checker.Check(ctx, EmailInput(m, s.BaseURL, ed.Slug)), nil
}
