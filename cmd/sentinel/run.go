package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/app"
)

// Set at link time: go build -ldflags "-X main.version=1.2.3 -X main.commit=abc".
var (
	version = "dev"
	commit  = ""
)

// streams are the process's outside world, replaceable in tests.
type streams struct {
	stdout, stderr io.Writer
	env            func(string) (string, bool)
}

// commands are the subcommands run knows, for "did you mean".
var commands = []string{"serve", "demo", "check", "backup", "store", "slo", "probe", "dashboards", "version", "help"}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, s streams) int {
	if len(args) == 0 {
		fmt.Fprint(s.stderr, usageHeader)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], s)
	case "demo":
		err = cmdDemo(ctx, args[1:], s)
	case "check":
		err = cmdCheck(ctx, args[1:], s)
	case "backup":
		err = cmdBackup(ctx, args[1:], s)
	case "store":
		err = cmdStore(ctx, args[1:], s)
	case "slo":
		err = cmdSLO(ctx, args[1:], s)
	case "probe":
		err = cmdProbe(ctx, args[1:], s)
	case "dashboards":
		err = cmdDashboards(ctx, args[1:], s)
	case "version", "--version", "-version":
		err = cmdVersion(s)
	case "help", "-h", "--help":
		fmt.Fprint(s.stdout, usageHeader)
		return exitOK
	default:
		err = usagef("unknown command %q%s; run 'sentinel help' for the list", args[0], config.DidYouMean(args[0], commands))
	}
	return report(err, s.stderr)
}

// failedError marks "the thing checked failed" (exit 1) after its details
// have been printed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

// report prints err as one clear sentence per line (problems keep their
// FILE:LINE:COL prefix) and maps it to the contract's exit codes.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var fe failedError
	if errors.As(err, &fe) {
		if fe.msg != "" {
			fmt.Fprintln(stderr, fe.msg)
		}
		return exitFailed
	}
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(stderr, p.String())
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "sentinel: %v\n", err)
	return exitUsage
}

func buildInfo() app.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return buildInfoFrom(version, commit, info)
}

// buildInfoFrom prefers link-time values and fills the rest from what the
// Go toolchain stamped into the binary.
func buildInfoFrom(version, commit string, info *debug.BuildInfo) app.BuildInfo {
	b := app.BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if info != nil {
		if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, kv := range info.Settings {
			switch {
			case kv.Key == "vcs.revision" && b.Commit == "":
				b.Commit = kv.Value
			case kv.Key == "vcs.time":
				b.BuildTime = kv.Value
			case kv.Key == "vcs.modified":
				b.Modified = kv.Value == "true"
			}
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

func cmdVersion(s streams) error {
	b := buildInfo()
	commit := "commit " + b.Commit
	if b.BuildTime != "" {
		commit += " of " + b.BuildTime
	}
	if b.Modified {
		commit += ", with uncommitted changes"
	}
	fmt.Fprintf(s.stdout, "sentinel %s (%s, %s %s/%s)\n", b.Version, commit, b.GoVersion, runtime.GOOS, runtime.GOARCH)
	return nil
}

// loadConfig reads -c FILE, else ./sentinel.yaml when present, else the
// built-in defaults.
func loadConfig(path string, s streams) (*config.Config, error) {
	opts := config.Options{LookupEnv: s.env}
	if path != "" {
		return config.Load(path, opts)
	}
	if _, err := os.Stat("sentinel.yaml"); err == nil {
		return config.Load("sentinel.yaml", opts)
	}
	return config.Default(), nil
}

func cmdServe(ctx context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `FILE` (default ./sentinel.yaml if present, else built-in defaults)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "serve [-c FILE]"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments, got %q", pos[0])
	}
	cfg, err := loadConfig(*cfgPath, s)
	// The same validation as check config: every problem at once.
	if err := app.Validate(ctx, cfg, err); err != nil {
		return err
	}
	a, err := app.New(ctx, app.Options{Config: cfg, LoadConfig: reloader(cfg.SourceName(), s), Stderr: s.stderr, Build: buildInfo()})
	if err != nil {
		return err
	}
	return serveApp(ctx, a)
}

// reloader re-reads the same file on SIGHUP and POST /-/reload.
func reloader(path string, s streams) func() (*config.Config, error) {
	return func() (*config.Config, error) {
		if path == "" {
			return config.Default(), nil
		}
		return config.Load(path, config.Options{LookupEnv: s.env})
	}
}

// serveApp runs a until ctx ends, reloading on SIGHUP.
func serveApp(ctx context.Context, a *app.App) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				_ = a.Reload(runCtx) // the app logs the outcome and sets the reload metric
			}
		}
	}()
	return a.Run(runCtx)
}

func cmdCheck(ctx context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("check config", flag.ContinueOnError)
	connect := fs.Bool("connect", false, "also connect to the PostgreSQL database storage.dsn names (changing nothing)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "check config [--connect] FILE"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "config" {
		return usagef("usage: sentinel check config [--connect] FILE")
	}
	cfg, err := config.Load(pos[1], config.Options{LookupEnv: s.env})
	// Every component is built even when the file has problems of its own,
	// so one run reports everything that is wrong, as serve does.
	err = app.Validate(ctx, cfg, err)
	var ps config.Problems
	if err != nil && !errors.As(err, &ps) {
		return err // unreadable file: exit 2
	}
	if *connect && len(ps) == 0 {
		ps = config.AsProblems(app.CheckConnections(ctx, cfg))
	}
	if len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(s.stderr, p.String())
		}
		return failedError{fmt.Sprintf("config check failed: %d problem(s)", len(ps))}
	}
	for _, w := range app.Warnings(cfg) {
		fmt.Fprintf(s.stderr, "%s: warning: %s\n", pos[1], w)
	}
	fmt.Fprintf(s.stdout, "%s: ok\n", pos[1])
	return nil
}
