package model

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// TimeZoneAttribute is the subscriber attribute that names their time zone
// (an IANA name such as Europe/London), used by local-time delivery.
const TimeZoneAttribute = "tz"

var zones sync.Map // name -> *time.Location, for names that loaded

// LoadZone returns the IANA time zone name names, or an error a person can
// act on. Loaded zones are kept: a campaign start or an import asks for the
// same few names again and again.
func LoadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("%q is not a time zone name such as Europe/London", name)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a time zone name such as Europe/London", name)
	}
	zones.Store(name, z)
	return z, nil
}

// CheckAttributes returns an error when an attribute with a meaning to
// Herald holds a value it cannot use (tz that is not a zone name).
func CheckAttributes(attrs map[string]any) error {
	v, ok := attrs[TimeZoneAttribute]
	if !ok {
		return nil
	}
	s, _ := v.(string)
	if _, err := LoadZone(s); err != nil {
		return fmt.Errorf("attribute %s: %w", TimeZoneAttribute, err)
	}
	return nil
}

// ParseLocalTime reads a time of day written HH:MM (24-hour clock).
func ParseLocalTime(s string) (hour, minute int, err error) {
	t, perr := time.Parse("15:04", s)
	if perr != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("%q is not a time of day written HH:MM, such as 07:00", s)
	}
	return t.Hour(), t.Minute(), nil
}

// NextLocal returns the first instant at or after now when the clock in zone
// reads hour:minute: today's if it has not passed there yet, else
// tomorrow's. On a day when that time does not exist (a clock change), it
// is the moment the clock moves past it.
func NextLocal(now time.Time, zone *time.Location, hour, minute int) time.Time {
	local := now.In(zone)
	at := time.Date(local.Year(), local.Month(), local.Day(), hour, minute, 0, 0, zone)
	if at.Before(now) {
		at = time.Date(local.Year(), local.Month(), local.Day()+1, hour, minute, 0, 0, zone)
	}
	return at.UTC()
}
