package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestMediaInfo(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Bytes a text length would miscount: a NUL and multi-byte runs.
		data := append([]byte("\x89PNG\r\n\x1a\n\x00"), bytes.Repeat([]byte("é\xff"), 1000)...)
		if err := s.SaveMedia(ctx, &store.Media{Name: "cd.png", ContentType: "image/png", Data: data}); err != nil {
			t.Fatal(err)
		}
		size, ctype, err := s.MediaInfo(ctx, "cd.png")
		if err != nil || size != int64(len(data)) || ctype != "image/png" {
			t.Fatalf("MediaInfo = %d %q %v, want %d image/png", size, ctype, err, len(data))
		}
		if _, _, err := s.MediaInfo(ctx, "nope.png"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing media: %v", err)
		}
	})
}
