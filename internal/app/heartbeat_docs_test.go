package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/internal/testutil"
)

// TestHeartbeatDocsAlertmanagerRoute checks the Alertmanager route that
// docs/alerting.md gives for the Watchdog heartbeat: amtool accepts it, and
// it re-sends Watchdog (group_interval, repeat_interval) well within the
// timeout of the heartbeat shown with it. Alertmanager's defaults (5m, 4h)
// deliver it every 4 hours, so a 5m heartbeat would page falsely.
func TestHeartbeatDocsAlertmanagerRoute(t *testing.T) {
	amtool := testutil.RequireTool(t, "prometheus-alertmanager", "amtool")
	doc, err := os.ReadFile("../../docs/alerting.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Heartbeats")
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/alerting.md's Heartbeats section has %d YAML blocks, want Sentinel's and Alertmanager's", len(blocks))
	}
	var sentinel struct {
		Alerting struct {
			Heartbeats []struct {
				Timeout string `yaml:"timeout"`
				Alert   string `yaml:"alertmanager_alert"`
			} `yaml:"heartbeats"`
		} `yaml:"alerting"`
	}
	if err := yaml.Unmarshal([]byte(blocks[0][1]), &sentinel); err != nil {
		t.Fatal(err)
	}
	var timeout time.Duration
	for _, h := range sentinel.Alerting.Heartbeats {
		if h.Alert == "Watchdog" {
			timeout, _ = time.ParseDuration(h.Timeout)
		}
	}
	if timeout == 0 {
		t.Fatal("no Watchdog heartbeat with a timeout in the first block")
	}

	amConfig := blocks[1][1]
	path := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(path, []byte(amConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(amtool, "check-config", path).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	var am struct {
		Route struct {
			Routes []struct {
				Matchers       []string `yaml:"matchers"`
				Receiver       string   `yaml:"receiver"`
				GroupInterval  string   `yaml:"group_interval"`
				RepeatInterval string   `yaml:"repeat_interval"`
			} `yaml:"routes"`
		} `yaml:"route"`
	}
	if err := yaml.Unmarshal([]byte(amConfig), &am); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range am.Route.Routes {
		if !strings.Contains(strings.Join(r.Matchers, ","), `alertname="Watchdog"`) {
			continue
		}
		found = true
		gi, err1 := time.ParseDuration(r.GroupInterval)
		ri, err2 := time.ParseDuration(r.RepeatInterval)
		if err1 != nil || err2 != nil {
			t.Fatalf("the Watchdog route must set group_interval and repeat_interval: %q, %q", r.GroupInterval, r.RepeatInterval)
		}
		// A re-send comes every repeat_interval rounded up to a multiple
		// of group_interval; two must fit in the timeout.
		resend := (ri + gi - 1) / gi * gi
		if 2*resend > timeout {
			t.Errorf("Watchdog re-sent every %v; the heartbeat's timeout %v needs at least two in it", resend, timeout)
		}
	}
	if !found {
		t.Error(`no route with matcher alertname="Watchdog" in the Alertmanager example`)
	}
}
