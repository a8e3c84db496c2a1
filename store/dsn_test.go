package store

import (
	"context"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// TestCheckDSN: DSNs pgx refuses are reported with pgx's reason and never
// quoted (the password stays out); good ones and other drivers pass.
func TestCheckDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, want string
	}{
		{"postgres://sentinel:s3cretpw@db:5432/sentinel?sslmode=disable", ""},
		{"host=db user=sentinel password=s3cretpw dbname=sentinel", ""},
		{"postgres://sentinel:s3cretpw@db:notaport/sentinel", "invalid port"},
		{"host=db port=abc password=s3cretpw", "invalid port"},
		{"postgres://sen tinel:s3cret pw@db/x", "failed to parse as URL"},
		{"s3cretpw", "failed to parse as keyword/value"},
	} {
		ps := CheckDSN(config.Storage{Driver: config.DriverPostgres, DSN: config.NewSecret(tc.dsn)})
		if tc.want == "" {
			if len(ps) > 0 {
				t.Errorf("%q refused: %v", tc.dsn, ps)
			}
			continue
		}
		if len(ps) != 1 || ps[0].Path != "storage.dsn" || !strings.Contains(ps[0].Message, tc.want) {
			t.Errorf("%q: %v, want storage.dsn: ...%s", tc.dsn, ps, tc.want)
		}
		if strings.Contains(ps.Error(), "s3cret") {
			t.Errorf("%q: the password is in %q", tc.dsn, ps.Error())
		}
	}
	if ps := CheckDSN(config.Storage{Driver: config.DriverBolt, DSN: config.NewSecret("garbage:")}); len(ps) > 0 {
		t.Errorf("bolt driver: %v", ps)
	}
}

// TestConnectPostgres connects to a real cluster, and reports a refused
// connection naming the database without its password.
func TestConnectPostgres(t *testing.T) {
	ctx := context.Background()
	good := config.Storage{Driver: config.DriverPostgres, DSN: config.NewSecret(pgtest.DSN(t)), OpenTimeout: model.Duration(5e9)}
	if err := ConnectPostgres(ctx, good); err != nil {
		t.Fatalf("connect to the test cluster: %v", err)
	}
	bad := config.Storage{Driver: config.DriverPostgres, DSN: config.NewSecret("postgres://sentinel:s3cretpw@127.0.0.1:1/sentinel"), OpenTimeout: model.Duration(2e9)}
	err := ConnectPostgres(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "sentinel@127.0.0.1:1/sentinel") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("connect to a closed port: %v", err)
	}
}
