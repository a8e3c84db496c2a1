package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/app"
)

func cmdProbe(ctx context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("probe run", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config `FILE` (default ./sentinel.yaml if present)")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "probe run NAME [-c FILE]"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "run" {
		return usagef("usage: sentinel probe run NAME [-c FILE]")
	}
	cfg, err := loadConfig(*cfgPath, s)
	if err != nil {
		return err
	}
	res, err := app.RunProbe(ctx, cfg, pos[1])
	if errors.Is(err, app.ErrProbeNotFound) {
		names := make([]string, len(cfg.Probes))
		for i, p := range cfg.Probes {
			names[i] = p.Name
		}
		return usagef("no probe named %q in the config%s", pos[1], config.DidYouMean(pos[1], names))
	}
	if err != nil {
		return err
	}
	if err := app.FormatProbeRun(s.stdout, res); err != nil {
		return err
	}
	if !res.Success {
		return failedError{fmt.Sprintf("probe %s failed", pos[1])}
	}
	return nil
}
