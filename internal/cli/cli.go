// Package cli is Herald's composition root: it parses the command line,
// loads the configuration, opens the store, builds the services a command
// needs and runs it. Every command returns its error to Run, the one place
// that prints it and chooses the exit status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/validator"
)

// A command is one verb of the herald binary. Its name may have two words
// ("lists create").
type command struct {
	name    string
	args    string // usage after the name, e.g. "SLUG --name NAME"
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the whole command-line surface, in help order.
func commands() []command {
	cmds := []command{
		{"serve", "[--http ADDR]", "run the web server and delivery workers", runServe},
		{"migrate", "", "apply pending database migrations", runMigrate},
		{"backup", "FILE [--force]", "copy the SQLite database to FILE, consistently, while Herald runs", runBackup},
		{"doctor", "[--resolver HOST:PORT]", "check the sending domain's DNS records (SPF, DKIM, DMARC, bounce MX); exit 1 unless all are right", runDoctor},
		{"maintenance", "[--dry-run] [--events-days N] [--ledger-days N] [--switch-vacuum]", "apply the retention policy now: fold old opens, clicks and ledger rows into counts, reclaim space", runMaintenance},
		{"copy", "--to postgres://...", "copy this SQLite installation into an empty PostgreSQL database (stop serve first)", runCopy},
		{"version", "", "print the version, commit and Go version", runVersion},
		{"healthcheck", "[--url URL]", "exit 0 if the herald serve on this machine answers /healthz (for containers)", runHealthcheck},
		{"lists create", "SLUG --name NAME [--description TEXT] [--double-opt-in] [--public]", "create a list", runListsCreate},
		{"lists ls", "", "show lists with their subscriber counts", runListsLs},
		{"subscribers count", "[--list SLUG] [--status STATUS]", "count subscribers", runSubscribersCount},
		{"subscribers show", "EMAIL", "show one subscriber and their subscriptions", runSubscribersShow},
		{"subscribers delete", "EMAIL", "erase a subscriber's personal data", runSubscribersDelete},
		{"suppress", "EMAIL [--reason manual] [--detail TEXT]", "never mail an address again", runSuppress},
		{"import", "--list SLUG [--status confirmed|unconfirmed] [--mode upsert|skip-existing] [--rejects FILE] FILE.csv", "import subscribers from CSV (- reads standard input)", runImport},
		{"export", "--list SLUG [--status STATUS] [--output FILE]", "export a list's subscribers as CSV", runExport},
		{"bench import", "--rows N [--postgres URL]", "measure import speed and memory on generated rows", runBenchImport},
		{"bench send", "--recipients N [--dkim rsa|ed25519] [--workers N] [--relay-rtt DURATION] [--whole]", "measure end-to-end send speed and memory into a loopback SMTP sink", runBenchSend},
		{"bench scale", "--postgres URL [--recipients N] [--nodes 1,2,3]", "measure sending with several nodes on one PostgreSQL", runBenchScale},
	}
	cmds = append(cmds, editionCommands()...)
	cmds = append(cmds, segmentCommands()...)
	cmds = append(cmds, campaignCommands()...)
	cmds = append(cmds, userCommands()...)
	cmds = append(cmds, secretsCommands()...)
	cmds = append(cmds, auditCommands()...)
	return append(cmds, tokenCommands()...)
}

// ExitError carries an exit status other than 1 with its message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// fieldFlags are the command-line names of the fields the domain checks name
// (validator.Error.Field).
var fieldFlags = map[string]string{
	"name": "--name", "from": "--from", "reply_to": "--reply-to", "local_time": "--local-time",
	"ab_test": "--ab-subject, --ab-sample, --ab-wait, --ab-metric", "list_ids": "--list", "segment_ids": "--segment",
	"edition_id": "--edition", "slug": "SLUG", "email": "EMAIL", "role": "--role", "opt_in": "--double-opt-in",
	"send_at": "--at", "status": "--status", "attributes": "attributes",
}

// flagOf returns the flag or argument that gives field.
func flagOf(field string) string {
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	return field
}

// errUsage marks an error in how the command was called (exit status 2).
var errUsage = errors.New("usage")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// env is what every command gets: streams, the environment, and lazily the
// configuration, logger and store.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	// Global flags, registered on every command's flag set.
	configFile string
	flagValues map[string]*string // config key -> flag value ("" = unset)

	cfg *config.Config
	log *slog.Logger

	// allow lets tests' pre-send checks reach an in-process site on
	// loopback (unfurl.Options.Allow); never set outside tests.
	allow []netip.Prefix
}

// Run runs the herald command line and returns the process exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return e.exitCode(e.dispatch(ctx, args))
}

// exitCode prints a command's error and maps it to an exit status: 0 for
// success, 2 for a usage error, ExitError's own code, 1 otherwise.
func (e *env) exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if ve := validator.As(err); ve != nil {
		// A domain check refused the input: name the flag or argument.
		fmt.Fprintf(e.stderr, "herald: %s: %s\n", flagOf(ve.Field), ve.Message)
		return 2
	}
	fmt.Fprintln(e.stderr, "herald:", strings.TrimPrefix(err.Error(), "usage: "))
	var exit *ExitError
	switch {
	case errors.As(err, &exit):
		return exit.Code
	case errors.Is(err, errUsage):
		fmt.Fprintln(e.stderr, "Run 'herald help' for the list of commands.")
		return 2
	}
	return 1
}

func (e *env) dispatch(ctx context.Context, args []string) error {
	globals, rest := splitLeadingGlobals(args)
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		e.printHelp()
		return nil
	}
	cmds := commands()
	sort.SliceStable(cmds, func(i, j int) bool { return len(cmds[i].name) > len(cmds[j].name) })
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			if c.name != "serve" && words[0] != "bench" {
				// A person at the server: the changes this command makes
				// are recorded as theirs. serve's background work and the
				// benchmarks' throwaway databases are nobody's.
				ctx = audit.WithActor(ctx, audit.CLI())
			}
			return c.run(ctx, e, append(globals, rest[len(words):]...))
		}
	}
	return usageErrorf("unknown command %q", strings.Join(rest[:min(2, len(rest))], " "))
}

// globalFlags are accepted before the command and by every command. Each
// takes a value.
var globalFlags = []struct{ name, key, help string }{
	{"config", "", "configuration file"},
	{"data", "data", "data folder for the SQLite database and local files (default ./herald-data)"},
	{"database-url", "database_url", "PostgreSQL URL (default: SQLite in the data folder)"},
	{"log-level", "log_level", "debug, info, warn or error"},
}

// splitLeadingGlobals moves global flags written before the command name
// ("herald --data x lists ls") out of the way of command lookup.
func splitLeadingGlobals(args []string) (globals, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" && args[0] != "-h" && args[0] != "--help" {
		globals = append(globals, args[0])
		if !strings.Contains(args[0], "=") && len(args) > 1 {
			globals = append(globals, args[1])
			args = args[1:]
		}
		args = args[1:]
	}
	return globals, args
}

func (e *env) printHelp() {
	fmt.Fprintln(e.stdout, "Herald: a self-hosted newsletter platform.\n\nUsage: herald [--data DIR] [--config FILE] COMMAND [ARGS]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "  %-20s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(e.stdout, "\nRun 'herald COMMAND --help' for a command's flags.")
}

// flags returns a flag set for the named command with the global flags
// registered on it.
func (e *env) flags(c string, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	e.flagValues = map[string]*string{}
	fs.StringVar(&e.configFile, "config", "", "configuration file")
	for _, g := range globalFlags[1:] {
		e.flagValues[g.key] = fs.String(g.name, "", g.help)
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: herald %s %s\n\nFlags:\n", c, args)
		fs.PrintDefaults()
	}
	return fs
}

// configFlag lets a command expose a configuration key as its own flag.
func (e *env) configFlag(fs *flag.FlagSet, name, key, help string) {
	e.flagValues[key] = fs.String(name, "", help)
}

// parse parses flags and positional arguments in any order ("lists create
// SLUG --name X"), stopping at "--". It checks the count of positional
// arguments against want (-1 for any).
func parse(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if want >= 0 && len(pos) != want {
		return nil, usageErrorf("%s takes %d argument(s), got %d (%s)", fs.Name(), want, len(pos), strings.Join(pos, " "))
	}
	return pos, nil
}

// config loads the configuration once, from the file, environment and flags.
func (e *env) config() (*config.Config, error) {
	if e.cfg != nil {
		return e.cfg, nil
	}
	flags := map[string]string{}
	for k, v := range e.flagValues {
		if v != nil && *v != "" {
			flags[k] = *v
		}
	}
	file := e.configFile
	if file == "" {
		file = e.getenv("HERALD_CONFIG")
	}
	cfg, err := config.Load(config.Source{File: file, Getenv: e.getenv, Flags: flags})
	if err != nil {
		return nil, err
	}
	e.cfg = cfg
	var h slog.Handler
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	} else {
		h = slog.NewTextHandler(e.stderr, opts)
	}
	e.log = slog.New(h)
	return cfg, nil
}

// openStore opens (and migrates) the configured database. An erasure,
// whichever command or page asks for it, also removes the person's mail
// from the built-in outbox of the data folder.
func (e *env) openStore(ctx context.Context) (*store.Store, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if err := e.privateDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	box, err := masterBox(cfg)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL.Reveal(), SQLitePath: cfg.SQLitePath(), Synchronous: cfg.SQLiteSynchronous, Box: box})
	if err != nil {
		return nil, err
	}
	s.OnErase(func(_ context.Context, email string) error { return eraseFromOutbox(cfg, email) })
	return s, nil
}

// withStore opens the configured database, runs fn with it and closes it.
func (e *env) withStore(ctx context.Context, fn func(*store.Store) error) error {
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// privateDataDir makes an existing data folder its owner's alone (0700):
// it holds the database, the outbox's messages and uploads. A folder that
// does not exist yet is created so by whatever first writes there.
func (e *env) privateDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make the data folder %s private (0700): %w", dir, err)
		}
		e.log.Debug("made the data folder private to its owner", "folder", dir, "was", fi.Mode().Perm().String())
	}
	return nil
}
