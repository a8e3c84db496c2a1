// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb in a
// temporary directory, a server on 127.0.0.1 at a free port with fsync off,
// and an empty database per test, so the PostgreSQL store can be tested
// wherever Debian's postgresql package is installed.
//
// A test binary starts the cluster at most once, on the first DSN call,
// and TestMain (through Main) stops it when the tests end. Without the
// PostgreSQL binaries a test is skipped, or fails under CI=true, where
// .ci/run installs them.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running PostgreSQL server owned by a test binary.
type Cluster struct {
	dir  string
	bin  string
	port int
	// runAs is the OS user the server runs as when the tests run as root
	// (PostgreSQL refuses to run as root); empty otherwise.
	runAs string
}

// shared is the test binary's one cluster, started on first use. It is
// test support, the one place where this project keeps process-wide state.
var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Main runs the tests and then stops the shared cluster if one was
// started: call it from TestMain as os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop cluster:", err)
		}
	}
	return code
}

// inCI reports whether the tests run under CI (CI=true).
func inCI() bool { return os.Getenv("CI") == "true" }

// Shared returns the test binary's cluster, starting it on first use; a
// missing PostgreSQL installation skips t (fails it under CI).
func Shared(t testing.TB) *Cluster {
	t.Helper()
	bin, err := FindBin()
	if err != nil {
		if inCI() {
			t.Fatalf("%v: CI must install the Debian package \"postgresql\" (.ci/run does)", err)
		}
		t.Skipf("%v; install the Debian package \"postgresql\" to run this test", err)
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.cluster, shared.err = Start(ctx, bin)
	})
	if shared.err != nil {
		t.Fatalf("start postgresql: %v", shared.err)
	}
	return shared.cluster
}

// DSN creates an empty database on the shared cluster for t, drops it when
// t ends, and returns its connection string.
func DSN(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return c.DSNFor(name)
}

// FindBin returns the directory holding initdb and pg_ctl: $PG_BINDIR, the
// newest /usr/lib/postgresql/N/bin (Debian's layout), or the PATH.
func FindBin() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's initdb not found")
}

// Start initialises and starts a cluster with the binaries in bin.
func Start(ctx context.Context, bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "sentinel-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		c.runAs = "postgres"
	}
	if _, err := c.run(ctx, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	for range 5 {
		if c.port, err = freePort(); err != nil {
			break
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB",
			c.port, c.dir)
		_, err = c.run(ctx, "pg_ctl", "-D", c.data(), "-o", opts, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "start")
		if err == nil {
			return c, nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	_ = os.RemoveAll(dir)
	return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs one PostgreSQL program, as the postgres user when needed.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w\n%s", prog, err, out.String())
	}
	return out.Bytes(), nil
}

// Port is the TCP port the server listens on (on 127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// DSNFor is the connection string of database name on the cluster.
func (c *Cluster) DSNFor(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// admin runs fn on a connection to the postgres database.
func (c *Cluster) admin(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, c.DSNFor("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	return fn(conn)
}

// CreateDatabase makes an empty database.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	return c.admin(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		return err
	})
}

// DropDatabase drops a database, disconnecting its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	return c.admin(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	})
}

// Stop stops the server at once and removes its files.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
