package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/herald-news/herald/client"
	"github.com/herald-news/herald/internal/media"
)

// uploadMedia stores the picture in the request's body by the media
// package's rule, the one the composer's uploads follow.
func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	data, err := media.Read(r.Body, r.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &media.TooLarge{Size: mbe.Limit + 1, Limit: media.MaxBytes}
	}
	var pic *media.Picture
	if err == nil {
		pic, err = media.Save(r.Context(), a.d.Store, data)
	}
	var tl *media.TooLarge
	switch {
	case errors.As(err, &tl) && tl.Pixels > 0:
		return invalid("The picture is %d×%d pixels; pictures may have %d million pixels at most.", tl.Width, tl.Height, tl.MaxPix/1_000_000)
	case errors.As(err, &tl):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("The picture is %d bytes; pictures may be %d bytes (%d MB) at most.", tl.Size, tl.Limit, tl.Limit>>20)}
	case errors.Is(err, media.ErrType):
		return invalid("The body is not a JPEG, PNG, GIF or WebP picture.")
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusCreated, client.Media{URL: media.URL(a.d.BaseURL, pic.Name), Name: pic.Name, ContentType: pic.ContentType,
		Width: pic.Width, Height: pic.Height, Scaled: pic.Scaled, Bytes: pic.Bytes})
}
