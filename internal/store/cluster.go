package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Several Herald nodes can share one PostgreSQL database. The database does
// the coordination: row claims skip locked rows, one node at a time holds
// the scheduler's advisory lock, and NOTIFY tells every node at once that a
// campaign started, paused, resumed or was cancelled. On SQLite there is one
// process, so these are trivial.

const leaderLockKey = 7210002

// notifyChannel is the NOTIFY channel of this store's schema: deployments
// (and test schemas) sharing one database do not wake each other.
func (s *Store) notifyChannel() string { return s.channel("campaigns") }

// channel is the NOTIFY channel of this schema for topic.
func (s *Store) channel(topic string) string {
	return fmt.Sprintf("herald_%s_%08x", topic, crc32.ChecksumIEEE([]byte(s.schema)))
}

// notifyErasure tells every node that a subscriber was erased, so that
// each removes the copies of their mail it keeps outside the database
// (ListenErasures). The notice carries no address. A no-op on SQLite.
func (s *Store) notifyErasure(ctx context.Context) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `SELECT pg_notify($1, 'erased')`, s.channel("erasures")); err != nil {
		return fmt.Errorf("notify other nodes of an erasure: %w", err)
	}
	return nil
}

// ListenErasures calls fn whenever any node erases a subscriber, until ctx
// ends, and also each time it starts listening (at first and after a
// reconnect), since erasures may have been missed meanwhile: fn should
// sweep for every erased address (Erased). On SQLite (one process, whose
// own erasures run the OnErase hooks) it calls fn once and returns.
func (s *Store) ListenErasures(ctx context.Context, fn func()) error {
	if s.dialect != dialectPostgres {
		fn()
		return nil
	}
	return s.listen(ctx, s.channel("erasures"), fn)
}

// NotifyCampaigns tells every node that campaigns changed (a start, pause,
// resume or cancel), so they look for work now instead of at their next
// poll. It is a no-op on SQLite.
func (s *Store) NotifyCampaigns(ctx context.Context) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `SELECT pg_notify($1, 'changed')`, s.notifyChannel()); err != nil {
		return fmt.Errorf("notify other nodes: %w", err)
	}
	return nil
}

// ListenCampaigns calls fn whenever any node calls NotifyCampaigns, until
// ctx ends, and also each time it starts listening (at first and after a
// reconnect), since notices may have been missed meanwhile. It holds one
// connection. On SQLite it returns at once.
func (s *Store) ListenCampaigns(ctx context.Context, fn func()) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	return s.listen(ctx, s.notifyChannel(), fn)
}

// listen calls fn on every notice on channel, and each time it starts
// listening, until ctx ends.
func (s *Store) listen(ctx context.Context, channel string, fn func()) error {
	for {
		// listenOnce returns only when its connection is gone (or ctx
		// ended): a notice may have been missed, so wake the caller, then
		// listen again on a new connection.
		_ = s.listenOnce(ctx, channel, fn) // its failure is why it listens again
		if ctx.Err() != nil {
			return nil
		}
		fn()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, fn func()) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+channel); err != nil {
			return err
		}
		defer func() { _, _ = pc.Exec(context.Background(), "UNLISTEN "+channel) }() // the connection is released next
		fn()                                                                         // listening now: anything from here on is heard
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				return err
			}
			fn()
		}
	})
}

// Leadership is the scheduler lock of one node.
type Leadership struct {
	conn *sql.Conn
}

// TryLead takes the scheduler lock if no other node holds it. It returns
// nil, nil when another node leads. Keep the Leadership while leading; it
// ends when released or when this node's connection dies, so a dead
// leader's lock passes to the next node that tries. On SQLite the single
// process always leads.
func (s *Store) TryLead(ctx context.Context) (*Leadership, error) {
	if s.dialect != dialectPostgres {
		return &Leadership{}, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("scheduler lock: %w", err)
	}
	var got bool
	// The lock is keyed by schema too, so deployments sharing a database
	// in different schemas each have their own leader.
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, leaderLockKey).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("scheduler lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, nil
	}
	return &Leadership{conn: conn}, nil
}

// Alive reports whether the lock is still held (its connection answers).
func (l *Leadership) Alive(ctx context.Context) bool {
	if l.conn == nil {
		return true
	}
	return l.conn.PingContext(ctx) == nil
}

// Release gives the lock up.
func (l *Leadership) Release() error {
	if l.conn == nil {
		return nil
	}
	_, err := l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, leaderLockKey)
	// Closing returns the connection to the pool; if the unlock failed the
	// connection is broken, and the server drops the lock with it.
	return errors.Join(err, l.conn.Close())
}

// skipLocked is the clause a queue's claim adds to its inner SELECT: on
// PostgreSQL, rows another node is claiming are skipped rather than waited
// for; SQLite's single writer needs nothing.
func (s *Store) skipLocked() string {
	if s.dialect == dialectPostgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
