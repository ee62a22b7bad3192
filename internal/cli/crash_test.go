package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/edition/sample"
	"github.com/herald-news/herald/internal/smtpsink"
)

// crashChildEnv carries the herald arguments for TestCrashChild, joined by
// the unit separator.
const crashChildEnv = "HERALD_CRASH_CHILD_ARGS"

// TestCrashChild is not a test: it is the herald process that
// TestSendSurvivesSIGKILL starts and kills.
func TestCrashChild(t *testing.T) {
	args := os.Getenv(crashChildEnv)
	if args == "" {
		t.Skip("the child process of TestSendSurvivesSIGKILL")
	}
	os.Exit(Run(context.Background(), strings.Split(args, "\x1f"), strings.NewReader(""), os.Stdout, os.Stderr))
}

func TestSendSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sends 20,000 messages")
	}
	const recipients = 20000
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")

	// 20,000 confirmed subscribers and the sample edition.
	var csv bytes.Buffer
	csv.WriteString("email,name\n")
	for i := 0; i < recipients; i++ {
		fmt.Fprintf(&csv, "reader%05d@example.com,Reader %d\n", i, i)
	}
	if _, errs, code := herald(t, nil, nil, data, "lists", "create", "evening", "--name", "Evening"); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := herald(t, nil, &csv, data, "import", "--list", "evening", "--status", "confirmed", "-"); code != 0 {
		t.Fatal(errs)
	}
	edFile := filepath.Join(dir, "edition.md")
	if err := os.WriteFile(edFile, sample.Source(), 0o600); err != nil {
		t.Fatal(err)
	}

	sink, err := smtpsink.Start(smtpsink.Options{EnvelopeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	child := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		// An explicit base_url: mail to readers through a relay needs one.
		cmd.Env = append(os.Environ(), crashChildEnv+"="+strings.Join(append([]string{data}, args...), "\x1f"), "HERALD_BASE_URL=http://127.0.0.1:8080")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	send := []string{"send", "--edition", edFile, "--list", "evening", "--relay", sink.URL()}
	resume := []string{"campaign", "run", "1", "--relay", sink.URL()}

	const kills = 4
	args := send
	for k := 0; k < kills; k++ {
		cmd, out := child(args...)
		// Kill at a random point once this run has sent something.
		target := sink.Count() + 1 + rng.Int64N(recipients/(kills+1))
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed := false
	wait:
		for {
			select {
			case err := <-exited:
				t.Fatalf("child %d exited before it was killed (%v):\n%s", k, err, out)
				break wait
			case <-time.After(2 * time.Millisecond):
			}
			if sink.Count() >= target {
				cmd.Process.Kill() // SIGKILL: no shutdown code runs
				<-exited
				killed = true
				break
			}
		}
		if !killed {
			t.Fatal("not killed")
		}
		t.Logf("kill %d after %d messages received in all", k+1, sink.Count())
		args = resume
	}
	cmd, out := child(resume...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run failed: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "campaign 1 sent: 20000 delivered") {
		t.Fatalf("final run output:\n%s", out)
	}

	got := map[string]int{}
	ids := map[string]string{}
	for _, m := range sink.Messages() {
		to := m.To[0]
		got[to]++
		if prev, ok := ids[to]; ok && prev != m.MessageID {
			t.Errorf("%s received two different Message-IDs: %s and %s", to, prev, m.MessageID)
		}
		ids[to] = m.MessageID
	}
	if len(got) != recipients {
		t.Fatalf("%d recipients received mail, want %d", len(got), recipients)
	}
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	// The engine the CLI builds: 4 workers, claims of 50, outcomes in 100s.
	window := 2*50 + 4 + 100
	t.Logf("%d messages for %d recipients after %d kills: %d duplicates (bound %d)", len(sink.Messages()), recipients, kills, dups, kills*window)
	if dups > kills*window {
		t.Fatalf("%d duplicates after %d kills; the in-flight window allows at most %d", dups, kills, kills*window)
	}
	status, _, _ := herald(t, nil, nil, data, "campaign", "status", "1")
	if !strings.Contains(status, "sent 20000, pending 0, sending 0, deferred 0, failed 0") {
		t.Fatalf("ledger disagrees:\n%s", status)
	}
}
