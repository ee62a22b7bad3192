package admin

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	gomessage "github.com/emersion/go-message"

	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/mailer"
)

func (a *Admin) outbox(w http.ResponseWriter, r *http.Request) error {
	data := map[string]any{"Enabled": a.d.Outbox != nil}
	if a.d.Outbox != nil {
		p := pager{Offset: intParam(r, "offset", 0), Limit: 50, L: a.lang(r)}
		n, err := a.d.Outbox.Count()
		if err != nil {
			return err
		}
		p.Total = int64(n)
		items, err := a.d.Outbox.List(p.Offset, p.Limit)
		if err != nil {
			return err
		}
		data["Items"], data["Pager"] = items, p
	}
	a.page(w, r, http.StatusOK, "outbox", a.lang(r).T("admin.outbox.title"), "outbox", data)
	return nil
}

// parsedMessage is a stored message split into what the viewer shows.
type parsedMessage struct {
	Item    mailer.OutboxItem
	Headers string
	Text    string
	HasHTML bool
	html    []byte
	Raw     string
}

func (a *Admin) loadOutbox(r *http.Request) (*parsedMessage, error) {
	if a.d.Outbox == nil {
		return nil, &userError{status: http.StatusNotFound, msg: a.lang(r).T("admin.outbox.off_msg")}
	}
	item, raw, err := a.d.Outbox.Get(r.PathValue("id"))
	if errors.Is(err, mailer.ErrNotFound) {
		return nil, &userError{status: http.StatusNotFound, msg: a.lang(r).T("admin.outbox.gone")}
	}
	if err != nil {
		return nil, err
	}
	pm := &parsedMessage{Item: item, Raw: string(raw)}
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		pm.Headers = string(raw[:i])
	}
	ent, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && ent == nil {
		return pm, nil // the raw view still works
	}
	_ = ent.Walk(func(path []int, e *gomessage.Entity, err error) error {
		if err != nil {
			return nil
		}
		ct, _, _ := mime.ParseMediaType(e.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			if pm.Text == "" {
				b, _ := io.ReadAll(io.LimitReader(e.Body, 4<<20))
				pm.Text = string(b)
			}
		case "text/html":
			if pm.html == nil {
				pm.html, _ = io.ReadAll(io.LimitReader(e.Body, 4<<20))
				pm.HasHTML = true
			}
		}
		return nil
	})
	return pm, nil
}

func (a *Admin) outboxMessage(w http.ResponseWriter, r *http.Request) error {
	pm, err := a.loadOutbox(r)
	if err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "outbox_message", pm.Item.Subject, "outbox", pm)
	return nil
}

func (a *Admin) outboxHTML(w http.ResponseWriter, r *http.Request) error {
	pm, err := a.loadOutbox(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Staff reading a message are not a reader opening it.
	_, err = w.Write(delivery.WithoutOpenPixel(pm.html))
	return err
}

func (a *Admin) outboxRaw(w http.ResponseWriter, r *http.Request) error {
	pm, err := a.loadOutbox(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(pm.Item.ID, `"`, "")+`.eml"`)
	_, err = io.WriteString(w, pm.Raw)
	return err
}
