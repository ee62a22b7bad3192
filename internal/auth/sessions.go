package auth

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/store"
)

// SessionInfo is one signed-in session as its user (or an owner) sees it.
type SessionInfo struct {
	// Ref names the session in forms: the hash of its cookie, which cannot
	// be turned back into the cookie.
	Ref    string
	Device string // in English (Device); Browser and System for other languages
	// Browser and System are the device's parts (DeviceParts).
	Browser, System string
	IP              string
	Method          string
	CreatedAt       time.Time
	LastSeenAt      time.Time
	Current         bool
}

// Sessions returns a user's signed-in sessions, the most recent first;
// current (a session hash) is marked.
func Sessions(ctx context.Context, st *store.Store, userID int64, current string) ([]SessionInfo, error) {
	ss, err := st.UserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(ss))
	for i, s := range ss {
		b, sys := DeviceParts(s.UserAgent)
		out[i] = SessionInfo{Ref: s.IDHash, Device: Device(s.UserAgent), Browser: b, System: sys, IP: s.IP, Method: s.Method,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, Current: s.IDHash == current}
	}
	return out, nil
}

// EndSession ends one of a user's sessions.
func EndSession(ctx context.Context, st *store.Store, userID int64, ref string) error {
	return st.DeleteUserSession(ctx, userID, ref)
}

// EndOtherSessions ends every session of a user but keep (a session hash;
// "" ends them all, as an owner does for someone else), returning how
// many ended.
func EndOtherSessions(ctx context.Context, st *store.Store, userID int64, keep string) (int64, error) {
	return st.DeleteOtherSessions(ctx, userID, keep)
}

var (
	reEdge    = regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+)`)
	reFirefox = regexp.MustCompile(`(?:Firefox|FxiOS)/(\d+)`)
	reChrome  = regexp.MustCompile(`(?:HeadlessChrome|Chrome|CriOS|Chromium)/(\d+)`)
	reSafari  = regexp.MustCompile(`Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/`)
)

// Device names the browser and system of a User-Agent for people
// ("Firefox 128 on Windows"), or "Unknown device": the English form of
// DeviceParts.
func Device(ua string) string {
	browser, system := DeviceParts(ua)
	switch {
	case ua == "":
		return "Unknown device"
	case browser == "":
		browser = "Browser"
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// DeviceParts reads the browser ("Firefox 128") and system ("Windows")
// from a User-Agent, for a page to put into a sentence of its language;
// either is "" when the User-Agent does not say.
func DeviceParts(ua string) (browser, system string) {
	switch {
	case ua == "":
		return "", ""
	case reEdge.MatchString(ua):
		browser = "Edge " + reEdge.FindStringSubmatch(ua)[1]
	case reFirefox.MatchString(ua):
		browser = "Firefox " + reFirefox.FindStringSubmatch(ua)[1]
	case reChrome.MatchString(ua):
		m := reChrome.FindStringSubmatch(ua)
		browser = "Chrome " + m[1]
		if strings.Contains(ua, "HeadlessChrome") {
			browser = "Headless Chrome " + m[1]
		}
	case reSafari.MatchString(ua):
		browser = "Safari " + reSafari.FindStringSubmatch(ua)[1]
	case strings.HasPrefix(ua, "curl/"):
		browser = "curl"
	}
	switch {
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		system = "iOS"
	case strings.Contains(ua, "Android"):
		system = "Android"
	case strings.Contains(ua, "Windows"):
		system = "Windows"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		system = "macOS"
	case strings.Contains(ua, "CrOS"):
		system = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		system = "Linux"
	}
	return browser, system
}

// Provider is the single sign-on provider a session began with ("" for
// a password or a passkey).
func (s SessionInfo) Provider() string {
	if p, ok := strings.CutPrefix(s.Method, "sso:"); ok {
		return p
	}
	return ""
}
