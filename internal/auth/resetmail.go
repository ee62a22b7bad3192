package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"time"

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
// mail queue's model.MailPasswordReset job); site names the newsroom. The
// link's lifetime is the request's, so a message sent late says so
// honestly.
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
	paras := []string{
		"Someone, hopefully you, asked to reset the password of " + u.Email + " in " + site + "'s Herald.",
		fmt.Sprintf("Open the link below to choose a new one. It works once, for the next %d minutes, and signs out every browser that used the old password.",
			max(1, int(left.Round(time.Minute).Minutes()))),
		"Did not ask? Ignore this message: your password stays as it is.",
	}
	var html bytes.Buffer
	if err := resetHTML.Execute(&html, map[string]any{"Site": site, "Paragraphs": paras, "Link": link}); err != nil {
		return nil, fmt.Errorf("reset message: %w", err)
	}
	return &ResetNotice{To: u.Email, Name: u.Name, Subject: "Reset your Herald password",
		Text: paras[0] + "\n\n" + paras[1] + "\n\n" + link + "\n\n" + paras[2] + "\n", HTML: html.String()}, nil
}

var resetHTML = template.Must(template.New("reset").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f6f4ef;font:16px/1.6 Arial,sans-serif;color:#1d2125">
<div style="max-width:520px;margin:0 auto;background:#fff;border:1px solid #e2ddd3;border-radius:8px;padding:28px">
<p style="margin:0 0 4px;font-weight:bold;font-size:18px">{{.Site}}</p>
<p>{{index .Paragraphs 0}}</p><p>{{index .Paragraphs 1}}</p>
<p><a href="{{.Link}}" style="display:inline-block;background:#1a4d7a;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:bold">Choose a new password</a></p>
<p style="font-size:13px;color:#5f6670">Or open this address: {{.Link}}</p>
<p>{{index .Paragraphs 2}}</p>
</div></body></html>`))
