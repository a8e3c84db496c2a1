package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sentinel-oss/sentinel/internal/app"
)

// cmdDashboards runs `sentinel dashboards export [-c FILE] --out DIR`.
func cmdDashboards(_ context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("dashboards", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `FILE` (default ./sentinel.yaml if present)")
	out := fs.String("out", "", "`DIR` to write the Grafana dashboard JSON files into (created if missing)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "dashboards export [-c FILE] --out DIR"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "export" {
		return usagef("usage: sentinel dashboards export [-c FILE] --out DIR")
	}
	if *out == "" {
		return usagef("dashboards export needs --out DIR")
	}
	cfg, err := loadConfig(*cfgPath, s)
	if err != nil {
		return err
	}
	return app.DashboardsExport(cfg, *out, s.stdout)
}
