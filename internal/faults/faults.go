// Package faults proves Herald's delivery guarantees under faults and
// measures how sending scales across nodes. Its tests are the fault suite:
// herald nodes (child processes) killed with SIGKILL mid-campaign and
// mid-import, an SMTP relay that answers 4xx and 5xx, drops connections
// mid-DATA, goes down and comes back, and PostgreSQL restarted under
// running nodes; each asserts counts from the receiving SMTP sink and from
// the delivery ledger. ScaleBench is the scaling benchmark: the same
// campaign sent by 1, 2, 3... nodes on one PostgreSQL into one sink, with
// the database work each message costs.
//
// The package starts herald processes through a Launcher, so the herald
// binary (re-executing itself) and the test binary (re-executing itself as
// a herald child) share the same code. It never imports the command line.
package faults

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/smtpsink"
	"github.com/herald-news/herald/internal/store"
)

// Launcher builds the command that runs herald with args, such as
// ["campaign", "run", "1", "--relay", URL]. The caller adds environment
// variables to the command's Env (which the Launcher fills from the
// current environment) and starts it.
type Launcher func(args ...string) *exec.Cmd

// Executable is the Launcher for a herald binary at path (for the herald
// binary itself: os.Executable()).
func Executable(path string) Launcher {
	return func(args ...string) *exec.Cmd {
		cmd := exec.Command(path, args...)
		cmd.Env = os.Environ()
		return cmd
	}
}

// Node is a running herald child process.
type Node struct {
	Name string
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error
}

// StartNode starts herald with args and extra environment variables
// ("KEY=value"), capturing its output.
func StartNode(l Launcher, name string, env []string, args ...string) (*Node, error) {
	cmd := l(args...)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	n := &Node{Name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &n.out, &n.out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		n.err = cmd.Wait()
		close(n.done)
	}()
	return n, nil
}

// Done is closed when the process has exited.
func (n *Node) Done() <-chan struct{} { return n.done }

// Wait waits for the process to exit, at most until ctx ends (then it kills
// it), and returns its exit error.
func (n *Node) Wait(ctx context.Context) error {
	select {
	case <-n.done:
		return n.err
	case <-ctx.Done():
		n.Kill()
		return fmt.Errorf("%s did not finish: %w", n.Name, ctx.Err())
	}
}

// Kill sends SIGKILL (no shutdown code runs) and waits for the exit.
func (n *Node) Kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL) // already gone is fine
	<-n.done
}

// Output is what the process printed so far (stdout and stderr).
func (n *Node) Output() string { return n.out.String() }

// CPU is the user plus system CPU time the process used; zero until it exits.
func (n *Node) CPU() time.Duration {
	select {
	case <-n.done:
	default:
		return 0
	}
	if n.cmd.ProcessState == nil {
		return 0
	}
	return n.cmd.ProcessState.UserTime() + n.cmd.ProcessState.SystemTime()
}

// MaxRSS is the process's peak resident set size in bytes; zero until it
// exits, or where the system does not report it.
func (n *Node) MaxRSS() uint64 {
	select {
	case <-n.done:
	default:
		return 0
	}
	return maxRSS(n.cmd.ProcessState)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Recipient is the address of the i-th seeded subscriber.
func Recipient(i int) string { return fmt.Sprintf("reader%06d@example.com", i) }

// Seed fills an empty store with a list of n confirmed subscribers
// (Recipient(0) to Recipient(n-1)), the sample edition and a draft,
// untracked campaign to the list, and returns the campaign's ID.
func Seed(ctx context.Context, s *store.Store, n int) (int64, error) {
	l := &model.List{Slug: "fault-suite", Name: "Fault suite"}
	if err := s.CreateList(ctx, l); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	const chunk = 10000
	rows := make([]store.ImportRow, 0, chunk)
	for start := 0; start < n; start += chunk {
		rows = rows[:0]
		for i := start; i < min(start+chunk, n); i++ {
			rows = append(rows, store.ImportRow{Line: i + 2, Email: Recipient(i), Name: fmt.Sprintf("Reader %d", i)})
		}
		if _, err := s.ImportBatch(ctx, rows, store.ImportOptions{ListID: l.ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
	}
	ed, err := sample.Edition()
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	if err := s.CreateEdition(ctx, ed, ""); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	c := &model.Campaign{Name: "Fault suite", EditionID: ed.ID, ListIDs: []int64{l.ID}, From: "The Ledger <news@example.com>"}
	if err := s.CreateCampaign(ctx, c); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	return c.ID, nil
}

// Tally is what a sink received, per recipient.
type Tally struct {
	Messages   int // accepted messages
	Recipients int // distinct recipients among them
	Duplicates int // Messages - Recipients
	// MixedIDs lists recipients who received two different Message-IDs.
	MixedIDs []string
	Got      map[string]int
}

// Count tallies messages captured by one or more sinks (a relay restarted
// on the same address is a new sink).
func Count(captured ...[]smtpsink.Message) Tally {
	t := Tally{Got: map[string]int{}}
	ids := map[string]string{}
	for _, msgs := range captured {
		for _, m := range msgs {
			for _, to := range m.To {
				to = strings.ToLower(to)
				t.Messages++
				t.Got[to]++
				if prev, ok := ids[to]; ok && prev != m.MessageID {
					t.MixedIDs = append(t.MixedIDs, to)
				}
				ids[to] = m.MessageID
			}
		}
	}
	t.Recipients = len(t.Got)
	t.Duplicates = t.Messages - t.Recipients
	return t
}
