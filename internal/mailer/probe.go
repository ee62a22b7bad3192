package mailer

import (
	"context"
	"errors"
	"time"
)

// ProbeTimeout bounds a whole relay test: a relay that does not answer
// within it fails the test rather than holding the request.
const ProbeTimeout = 15 * time.Second

// setupStep is the step of a session's setup that failed.
type setupStep int

const (
	stepTLS           setupStep = iota + 1 // TLS handshake or STARTTLS
	stepGreeting                           // greeting and EHLO
	stepAuthInsecure                       // a password would go out without TLS
	stepAuthMechanism                      // no AUTH mechanism we speak
	stepAuth                               // the server refused the credentials
)

// setupError is a failed session setup, naming its step.
type setupError struct {
	step setupStep
	err  error
}

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// Probe tests a relay as sending uses it, without sending: an SMTP relay
// is dialled and set up by the pool's own code (TLS as configured, EHLO,
// the same AUTH mechanisms, the same refusal to send a password in clear
// text to a host that is not loopback) and left with QUIT; an API relay is
// reached (see ProbeAPI). It takes at most ProbeTimeout, or ctx's deadline
// when sooner. Its errors say in words what failed and what to check.
func Probe(ctx context.Context, rc RelayConfig) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	rc.setDefaults()
	if err := rc.validate(); err != nil {
		return err
	}
	if rc.Kind != KindSMTP {
		return ProbeAPI(ctx, rc)
	}
	p := newPool(&rc, Timeouts{Connect: ProbeTimeout, Command: ProbeTimeout, Data: ProbeTimeout}, 0)
	c, err := p.dial(ctx)
	if err != nil {
		return probeError(ctx, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.raw.SetDeadline(dl)
	}
	if err := c.client.Quit(); err != nil {
		c.client.Close()
		return errors.New("the server did not close the session cleanly")
	}
	return nil
}

// probeError words a failed setup for the person testing the relay.
func probeError(ctx context.Context, err error) error {
	var se *setupError
	switch {
	case errors.As(err, &se) && se.step == stepAuthInsecure:
		return errors.New("refusing to send the password without TLS (use tls=starttls or tls=tls, or allow_plain=true if you must)")
	case errors.As(err, &se) && se.step == stepAuthMechanism:
		return errors.New("the server offers neither PLAIN nor LOGIN authentication")
	case errors.As(err, &se) && se.step == stepAuth:
		return errors.New("the server refused the username or password")
	case ctx.Err() != nil:
		return errors.New("the server did not answer in time (check the host and port, and that it is an SMTP server)")
	case errors.As(err, &se) && se.step == stepTLS:
		return errors.New("the SMTP greeting or STARTTLS failed (check the port, the certificate and the server name)")
	case errors.As(err, &se) && se.step == stepGreeting:
		return errors.New("the server did not greet us as an SMTP server")
	}
	return errors.New("could not connect (check the host and port, and that the server is reachable)")
}
