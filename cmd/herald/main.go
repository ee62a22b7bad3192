// Command herald runs the Herald newsletter platform: the web server, the
// delivery workers and the command-line tools. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/herald-news/herald/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
