package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sentinel-oss/sentinel/config"
)

// CheckDSN parses storage.dsn as `serve` will (pgx's ParseConfig), so
// `check config` refuses what `serve` would refuse. The problem never
// quotes the DSN, which may hold a password.
func CheckDSN(cfg config.Storage) config.Problems {
	if cfg.Driver != config.DriverPostgres || strings.TrimSpace(cfg.DSN.Reveal()) == "" {
		return nil // config's own checks report a missing DSN
	}
	if _, err := pgxpool.ParseConfig(cfg.DSN.Reveal()); err != nil {
		return config.Problems{{Path: "storage.dsn", Message: dsnError(err)}}
	}
	return nil
}

// dsnError says why a DSN does not parse without repeating any of it.
// pgx's message is "cannot parse `DSN`: reason (detail)", with the
// password masked only on a best-effort basis and the detail sometimes
// quoting parts of the string: only the reason is kept.
func dsnError(err error) string {
	const base = "not a valid PostgreSQL connection string (a URL such as postgres://user:PASSWORD@host:5432/db?sslmode=verify-full, or key=value pairs)"
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return base
	}
	msg := pe.Error()
	i := strings.LastIndex(msg, "`: ")
	if i < 0 {
		return base
	}
	reason, _, _ := strings.Cut(msg[i+3:], " (")
	return base + ": " + reason
}

// ConnectPostgres connects to the database storage.dsn names and pings it,
// within storage.open_timeout, changing nothing: `check config --connect`.
func ConnectPostgres(ctx context.Context, cfg config.Storage) error {
	if ps := CheckDSN(cfg); len(ps) > 0 {
		return ps
	}
	cc, err := pgx.ParseConfig(cfg.DSN.Reveal())
	if err != nil {
		return errors.New(dsnError(err))
	}
	timeout := cfg.OpenTimeout.Std()
	if timeout <= 0 {
		timeout = pgDefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", describeConn(cc), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", describeConn(cc), err)
	}
	return nil
}

// describeConn names a database without its password.
func describeConn(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
