package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/herald-news/herald/internal/config"
	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
	"github.com/herald-news/herald/internal/store"
)

// editionCommands are the "herald edition ..." verbs, for commands().
func editionCommands() []command {
	return []command{
		{"edition check", "FILE [--online]", "report every problem in an edition file, with line and column (--online: and the pre-send checks, links fetched)", runEditionCheck},
		{"edition render", "FILE --format html|text|web|json [--subscriber-name NAME] [--theme DIR] [--language TAG]", "render an edition file to standard output", runEditionRender},
		{"edition import", "FILE", "store an edition file as a draft and print its ID", runEditionImport},
		{"edition export", "ID", "write a stored edition as a file to standard output", runEditionExport},
	}
}

// readEdition reads an edition file ("-" is standard input), refusing one
// larger than edition.MaxSize before reading it all.
func (e *env) readEdition(path string) ([]byte, error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read edition file: %w", err)
		}
		defer f.Close()
		r = f
	}
	src, err := io.ReadAll(io.LimitReader(r, edition.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read edition file %s: %w", path, err)
	}
	if len(src) > edition.MaxSize {
		return nil, fmt.Errorf("%s is larger than %d KB, the most an edition file may be", path, edition.MaxSize>>10)
	}
	return src, nil
}

// parseEdition reads and parses an edition file, printing its problems to
// stderr as FILE:LINE:COL: message.
func (e *env) parseEdition(path string) (*model.Edition, error) {
	src, err := e.readEdition(path)
	if err != nil {
		return nil, err
	}
	ed, err := edition.Parse(src)
	var ps edition.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintf(e.stderr, "%s:%s\n", path, p)
		}
		return nil, fmt.Errorf("%s has %d problem(s); run 'herald edition check %s'", path, len(ps), path)
	}
	return ed, err
}

func runEditionCheck(ctx context.Context, e *env, args []string) error {
	fs := e.flags("edition check", "FILE [--online]")
	online := fs.Bool("online", false, "also run the pre-send checks on its email: fetch every link and image, size, contrast, subject and preheader")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	src, err := e.readEdition(pos[0])
	if err != nil {
		return err
	}
	ps := edition.Check(src)
	for _, p := range ps {
		if p.Line == 0 {
			fmt.Fprintf(e.stdout, "%s: %s\n", pos[0], p.Msg)
		} else {
			fmt.Fprintf(e.stdout, "%s:%d:%d: %s\n", pos[0], p.Line, p.Col, p.Msg)
		}
	}
	if len(ps) > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s: %d problem(s)", pos[0], len(ps))}
	}
	if *online {
		if err := e.checkOnline(ctx, pos[0]); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", pos[0])
	return nil
}

func runEditionRender(ctx context.Context, e *env, args []string) error {
	fs := e.flags("edition render", "FILE --format html|text|web|json [--subscriber-name NAME] [--theme DIR] [--language TAG]")
	format := fs.String("format", "html", "html or text (the email), web (the archive page) or json")
	lang := fs.String("language", "", "the language of Herald's own words (fr, de, ar, ...), overriding the edition's")
	name := fs.String("subscriber-name", "", "the subscriber name to fill in (html and text)")
	e.configFlag(fs, "theme", "theme", "folder with email.html and/or web.html overriding the default theme (config key theme)")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	switch *format {
	case "html", "text", "web", "json":
	default:
		return usageErrorf("--format must be html, text, web or json, not %q", *format)
	}
	ed, err := e.parseEdition(pos[0])
	if err != nil {
		return err
	}
	if *lang != "" {
		if ed.Language, err = i18n.Check(*lang); err != nil {
			return usageErrorf("--language: %v", err)
		}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	pub, err := e.publication(ctx)
	if err != nil {
		return err
	}
	archive := cfg.BaseURL + "/archive/"
	r, err := render.New(pub, render.Options{ThemeDir: cfg.Theme, ArchiveURL: archive})
	if err != nil {
		return err
	}
	var out []byte
	switch *format {
	case "html", "text":
		m, err := r.Email(ed)
		if err != nil {
			return err
		}
		// Preview links: real ones carry a signed token per subscriber.
		f := render.Fields{Name: *name, UnsubscribeURL: cfg.BaseURL + "/unsubscribe/preview",
			PreferencesURL: cfg.BaseURL + "/preferences/preview", WebURL: archive + ed.Slug, FeedbackURL: cfg.BaseURL + "/feedback/preview"}
		if *format == "html" {
			out = m.AppendHTML(nil, f)
		} else {
			out = m.AppendText(nil, f)
		}
	case "web":
		out, err = r.Web(ed)
	case "json":
		out, err = r.JSON(ed)
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// publication returns the stored publication settings, or the default
// until settings are saved.
// renderFile parses an edition file and builds the renderer for the saved
// publication settings and the configured theme.
func (e *env) renderFile(ctx context.Context, path string) (*model.Edition, *render.Renderer, *config.Config, error) {
	ed, err := e.parseEdition(path)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := e.config()
	if err != nil {
		return nil, nil, nil, err
	}
	pub, err := e.publication(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := render.New(pub, renderOptions(cfg))
	return ed, r, cfg, err
}

func (e *env) publication(ctx context.Context) (model.Publication, error) {
	cfg, err := e.config()
	if err != nil {
		return model.Publication{}, err
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return model.Publication{}, err
	}
	defer s.Close()
	return publication(ctx, cfg, s)
}

func runEditionImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("edition import", "FILE")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	ed, err := e.parseEdition(pos[0])
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if err := s.CreateEdition(ctx, ed, ""); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("an edition with the slug %q exists already", ed.Slug)
			}
			return err
		}
		fmt.Fprintln(e.stdout, ed.ID)
		return nil
	})
}

func runEditionExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("edition export", "ID")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageErrorf("edition ID %q must be a positive number (as 'herald edition import' printed it)", pos[0])
	}
	return e.withStore(ctx, func(s *store.Store) error {
		ed, err := s.GetEdition(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no edition has the ID %d", id)
		}
		if err != nil {
			return err
		}
		out, err := edition.Format(ed)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(out)
		return err
	})
}
