package admin

import (
	"errors"
	"time"
)

// The admin has one clock: the newsroom's time zone (the one setting,
// store.NewsroomZoneSetting, UTC until it is set). Every time a page shows
// is in it, labelled with it, and every time a form takes (a datetime-local
// input) is read in it. These are the helpers every page and form uses.

// localInputLayout is the layout of an <input type="datetime-local">.
const localInputLayout = "2006-01-02T15:04"

// errNotATime is what parseLocal returns for a value that is not a date
// and time; front doors show their own words for it.
var errNotATime = errors.New("not a date and time")

// parseLocal reads a datetime-local value ("2026-12-07T18:00") as a time
// in loc, the newsroom's zone, and returns it in UTC. A wall time skipped
// by a clock change is read as the moment after the gap (Go's rule).
func parseLocal(v string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(localInputLayout, v, loc)
	if err != nil {
		return time.Time{}, errNotATime
	}
	return t.UTC(), nil
}

// zonedTime shows t in loc with the zone's abbreviation or offset
// ("2026-12-07 18:00 CET"), "—" for the zero time. The numeric date reads
// the same in every language of the admin.
func zonedTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// When shows an instant in the newsroom's zone, labelled with it.
func (p pageData) When(t time.Time) string { return zonedTime(t, p.Zone) }

// loc is the newsroom's zone, UTC until it is set.
func (p pageData) loc() *time.Location {
	if p.Zone == nil {
		return time.UTC
	}
	return p.Zone
}

// ZoneName is the newsroom's zone as the pages label it ("Europe/Paris",
// "UTC").
func (p pageData) ZoneName() string { return p.loc().String() }

// LocalInput is t as a datetime-local input's value in the newsroom's
// zone ("" for the zero time).
func (p pageData) LocalInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.loc()).Format(localInputLayout)
}

// Day shows the day of an instant in the newsroom's zone ("2026-12-07"),
// numeric as every date in the admin.
func (p pageData) Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc()).Format(time.DateOnly)
}
