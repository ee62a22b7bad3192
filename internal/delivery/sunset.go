package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-news/herald/internal/settings"
	"github.com/herald-news/herald/internal/store"
)

// SunsetStore is the part of the store a sunset acts on.
type SunsetStore interface {
	Sunset(ctx context.Context, p store.SunsetPolicy) (store.SunsetReport, error)
}

// ErrSunsetNeedsTracking is Sunset's refusal when opens and clicks are not
// recorded with the subscriber (tracking off or anonymous): every reader
// would look as if they had stopped reading.
var ErrSunsetNeedsTracking = errors.New("a sunset needs full tracking")

// Sunset applies p (or, dry run, reports it) only while tracking records
// who opens and clicks: the configuration's tracking mode and the admin's
// privacy setting, as they are now. Every door (the scheduler leader's
// daily run, `herald sunset`, the admin's sunset page) runs it here.
func Sunset(ctx context.Context, st SunsetStore, set *settings.Settings, p store.SunsetPolicy) (store.SunsetReport, error) {
	if set != nil {
		if set.NoTracking() {
			return store.SunsetReport{Policy: p}, fmt.Errorf("%w: tracking is off, so nobody's opens and clicks are known", ErrSunsetNeedsTracking)
		}
		anon, err := set.Anonymous(ctx)
		if err != nil {
			return store.SunsetReport{Policy: p}, fmt.Errorf("sunset: read the privacy setting: %w", err)
		}
		if anon {
			return store.SunsetReport{Policy: p}, fmt.Errorf("%w: tracking is anonymous (Admin → Settings, privacy), so nobody's opens and clicks are known", ErrSunsetNeedsTracking)
		}
	}
	return st.Sunset(ctx, p)
}
