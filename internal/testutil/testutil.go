// Package testutil holds small helpers shared by tests across packages.
package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true), where every tool a
// test needs must be installed.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireTool returns the path of an external program a test needs. Under
// CI a missing tool fails the test, since .ci/run installs it; on a
// developer's machine the test is skipped with the package to install.
func RequireTool(t testing.TB, debianPackage string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if InCI() {
		t.Fatalf("%v not found: CI must install the Debian package %q (.ci/run does)", names, debianPackage)
	}
	t.Skipf("%v not found; install the Debian package %q to run this test", names, debianPackage)
	return ""
}

// Eventually polls cond every 10 ms until it holds or the deadline passes;
// tests wait on conditions, never on fixed sleeps.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// LockedBuffer is a log sink that goroutines may write while a test reads
// it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
