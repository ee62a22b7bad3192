package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/delivery"
	"github.com/herald-news/herald/internal/precheck"
	"github.com/herald-news/herald/internal/progress"
	"github.com/herald-news/herald/internal/store"
)

// checker is the pre-send checker of the configuration (its staging
// domains); public addresses only, outside tests.
func (e *env) checker(cfg *config.Config) *precheck.Checker {
	return precheck.New(precheck.Options{StagingHosts: cfg.StagingDomains, Allow: e.allow})
}

// editionChecks checks stored editions as their campaigns would go out.
func (e *env) editionChecks(cfg *config.Config, s *store.Store) *precheck.Editions {
	return &precheck.Editions{Checker: e.checker(cfg), BaseURL: cfg.BaseURL,
		Email: delivery.EditionEmail(s, defaultPublication(cfg), renderOptions(cfg))}
}

// printFindings writes one line per finding, prefixed (a file name, or a
// campaign).
func printFindings(w io.Writer, prefix string, rep precheck.Report) {
	for _, f := range rep.Findings {
		line := fmt.Sprintf("%s: %s: %s", prefix, f.Check, f.Message)
		if f.URL != "" && !strings.Contains(f.Message, f.URL) {
			line += " (" + f.URL + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// checkOnline renders an edition file as its email and runs the pre-send
// checks on it, links and images fetched.
func (e *env) checkOnline(ctx context.Context, path string) error {
	ed, r, cfg, err := e.renderFile(ctx, path)
	if err != nil {
		return err
	}
	m, err := r.Email(ed)
	if err != nil {
		return err
	}
	in := precheck.EmailInput(m, cfg.BaseURL, ed.Slug)
	var bar *progress.Reporter
	in.Progress = func(done, total int) {
		if bar == nil {
			bar = progress.New(e.stderr, progress.Options{Description: "fetching links and images", Total: int64(total), Unit: "fetches"})
		}
		if done > 0 {
			bar.Add(1) // one call per fetch, from the fetching goroutines
		}
	}
	rep := e.checker(cfg).Check(ctx, in)
	if bar != nil {
		bar.Finish()
	}
	printFindings(e.stdout, path, rep)
	fmt.Fprintf(e.stdout, "%s: %d links and %d images fetched, %d KB of HTML, in %s\n", path, len(rep.Links), len(rep.Images),
		(rep.HTMLBytes+1023)/1024, rep.Took.Round(time.Millisecond))
	if !rep.OK() {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s: %d warning(s) before sending", path, len(rep.Findings))}
	}
	return nil
}

// errNotConfirmed: a campaign with warnings was not started.
var errNotConfirmed = errors.New("not started")

// confirmStart runs the pre-send checks on a campaign's edition and, when
// they find something, prints it and asks on a terminal; elsewhere it
// needs yes (--yes). A campaign with no warnings starts as before.
func (e *env) confirmStart(ctx context.Context, s *store.Store, id int64, yes bool) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "checking campaign %d before it starts (links, images, size, contrast)…\n", id)
	rep, err := e.editionChecks(cfg, s).Check(ctx, c.EditionID)
	if err != nil {
		return fmt.Errorf("pre-send checks: %w", err)
	}
	if rep.OK() {
		return nil
	}
	printFindings(e.stderr, fmt.Sprintf("campaign %d", id), rep)
	if yes {
		fmt.Fprintf(e.stderr, "starting anyway (--yes): %d warning(s)\n", len(rep.Findings))
		return nil
	}
	return e.confirm(false, fmt.Sprintf("Start campaign %d anyway?", id),
		fmt.Errorf("campaign %d %w: %d warning(s) above; pass --yes to start it anyway", id, errNotConfirmed, len(rep.Findings)))
}

// confirm asks question on a terminal and goes on only on a yes; yes
// (--yes) answers it beforehand. Elsewhere it refuses with refusal, which
// says how to go on.
func (e *env) confirm(yes bool, question string, refusal error) error {
	if yes {
		return nil
	}
	if f, ok := e.stdin.(interface{ Fd() uintptr }); !ok || !term.IsTerminal(int(f.Fd())) {
		return &ExitError{Code: 1, Err: refusal}
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return &ExitError{Code: 1, Err: errNotConfirmed}
	}
	return nil
}
