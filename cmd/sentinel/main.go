// Command sentinel is Sentinel's single binary: it serves the platform, runs
// the demo, checks configs and takes backups. main only turns signals into a
// context and run's result into an exit code.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is Sentinel's GOGC when the environment sets none. Its live
// heap is small (about 5 MB in the demo) and the beacon path allocates
// quickly, so at Go's default of 100 the collector runs many cycles a
// second, each marking the same live heap: at 400 it runs about a third as
// often, for a heap that may grow to five times the live one (see
// docs/deployment.md). A GOGC in the environment wins; GOMEMLIMIT caps
// the heap as usual.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{stdout: os.Stdout, stderr: os.Stderr, env: os.LookupEnv})
	stop()
	os.Exit(code)
}
