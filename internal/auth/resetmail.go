package auth

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"time"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// ErrResetGone is a queued reset message no longer worth sending: the
// request was used, expired or its user removed.
var ErrResetGone = errors.New("password reset no longer wanted")

// ResetNotice is what a password reset message says, to whom; the mail
// queue (package delivery) builds and sends the message.
type ResetNotice struct {
	To, Name            string
	Subject, Text, HTML string
}

// ResetMessage is the message of a queued password reset request (the
// mail queue's model.MailPasswordReset job), in the language the user
// reads the admin in; site names the newsroom. The link's lifetime is the
// request's, so a message sent late says so honestly.
func ResetMessage(ctx context.Context, st *store.Store, signer *token.Signer, baseURL, site string, resetID int64) (*ResetNotice, error) {
	r, u, err := st.PasswordResetByID(ctx, resetID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrResetGone
	}
	if err != nil {
		return nil, err
	}
	left := time.Until(r.ExpiresAt)
	if !r.UsedAt.IsZero() || left <= 0 {
		return nil, ErrResetGone
	}
	link := ResetLink(signer, baseURL, r)
	// In the language the user reads the admin in.
	l := i18n.For(cmp.Or(u.Language, i18n.Source))
	paras := []string{
		l.Plain("admin.account.mail.asked", "Email", u.Email, "Site", site),
		l.N("admin.account.mail.open", max(1, int(left.Round(time.Minute).Minutes()))),
		l.Plain("admin.account.mail.ignore"),
	}
	var html bytes.Buffer
	if err := resetHTML.Execute(&html, map[string]any{"Site": site, "Paragraphs": paras, "Link": link, "Lang": l.Lang(), "Dir": l.Dir(),
		"Button": l.T("admin.account.mail.button"), "Address": l.T("admin.account.mail.address", "Link", link)}); err != nil {
		return nil, fmt.Errorf("reset message: %w", err)
	}
	return &ResetNotice{To: u.Email, Name: u.Name, Subject: l.Plain("admin.account.mail.subject"),
		Text: paras[0] + "\n\n" + paras[1] + "\n\n" + link + "\n\n" + paras[2] + "\n", HTML: html.String()}, nil
}

var resetHTML = template.Must(template.New("reset").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f6f4ef;font:16px/1.6 Arial,sans-serif;color:#1d2125">
<div style="max-width:520px;margin:0 auto;background:#fff;border:1px solid #e2ddd3;border-radius:8px;padding:28px">
<p style="margin:0 0 4px;font-weight:bold;font-size:18px">{{.Site}}</p>
<p>{{index .Paragraphs 0}}</p><p>{{index .Paragraphs 1}}</p>
<p><a href="{{.Link}}" style="display:inline-block;background:#1a4d7a;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:bold">{{.Button}}</a></p>
<p style="font-size:13px;color:#5f6670">{{.Address}}</p>
<p>{{index .Paragraphs 2}}</p>
</div></body></html>`))
