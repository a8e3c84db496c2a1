package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes of the contract.
const (
	exitOK      = 0
	exitFailed  = 1 // the thing checked failed
	exitUsage   = 2 // usage errors, unreadable files, configs that stop serve
	usageHeader = `Sentinel: synthetic probes, real-user monitoring, SLOs, alerting and incidents in one binary.

Usage:
  sentinel serve [-c FILE]                 run everything
  sentinel demo [--listen ADDR] [--shop ADDR] [--data DIR]
                                           serve plus a demo storefront that is monitored
  sentinel check config [--connect] FILE   validate a config as serve does, starting nothing
                                           (--connect: also connect to its PostgreSQL)
  sentinel probe run NAME [-c FILE]        run one probe once and print each step
  sentinel slo rules [-c FILE]             Prometheus rules (Sloth-compatible) for every SLO
  sentinel slo import FILE                 convert OpenSLO v1 or Sloth specs to slos: YAML
  sentinel dashboards export [-c FILE] --out DIR
                                           Grafana dashboard JSON for SLOs, probes and RUM
  sentinel backup --out FILE [-c FILE]     copy the store, also while Sentinel runs
  sentinel store migrate --from FILE --to DSN
                                           copy a bbolt store into an empty PostgreSQL database
  sentinel version                         print version, commit and Go version

Flags may come before or after arguments. Run 'sentinel COMMAND -h' for a command's flags.
`
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseInterleaved parses flags that may appear before, between or after
// positional arguments ("probe run checkout -c x.yaml") and returns the
// positional arguments. "--" ends flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return append(positional, tail...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagUsage renders a command's flags for -h.
func flagUsage(fs *flag.FlagSet, synopsis string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: sentinel %s\n", synopsis)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}
