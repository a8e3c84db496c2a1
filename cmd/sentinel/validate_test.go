package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckAndServeReportTheSameProblems gives the binary a file with
// problems of every kind (a bad key, a bad value, an unparseable
// PostgreSQL DSN, a component's reference, a runbook-less rule, a bad
// probe template): `check config` and `serve` print the same list, all of
// it, and the DSN's password never appears.
func TestCheckAndServeReportTheSameProblems(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	src := `server: {listen: 127.0.0.1:0, max_header_bytes: 10}
storage: {driver: postgres, dsn: "postgres://sentinel:hunter2secret@db:notaport/sentinel"}
logging: {levle: info}
slos:
  - {name: orders, objective: 120, window: 30d, sli: {events: {}}}
alerting:
  rules:
    - {name: A, when: {probe: nowhere}, severity: critical}
probes:
  - name: checkout
    steps:
      - {name: pay, request: {method: POST, url: "http://shop/pay", json: {cart: "{{ .cart_id }}"}}}
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	check := sentinel(t, nil, "check", "config", path)
	serve := sentinel(t, nil, "serve", "-c", path)
	if check.code != 1 || serve.code != 2 {
		t.Fatalf("exit codes: check %d, serve %d (want 1 and 2)\ncheck: %s\nserve: %s", check.code, serve.code, check.stderr, serve.stderr)
	}
	problems := func(out string) []string {
		var ps []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasPrefix(l, path+":") {
				ps = append(ps, l)
			}
		}
		return ps
	}
	cp, sp := problems(check.stderr), problems(serve.stderr)
	if strings.Join(cp, "\n") != strings.Join(sp, "\n") {
		t.Errorf("check and serve disagree:\ncheck:\n%s\nserve:\n%s", strings.Join(cp, "\n"), strings.Join(sp, "\n"))
	}
	for _, want := range []string{"server.max_header_bytes", "storage.dsn", "logging.levle", "slos[0].objective", "alerting.rules[0].when.probe", "probes[0].steps[0]"} {
		if !strings.Contains(check.stderr, want) {
			t.Errorf("check config does not report %s:\n%s", want, check.stderr)
		}
	}
	if strings.Contains(check.stderr+serve.stderr, "hunter2secret") {
		t.Error("the DSN's password was printed")
	}
	if len(cp) < 6 {
		t.Errorf("only %d problems reported:\n%s", len(cp), check.stderr)
	}
}
