package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sentinel-oss/sentinel/internal/app"
)

// cmdStore runs `sentinel store migrate --from FILE --to DSN`.
func cmdStore(ctx context.Context, args []string, s streams) error {
	if len(args) == 0 || args[0] != "migrate" {
		return usagef("usage: sentinel store migrate --from FILE --to DSN")
	}
	fs := flag.NewFlagSet("store migrate", flag.ContinueOnError)
	from := fs.String("from", "", "the bbolt store `FILE` to copy (Sentinel must be stopped)")
	to := fs.String("to", "", "the PostgreSQL `DSN` to copy into (an empty database)")
	toEnv := fs.String("to-env", "", "read the DSN from environment `VARIABLE` instead of --to (keeps the password off the command line)")
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "store migrate --from FILE --to DSN"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("store migrate takes no arguments, got %q", pos[0])
	}
	dsn := *to
	if *toEnv != "" {
		v, ok := s.env(*toEnv)
		if !ok || v == "" {
			return usagef("store migrate: environment variable %s is empty", *toEnv)
		}
		dsn = v
	}
	if *from == "" || dsn == "" {
		return usagef("store migrate needs --from FILE and --to DSN")
	}
	n, err := app.MigrateStore(ctx, *from, dsn, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "copied %d keys from %s into PostgreSQL\n", n, *from)
	return nil
}
