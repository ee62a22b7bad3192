package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/media"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/settings"
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

// editionMedia takes a picture pasted or dropped into the composer: it is
// checked and scaled by the media package's rule and stored; the answer
// (JSON) is its address, or why it was refused, in the editor's words.
func (a *Admin) editionMedia(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.editable(r); err != nil {
		return err
	}
	l := a.lang(r)
	answer := func(status int, v map[string]any) error {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return json.NewEncoder(w).Encode(v)
	}
	if err := r.ParseMultipartForm(16 << 20); err != nil {
		return answer(http.StatusBadRequest, map[string]any{"error": l.T("admin.composer.image.none")})
	}
	fh := r.MultipartForm.File["file"]
	if len(fh) == 0 || fh[0].Size == 0 {
		return answer(http.StatusBadRequest, map[string]any{"error": l.T("admin.composer.image.none")})
	}
	url, pic, err := a.storeUpload(r, fh[0])
	if msg := a.uploadProblem(l, err); msg != "" {
		return answer(http.StatusUnprocessableEntity, map[string]any{"error": msg})
	}
	if err != nil {
		return err
	}
	msg := l.T("admin.composer.image.stored", "Width", pic.Width, "Height", pic.Height)
	if pic.Scaled {
		msg = l.T("admin.composer.image.scaled", "Width", pic.Width, "Height", pic.Height)
	}
	return answer(http.StatusOK, map[string]any{"url": url, "width": pic.Width, "height": pic.Height, "scaled": pic.Scaled, "message": msg})
}

// storeUpload stores one uploaded picture by the media package's rule and
// returns its public address.
func (a *Admin) storeUpload(r *http.Request, fh *multipart.FileHeader) (string, *media.Picture, error) {
	if err := media.Check(fh.Size); err != nil {
		return "", nil, err
	}
	file, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer file.Close()
	data, err := media.Read(file, fh.Size)
	if err != nil {
		return "", nil, err
	}
	pic, err := media.Save(r.Context(), a.d.Store, data)
	if err != nil {
		return "", nil, err
	}
	return media.URL(a.d.BaseURL, pic.Name), pic, nil
}

// editionTest sends a test copy of the saved edition to one address,
// before any campaign exists: from the sender a campaign to the chosen
// list would have (its brand's, else the configured From), in that
// list's brand and language.
func (a *Admin) editionTest(w http.ResponseWriter, r *http.Request) error {
	e, err := a.editable(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	l := a.lang(r)
	back := fmt.Sprintf("/admin/editions/%d#test-copy", e.ID)
	to, err := address.Normalize(r.FormValue("to"))
	if err != nil {
		return a.redirect(w, r, back, l.T("admin.composer.test.no_address"), true)
	}
	if a.d.Sender == nil {
		return a.redirect(w, r, back, l.T("admin.composer.test.no_transport"), true)
	}
	if ps := edition.Validate(e); len(ps) > 0 {
		return a.redirect(w, r, back, l.T("admin.composer.test.not_ready", "Problem", composerProblems(l, e, ps)[0].Text), true)
	}
	c := &model.Campaign{EditionID: e.ID}
	if id, _ := strconv.ParseInt(r.FormValue("list"), 10, 64); id > 0 {
		c.ListIDs = []int64{id}
	}
	if err := settings.FillSender(ctx, a.d.Store, c, a.d.From); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return a.redirect(w, r, back, l.T("admin.composer.test.no_from"), true)
	}
	if err := a.SendTest(ctx, l, c, to); err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			return a.redirect(w, r, back, l.T("admin.composer.test.refused", "Reason", ue.msg), true)
		}
		return err
	}
	return a.redirect(w, r, back, l.T("admin.composer.test.sent", "To", to), false)
}
