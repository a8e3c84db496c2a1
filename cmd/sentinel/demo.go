package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sentinel-oss/sentinel/internal/app"
)

func cmdDemo(ctx context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "Sentinel's listen `ADDR`")
	shop := fs.String("shop", "127.0.0.1:8081", "the demo storefront's listen `ADDR` (a different origin)")
	data := fs.String("data", "./data/demo", "`DIR` for the demo's store and token")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "demo [--listen ADDR] [--shop ADDR] [--data DIR]"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments, got %q", pos[0])
	}
	d, err := app.NewDemo(ctx, app.DemoOptions{Listen: *listen, ShopListen: *shop, DataDir: *data, Stderr: s.stderr, Build: buildInfo()})
	if err != nil {
		return err
	}
	fmt.Fprint(s.stdout, d.Welcome())
	return serveApp(ctx, d.App)
}
