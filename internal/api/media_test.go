package api_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/store/storetest"
)

// The API's upload follows the composer's rule: a wide picture is scaled
// to 1200 pixels and served from /media/; what is not a picture is
// refused; a viewer cannot upload.
func TestUploadMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t), false)
	ctx := context.Background()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2400, 600))); err != nil {
		t.Fatal(err)
	}
	m, err := e.client(auth.Author).UploadMedia(ctx, bytes.NewReader(buf.Bytes()))
	if err != nil || m.Width != 1200 || m.Height != 300 || !m.Scaled || m.ContentType != "image/png" || !strings.HasSuffix(m.URL, "/media/"+m.Name) {
		t.Fatalf("upload: %+v, %v", m, err)
	}
	if _, err := e.st.MediaByName(ctx, m.Name); err != nil {
		t.Errorf("not stored: %v", err)
	}
	var ae *client.Error
	if _, err := e.client(auth.Author).UploadMedia(ctx, strings.NewReader("%PDF-1.7")); !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
		t.Errorf("a PDF: %v", err)
	}
	if _, err := e.client(auth.Viewer).UploadMedia(ctx, bytes.NewReader(buf.Bytes())); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("a viewer: %v", err)
	}
}
