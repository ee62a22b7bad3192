package cli

import (
	"context"
	"sync"

	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/mailer"
	"github.com/herald-news/herald/internal/series"
	"github.com/herald-news/herald/internal/source"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/unfurl"
)

// runDesk starts the editorial desk's background work on a sending node:
// the feed poller and the series scheduler. Both coordinate through the
// store, so every node may run them. The returned func waits for them to
// stop once ctx ends.
func (e *env) runDesk(ctx context.Context, cfg *config.Config, s *store.Store, tr mailer.Sender) func() {
	poller := &source.Poller{Store: s, Client: unfurl.NewClient(unfurl.Options{}), Log: e.log}
	sched := &series.Scheduler{Store: s, From: cfg.From, Log: e.log,
		Remind: series.MailReminder(tr, cfg.From, cfg.BaseURL)}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); poller.Run(ctx) }()
	go func() { defer wg.Done(); sched.Run(ctx) }()
	return wg.Wait
}
