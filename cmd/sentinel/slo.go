package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/sentinel-oss/sentinel/internal/app"
)

// cmdSLO runs `sentinel slo rules [-c FILE]` and `sentinel slo import FILE`.
func cmdSLO(_ context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("slo", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `FILE` for slo rules (default ./sentinel.yaml if present)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "slo rules [-c FILE] | slo import FILE"))
		return err
	}
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 1 && pos[0] == "rules":
		cfg, err := loadConfig(*cfgPath, s)
		if err != nil {
			return err
		}
		return app.SLORules(cfg, s.stdout)
	case len(pos) == 2 && pos[0] == "import":
		if *cfgPath != "" {
			return usagef("slo import takes no -c: it converts FILE on its own")
		}
		err := app.SLOImport(pos[1], s.stdout, s.stderr)
		if errors.Is(err, app.ErrSLOImport) {
			return failedError{strings.TrimSpace(err.Error())}
		}
		return err
	}
	return usagef("usage: sentinel slo rules [-c FILE] | sentinel slo import FILE")
}
