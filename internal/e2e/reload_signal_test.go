package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadBySignalIsAudited sends SIGHUP to the real binary: a changed
// file is applied and audited as actor SIGHUP on the config channel,
// naming the sections that changed; a broken file is refused, audited
// with why, and the process keeps serving with what it had.
func TestReloadBySignalIsAudited(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	base := fmt.Sprintf("server: {listen: %q, external_url: %q}\nstorage: {path: %q}\n%s", addr, "http://"+addr, filepath.Join(dir, "s.db"), tokensYAML)
	cfg := write(t, "sentinel.yaml", base)
	p := startBinary(t, cfg, addr, 30*time.Second)

	type entry struct {
		Actor, Channel, Action, Target, Outcome, After string
	}
	// sighup signals the process and waits for its next SIGHUP entry.
	sighup := func(content string, seen int) entry {
		t.Helper()
		if err := writeFile(cfg, content); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			code, body, err := api(t.Context(), http.MethodGet, p.base()+"/api/v1/audit?actor=SIGHUP", adminToken, nil)
			if err != nil || code != http.StatusOK {
				t.Fatalf("audit: %d %s %v; log:\n%s", code, body, err, p.stderr.String())
			}
			var got struct{ Entries []entry }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Entries) > seen {
				return got.Entries[0] // newest first
			}
			if time.Now().After(deadline) {
				t.Fatalf("no audit entry for SIGHUP number %d within 15 s; log:\n%s", seen+1, p.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	e := sighup(base+"audit: {retention: 30d}\n", 0)
	if e.Channel != "config" || e.Action != "reload" || e.Outcome != "ok" || e.After != "changed sections: audit" {
		t.Fatalf("reload entry = %+v", e)
	}
	e = sighup(base+"audit: {retention: 30d\n", 1)
	if e.Channel != "config" || !strings.HasPrefix(e.Outcome, "failed: ") || !strings.Contains(e.Outcome, "sentinel.yaml") || e.After != "" {
		t.Fatalf("refused reload entry = %+v", e)
	}
	if code, body, err := api(t.Context(), http.MethodGet, p.base()+"/readyz", "", nil); err != nil || code != http.StatusOK {
		t.Fatalf("after a refused reload /readyz = %d %s %v", code, body, err)
	}
}
