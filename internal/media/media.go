// Package media takes in the pictures editors upload (a hero image, a
// picture in a story) and stores them for mail and web pages.
//
// Contract: Save is the one rule for every front door (the composer, the
// API): a file over MaxBytes, larger than MaxPixels once decoded, or of a
// type other than JPEG, PNG, GIF or WebP is refused with a *TooLarge or
// ErrType error the front door words for its reader; a picture wider than
// Width is scaled down to it with a Catmull-Rom filter (golang.org/x/image),
// turned upright as the camera's EXIF orientation says, and stored under
// the hash of what is stored, so the same picture uploaded twice is one
// file.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // reads GIF uploads' size (GIFs are kept as they came)
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decodes WebP uploads

	"github.com/herald-news/herald/internal/store"
)

// Limits on an upload.
const (
	// MaxBytes is the largest file accepted: a phone's photo fits.
	MaxBytes = 16 << 20
	// MaxPixels bounds the decoded picture (width × height), so a small
	// file cannot unpack into gigabytes.
	MaxPixels = 60_000_000
	// Width is the widest picture stored: twice the email's 600-pixel
	// column, sharp on high-density screens, and the web page's width.
	Width = 1200
	// jpegQuality is the quality scaled JPEGs are written at.
	jpegQuality = 85
)

// ErrType refuses a file that is not a JPEG, PNG, GIF or WebP picture.
var ErrType = errors.New("media: not a JPEG, PNG, GIF or WebP picture")

// TooLarge refuses a file over MaxBytes (Size is the file's size in
// bytes) or a picture over MaxPixels (Pixels is its size).
type TooLarge struct {
	Size, Limit    int64
	Pixels, MaxPix int
	Width, Height  int
}

func (e *TooLarge) Error() string {
	if e.Pixels > 0 {
		return fmt.Sprintf("media: the picture is %d×%d pixels; the limit is %d pixels in all", e.Width, e.Height, e.MaxPix)
	}
	return fmt.Sprintf("media: the file is %d bytes; the limit is %d", e.Size, e.Limit)
}

// Picture is a stored picture.
type Picture struct {
	Name          string // content hash and extension, served at /media/{Name}
	ContentType   string
	Width, Height int
	Scaled        bool // it was scaled down to Width
	Bytes         int  // its stored size
}

// Check refuses a file of size bytes before it is read: front doors call
// it with the size the client announced, so an oversized upload costs
// nothing.
func Check(size int64) error {
	if size > MaxBytes {
		return &TooLarge{Size: size, Limit: MaxBytes}
	}
	return nil
}

// Read reads an upload of at most MaxBytes from r, refusing a longer one.
func Read(r io.Reader, size int64) ([]byte, error) {
	if err := Check(size); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: read upload: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, &TooLarge{Size: max(size, int64(len(data))), Limit: MaxBytes}
	}
	return data, nil
}

// Prepare checks a picture and scales it down to Width when it is wider,
// upright as its EXIF orientation says. It stores nothing.
func Prepare(data []byte) (*store.Media, *Picture, error) {
	if err := Check(int64(len(data))); err != nil {
		return nil, nil, err
	}
	ct := http.DetectContentType(data)
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}[ct]
	if ext == "" {
		return nil, nil, ErrType
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, nil, ErrType
	}
	if cfg.Width*cfg.Height > MaxPixels {
		return nil, nil, &TooLarge{Pixels: cfg.Width * cfg.Height, MaxPix: MaxPixels, Width: cfg.Width, Height: cfg.Height}
	}
	pic := &Picture{ContentType: ct, Width: cfg.Width, Height: cfg.Height}
	orient := 1
	if ct == "image/jpeg" {
		orient = exifOrientation(data)
	}
	w := cfg.Width
	if orient >= 5 { // turned a quarter: the picture's width is the file's height
		w = cfg.Height
	}
	// Animated GIFs keep their frames; a picture that fits and stands
	// upright is stored as it came.
	if ct != "image/gif" && (w > Width || orient > 1) {
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, nil, ErrType
		}
		// Scale in the file's orientation, then turn the smaller picture.
		b := img.Bounds()
		if w > Width {
			tw, th := Width, max(1, b.Dy()*Width/b.Dx())
			if orient >= 5 {
				tw, th = max(1, b.Dx()*Width/b.Dy()), Width
			}
			dst := image.NewRGBA(image.Rect(0, 0, tw, th))
			draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
			img = dst
			pic.Scaled = true
		}
		img = upright(img, orient)
		var buf bytes.Buffer
		switch ct {
		case "image/png":
			err = png.Encode(&buf, img)
		default: // JPEG, and WebP (which Go cannot write) as JPEG
			ct, ext = "image/jpeg", ".jpg"
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
		}
		if err != nil {
			return nil, nil, fmt.Errorf("media: encode: %w", err)
		}
		data = buf.Bytes()
		b = img.Bounds()
		pic.ContentType, pic.Width, pic.Height = ct, b.Dx(), b.Dy()
	}
	sum := sha256.Sum256(data)
	pic.Name = hex.EncodeToString(sum[:16]) + ext
	pic.Bytes = len(data)
	return &store.Media{Name: pic.Name, ContentType: pic.ContentType, Data: data}, pic, nil
}

// URL is the public address of the stored picture name under the
// server's base URL (a server without one answers on its default
// loopback address).
func URL(baseURL, name string) string {
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	return strings.TrimRight(baseURL, "/") + "/media/" + name
}

// Save prepares a picture (Prepare) and stores it.
func Save(ctx context.Context, st *store.Store, data []byte) (*Picture, error) {
	m, pic, err := Prepare(data)
	if err != nil {
		return nil, err
	}
	if err := st.SaveMedia(ctx, m); err != nil {
		return nil, err
	}
	return pic, nil
}
