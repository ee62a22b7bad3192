package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/token"
)

// ErrResetGone is a queued reset message no longer worth sending: the
// request was used, expired or its user removed.
var ErrResetGone = errors.New("password reset no longer wanted")

// ResetMail builds the message of a queued password reset request (the
// mail queue's MailPasswordReset job): from is the sender address
// ("Name <address>" or an address), site the newsroom's name. The link's
// lifetime is the request's, so a message sent late says so honestly.
func ResetMail(ctx context.Context, st *store.Store, signer *token.Signer, baseURL, from, site string, resetID int64) (to string, msg []byte, err error) {
	r, u, err := st.PasswordResetByID(ctx, resetID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrResetGone
	}
	if err != nil {
		return "", nil, err
	}
	if !r.UsedAt.IsZero() || !time.Now().Before(r.ExpiresAt) {
		return "", nil, ErrResetGone
	}
	link := ResetLink(signer, baseURL, r)
	left := time.Until(r.ExpiresAt).Round(time.Minute)
	paras := []string{
		"Someone, hopefully you, asked to reset the password of " + u.Email + " in " + site + "'s Herald.",
		fmt.Sprintf("Open the link below to choose a new one. It works once, for the next %d minutes, and signs out every browser that used the old password.", int(left.Minutes())),
		"Did not ask? Ignore this message: your password stays as it is.",
	}
	var text strings.Builder
	text.WriteString(paras[0] + "\n\n" + paras[1] + "\n\n" + link + "\n\n" + paras[2] + "\n")
	var html bytes.Buffer
	if err := resetHTML.Execute(&html, map[string]any{"Site": site, "Paragraphs": paras, "Link": link}); err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}

	fromAddr, err := gomail.ParseAddress(from)
	if err != nil {
		return "", nil, fmt.Errorf("reset message sender %q: %w", from, err)
	}
	var h gomail.Header
	h.SetDate(time.Now())
	h.SetAddressList("From", []*gomail.Address{fromAddr})
	h.SetAddressList("To", []*gomail.Address{{Name: u.Name, Address: u.Email}})
	h.SetSubject("Reset your Herald password")
	if err := h.GenerateMessageIDWithHostname(fromAddr.Address[strings.LastIndexByte(fromAddr.Address, '@')+1:]); err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}
	h.Set("Auto-Submitted", "auto-generated")
	var buf bytes.Buffer
	mw, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}
	iw, err := mw.CreateInline()
	if err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}
	for _, part := range []struct{ ct, body string }{{"text/plain", text.String()}, {"text/html", html.String()}} {
		var ph gomail.InlineHeader
		ph.SetContentType(part.ct, map[string]string{"charset": "utf-8"})
		pw, err := iw.CreatePart(ph)
		if err != nil {
			return "", nil, fmt.Errorf("reset message: %w", err)
		}
		if _, err := pw.Write([]byte(part.body)); err != nil {
			return "", nil, fmt.Errorf("reset message: %w", err)
		}
		if err := pw.Close(); err != nil {
			return "", nil, fmt.Errorf("reset message: %w", err)
		}
	}
	if err := iw.Close(); err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}
	if err := mw.Close(); err != nil {
		return "", nil, fmt.Errorf("reset message: %w", err)
	}
	return u.Email, buf.Bytes(), nil
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
