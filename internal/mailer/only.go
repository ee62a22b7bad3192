package mailer

import (
	"context"
	"fmt"
)

// Only returns a Sender that uses the named relay alone, for a campaign
// that must go out through one relay (a dedicated IP, a provider chosen for
// its audience). It shares the Mailer's connections, limits and breaker; it
// never fails over to another relay.
func (m *Mailer) Only(name string) (Sender, error) {
	r, ok := m.byName[name]
	if !ok {
		return nil, fmt.Errorf("mailer: no relay named %q", name)
	}
	return &onlySender{m: m, r: r}, nil
}

type onlySender struct {
	m *Mailer
	r *relay
}

func (o *onlySender) Send(ctx context.Context, env Envelope, msg []byte) error {
	err := o.send(ctx, env, msg)
	o.m.obs.Message(o.r.cfg.Name, err)
	return err
}

func (o *onlySender) send(ctx context.Context, env Envelope, msg []byte) error {
	if err := env.check(); err != nil {
		return &Error{Class: Permanent, Stage: StageMail, Text: err.Error()}
	}
	if err := o.m.waitHourly(ctx); err != nil {
		return err
	}
	if !o.r.breaker.allow(o.m.clock.Now()) {
		return &Error{Class: Temporary, Stage: StageConnect, Relay: o.r.cfg.Name,
			Text: "the campaign's relay is out of rotation after repeated failures"}
	}
	if err := o.r.send(ctx, o.m.clock, env, msg); err != nil {
		return err
	}
	return nil
}
