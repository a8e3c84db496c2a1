// Command sentinel is Sentinel's single binary: it serves the platform, runs
// the demo, checks configs and takes backups. main only turns signals into a
// context and run's result into an exit code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{stdout: os.Stdout, stderr: os.Stderr, env: os.LookupEnv})
	stop()
	os.Exit(code)
}
