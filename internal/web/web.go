// Package web serves Herald's public HTTP surface: health, and (as they
// land) subscribe, confirm, unsubscribe, preferences, archive, feeds,
// tracking and provider webhooks. Handlers hold their dependencies in a
// struct; every route is registered in routes.go.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds what the public handlers need.
type Server struct {
	db  Pinger
	log *slog.Logger
}

// New returns the public HTTP handler.
func New(db Pinger, log *slog.Logger) http.Handler {
	s := &Server{db: db, log: log}
	return s.logRequests(s.routes())
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.db.Ping(ctx); err != nil {
		s.log.Error("health check: database does not answer", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests logs each request once, at the boundary.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
	})
}
