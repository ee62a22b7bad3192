package delivery

import (
	"context"
	"log/slog"

	"github.com/herald-news/herald/internal/mailer"
)

// ErasureStore is the part of the store an outbox sweep reads.
type ErasureStore interface {
	ListenErasures(ctx context.Context, fn func()) error
	Erased(ctx context.Context, email string) (bool, error)
}

// KeepOutboxErased keeps erased subscribers' mail out of this node's
// outbox until ctx ends: it sweeps the outbox when it starts, and again
// whenever any node erases someone (on PostgreSQL, which tells every
// node; the erasing node's own OnErase hook removes its copies at once).
// serve runs it beside the outbox; a failed sweep is logged (log may be
// nil) and retried at the next erasure.
func KeepOutboxErased(ctx context.Context, st ErasureStore, o *mailer.Outbox, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	err := st.ListenErasures(ctx, func() {
		n, err := o.RemoveAddressedToAny(func(email string) (bool, error) { return st.Erased(ctx, email) })
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("remove erased subscribers' mail from the outbox", "err", err)
		case n > 0:
			log.Info("removed erased subscribers' mail from the outbox", "messages", n)
		}
	})
	<-ctx.Done() // on SQLite, after the first sweep: the one process's own hooks do the rest
	return err
}
