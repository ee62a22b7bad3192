package bounce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// Listener is Herald's inbound SMTP server for reports (config
// bounce_smtp_addr): the bounce domain's MX, or a relay, delivers to it. It
// takes mail only for addresses at the bounce domain, refuses a VERP
// address whose token does not verify, and bounds each message to MaxSize.
type Listener struct {
	rec *Recorder
	srv *smtp.Server
}

// NewListener returns a listener that records what it receives with rec;
// hostname is the name it greets with.
func NewListener(rec *Recorder, hostname string) *Listener {
	l := &Listener{rec: rec}
	srv := smtp.NewServer(backend{l})
	srv.Domain = hostname
	srv.MaxMessageBytes = MaxSize
	srv.MaxRecipients = 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slogLogger{rec.log()}
	l.srv = srv
	return l
}

func (r *Recorder) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Serve accepts connections on ln until Close or Shutdown.
func (l *Listener) Serve(ln net.Listener) error {
	err := l.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking connections and waits for those open to finish
// (or ctx to end).
func (l *Listener) Shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

type backend struct{ l *Listener }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{l: b.l, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	l      *Listener
	remote string
	rcpts  []string
}

// Answers of the listener.
var (
	errNotHere = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "no such mailbox here: this server takes bounce reports for its bounce domain only"}
	errForgedRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "bounce address token not valid"}
	errTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "could not record the report; try again later"}
)

func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

// Mail takes any sender: reports come from the null sender <>.
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	v := s.l.rec.VERP
	if !v.AtDomain(to) {
		return errNotHere
	}
	if _, _, err := v.Claims(to); errors.Is(err, ErrForged) {
		s.l.rec.log().Warn("bounce with a forged token refused", "rcpt", to, "remote", s.remote)
		return errForgedRcpt
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return err // too large or cut off: go-smtp answers
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.l.rec.Mail(ctx, s.rcpts, buf.Bytes())
	log := s.l.rec.log()
	switch {
	case errors.Is(err, ErrForged):
		log.Warn("bounce with a forged token refused", "remote", s.remote, "err", err)
		return errForgedRcpt
	case err != nil:
		log.Error("record a bounce report", "remote", s.remote, "err", err)
		return errTryLater
	case out.Recorded != nil:
		log.Info("bounce report recorded", "via", "smtp", "kind", out.Recorded.Kind, "subscriber", out.Recorded.SubscriberID,
			"campaign", out.Recorded.CampaignID, "status", out.Recorded.Status)
	default:
		log.Info("mail to the bounce address taken, nothing to record", "via", "smtp", "why", out.Ignored)
	}
	return nil
}

// slogLogger hands go-smtp's connection errors to slog.
type slogLogger struct{ log *slog.Logger }

func (s slogLogger) Printf(format string, v ...any) {
	s.log.Debug("bounce listener", "msg", fmt.Sprintf(format, v...))
}

func (s slogLogger) Println(v ...any) { s.log.Debug("bounce listener", "msg", fmt.Sprint(v...)) }
