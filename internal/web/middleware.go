package web

import (
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/audit"
)

// Body limits: forms are small; provider webhooks carry batches.
const (
	maxFormBody    = 16 << 10
	maxWebhookBody = 1 << 20
)

// defaultCSP allows nothing but our own stylesheet and images, no scripts,
// forms only to us, and no framing.
const defaultCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the headers every response carries. Handlers may
// replace the CSP (edition pages allow their own inline style and remote
// images).
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", defaultCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer") // token URLs must not leak
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "interest-cohort=(), camera=(), microphone=(), geolocation=()")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer (flushes and
// deadlines for streamed responses).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request once, at the boundary, when debug logging
// is on (it costs nothing otherwise).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		// The route, not the path: paths carry subscribers' tokens.
		s.log.Debug("http", "method", r.Method, "route", r.Pattern, "status", sw.status, "dur", time.Since(start))
	})
}

// clientIP is the address rate limits apply to.
func (s *Server) clientIP(r *http.Request) string {
	return audit.ClientIP(r, s.opts.TrustProxy)
}

// limiter is a token bucket per client IP. Idle buckets are dropped when
// the map grows, so a flood of addresses cannot grow it without bound.
type limiter struct {
	off   bool
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const maxBuckets = 100_000

func newLimiter(rl RateLimit) *limiter {
	return &limiter{off: rl.Off, rate: float64(rl.PerMinute) / 60, burst: float64(rl.Burst), buckets: map[string]*bucket{}}
}

// allow takes one token from ip's bucket and reports whether there was one.
func (l *limiter) allow(ip string, now time.Time) bool {
	if l.off {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep drops buckets that have refilled (they hold no information).
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for ip, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) >= maxBuckets { // all busy: start over rather than grow
		clear(l.buckets)
	}
}

// limited answers 429 with a plain page when ip has no token left.
func (s *Server) limited(w http.ResponseWriter, r *http.Request) bool {
	if s.limiter.allow(s.clientIP(r), time.Now()) {
		return false
	}
	w.Header().Set("Retry-After", "60")
	s.errorPage(w, r, http.StatusTooManyRequests, "error.too_many_title", "error.too_many")
	return true
}

// parseForm reads a form body of at most maxFormBody bytes.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	return r.ParseForm() == nil
}

// cleanInput answers 400 to a request whose path, query or form values
// hold invalid UTF-8 or a NUL, before any handler (or the database, which
// on PostgreSQL refuses such text) sees them. Form bodies are read here,
// bounded like every form; webhook bodies are JSON, whose texts
// bounce.Recorder cleans.
func (s *Server) cleanInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := cleanText(r.URL.Path) && cleanValues(r.URL.Query())
		if ok && r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, "/webhooks/") {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			var err error
			switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
			case "multipart/form-data":
				err = r.ParseMultipartForm(maxFormBody)
			case "application/x-www-form-urlencoded":
				err = r.ParseForm()
			}
			ok = err == nil && cleanValues(r.PostForm)
			if r.MultipartForm != nil {
				ok = ok && cleanValues(r.MultipartForm.Value)
			}
		}
		if !ok {
			s.errorPage(w, r, http.StatusBadRequest, "This request could not be read",
				"The address or the form held characters that are not text. Please check the link and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func cleanValues(v map[string][]string) bool {
	for k, vs := range v {
		if !cleanText(k) {
			return false
		}
		for _, s := range vs {
			if !cleanText(s) {
				return false
			}
		}
	}
	return true
}
