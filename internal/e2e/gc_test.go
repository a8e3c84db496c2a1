package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// The binary runs its garbage collector at GOGC=400 unless the
// environment says otherwise (docs/deployment.md), as its own metrics
// show.
func TestGCPercentDefault(t *testing.T) {
	gogc := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\d+)$`)
	for _, c := range []struct {
		env  []string
		want string
	}{{nil, "400"}, {[]string{"GOGC=100"}, "100"}, {[]string{"GOGC=50"}, "50"}} {
		addr := freeAddr(t)
		cfg := write(t, "sentinel.yaml", fmt.Sprintf("server: {listen: %q}\nstorage: {path: %q}\n%s",
			addr, filepath.Join(t.TempDir(), "s.db"), tokensYAML))
		p := startBinaryEnv(t, cfg, addr, 30*time.Second, append([]string{"GOGC="}, c.env...)...)
		code, body, err := api(t.Context(), http.MethodGet, p.base()+"/metrics", "", nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("metrics: %d %v", code, err)
		}
		m := gogc.FindSubmatch(body)
		if m == nil || string(m[1]) != c.want {
			t.Errorf("with %v: go_gc_gogc_percent %q, want %s", c.env, m, c.want)
		}
		p.kill()
	}
}
