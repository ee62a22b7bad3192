package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// csrfCookie holds a random browser identifier; forms carry its HMAC. A
// page on another site can make the browser send the cookie but cannot
// read it, so it cannot forge the form field (signed double submit).
const csrfCookie = "herald_csrf"

// csrfField is the form field that carries the token.
const csrfField = "csrf"

type csrfKey []byte

func (k csrfKey) mac(id string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("herald-csrf\x00"))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// csrfToken returns the token for this browser's forms, setting the cookie
// when the browser has none yet.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		return s.csrf.mac(c.Value)
	}
	var b [16]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 7 * 24 * 3600,
	})
	return s.csrf.mac(id)
}

// csrfOK reports whether the posted form carries the token for this
// browser's cookie. Call it after the form is parsed.
func (s *Server) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(s.csrf.mac(c.Value)))
}

// badCSRF answers a form post whose token is missing or wrong.
func (s *Server) badCSRF(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusForbidden, "error.expired_title", "error.expired")
}
