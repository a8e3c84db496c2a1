package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/store/pgtest"
)

// helperEnv makes the test binary act as a second Sentinel process that
// opens the store named by its value and reports the outcome.
const helperEnv = "SENTINEL_STORE_TEST_OPEN"

// Exit codes of the helper process.
const (
	helperOpened = 0
	helperFailed = 1
	helperInUse  = 3
)

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(helperOpen(path))
	}
	os.Exit(pgtest.Main(m))
}

// helperOpen is the second process's whole life: open, report, close.
func helperOpen(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := store.OpenBolt(ctx, config.Storage{Path: path, OpenTimeout: model.Duration(200 * time.Millisecond)}, nil)
	if err != nil {
		fmt.Println(err)
		if errors.Is(err, store.ErrInUse) {
			return helperInUse
		}
		return helperFailed
	}
	fmt.Println("opened")
	_ = b.Close()
	return helperOpened
}

// runSecondProcess re-executes the test binary as a second process opening
// path and returns its exit code and output. The deadline turns a hang
// into a test failure.
func runSecondProcess(t *testing.T, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("second process did not finish: it hangs on the lock (output %q)", out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run second process: %v", err)
	}
	return cmd.ProcessState.ExitCode(), strings.TrimSpace(string(out))
}

func TestSecondProcessGetsInUse(t *testing.T) {
	cfg := testConfig(t)
	b, err := store.OpenBolt(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, out := runSecondProcess(t, cfg.Path)
	if code != helperInUse {
		t.Fatalf("second process exit code %d (%s), want %d (ErrInUse)", code, out, helperInUse)
	}
	t.Logf("second process: %s", out)
	for _, want := range []string{cfg.Path, "already in use by another process", "another sentinel"} {
		if !strings.Contains(out, want) {
			t.Errorf("second process said %q; want it to mention %q", out, want)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Once the first process lets go, the file opens.
	if code, out := runSecondProcess(t, cfg.Path); code != helperOpened {
		t.Fatalf("after Close, second process exit code %d (%s), want %d", code, out, helperOpened)
	}
}

func TestSecondOpenInProcessGetsInUse(t *testing.T) {
	// bbolt's flock is per open file description, so a second open in the
	// same process is refused like a second process.
	cfg := testConfig(t)
	cfg.OpenTimeout = model.Duration(100 * time.Millisecond)
	b := openBoltAt(t, cfg)
	_, err := store.OpenBolt(t.Context(), cfg, nil)
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second open: error = %v, want ErrInUse", err)
	}
	// A read-only open needs a shared lock, which a serving store refuses too.
	_, err = store.OpenBolt(t.Context(), cfg, nil, store.ReadOnly())
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("read-only open of a store in use: error = %v, want ErrInUse", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := openBoltAt(t, cfg)
	if err := b2.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenContextBoundsTheWait(t *testing.T) {
	cfg := testConfig(t)
	cfg.OpenTimeout = model.Duration(time.Hour)
	openBoltAt(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := store.OpenBolt(ctx, cfg, nil)
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("error = %v, want ErrInUse once the context's deadline passed", err)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	cfg := config.Storage{Path: filepath.Join(t.TempDir(), "a", "b", "c.db")}
	b := openBoltAt(t, cfg) // zero OpenTimeout falls back to a default, not forever
	if _, err := os.Stat(cfg.Path); err != nil {
		t.Fatalf("store file not created: %v", err)
	}
	if b.Path() != cfg.Path {
		t.Fatalf("Path() = %q, want %q", b.Path(), cfg.Path)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  config.Storage
		opts []store.Option
		want string
	}{
		{"empty path", config.Storage{}, nil, "storage.path is empty"},
		{"garbage", config.Storage{Path: garbage}, nil, "not a store file"},
		{"read-only missing", config.Storage{Path: filepath.Join(dir, "missing.db")}, []store.Option{store.ReadOnly()}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := store.OpenBolt(t.Context(), tc.cfg, nil, tc.opts...)
			if err == nil {
				_ = b.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a read-only open created the file")
	}
}

func TestReadOnly(t *testing.T) {
	cfg := testConfig(t)
	b := openBoltAt(t, cfg)
	putValue(t, b, "things", "k", "v")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := store.OpenBolt(t.Context(), cfg, nil, store.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ro.Close() }()
	if got := getValue(t, ro, "things", "k"); got != "v" {
		t.Fatalf("read %q, want %q", got, "v")
	}
	if err := ro.Ping(t.Context()); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Ping on a read-only store: error = %v, want ErrReadOnly", err)
	}
	if err := ro.Update(t.Context(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Update on a read-only store: error = %v, want ErrReadOnly", err)
	}
	if err := ro.Batch(t.Context(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Batch on a read-only store: error = %v, want ErrReadOnly", err)
	}
}

// openBoltAt opens cfg and closes it at the end of the test.
func openBoltAt(t *testing.T, cfg config.Storage, opts ...store.Option) *store.Bolt {
	t.Helper()
	b, err := store.OpenBolt(t.Context(), cfg, nil, opts...)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// putValue stores one key in its own Update.
func putValue(t testing.TB, e store.Engine, bucket, key, value string) {
	t.Helper()
	err := e.Update(context.Background(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), []byte(value))
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// getValue reads one key; "" when missing.
func getValue(t testing.TB, e store.Engine, bucket, key string) string {
	t.Helper()
	var v []byte
	err := e.View(context.Background(), func(tx store.Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		v, err = b.Get([]byte(key))
		return err
	})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return string(v)
}
