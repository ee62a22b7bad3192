package admin

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/herald-news/herald/internal/store"
)

var mediaName = regexp.MustCompile(`^[0-9a-f]{32}\.(jpg|png|gif|webp)$`)

// Media serves uploaded images publicly at GET /media/{name}: mount it
// on the public server, since the pictures appear in mail and web pages.
func Media(st *store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !mediaName.MatchString(name) {
			http.NotFound(w, r)
			return
		}
		m, err := st.MediaByName(r.Context(), name)
		if errors.Is(err, store.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", m.ContentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// Names are content hashes: a name never changes what it serves.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(m.Data)
	})
}
