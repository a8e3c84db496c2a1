package alerting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

const sampleWebhook = `{
  "receiver": "sentinel", "status": "firing", "version": "4", "truncatedAlerts": 0,
  "groupKey": "{}:{alertname=\"HighLatency\"}",
  "groupLabels": {"alertname": "HighLatency"},
  "commonLabels": {"alertname": "HighLatency", "service": "api"},
  "commonAnnotations": {}, "externalURL": "http://am:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HighLatency", "service": "api", "instance": "a"},
     "annotations": {"summary": "slow"}, "startsAt": "2026-03-02T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prom/graph", "fingerprint": "aaaa000000000001"},
    {"status": "firing", "labels": {"alertname": "HighLatency", "service": "api", "instance": "b"},
     "annotations": {}, "startsAt": "2026-03-02T09:59:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "aaaa000000000002"}
  ],
  "someFutureField": true
}`

func decode(t *testing.T, s string) Webhook {
	t.Helper()
	w, err := DecodeWebhook(strings.NewReader(s), 1000, MatcherParser{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDecodeWebhookErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{``, "body is empty"},
		{`{"version": "4"`, "ends in the middle"},
		{`[1]`, "expected an object"},
		{`{"version": "3", "groupKey": "g", "status": "firing"}`, `version: "3" is not supported`},
		{`{"version": "4", "status": "firing"}`, "groupKey: required"},
		{`{"version": "4", "groupKey": "g", "status": "burning"}`, `status: "burning"`},
		{`{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {}}]}`, "alerts[0].labels: an alert needs labels"},
		{`{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "x", "labels": {"a": "b"}}]}`, `alerts[0].status`},
		{`{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"a-b": "c"}}]}`, `invalid label name`},
		{`{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": 1}}]}`, `alerts[0].labels: expected a string, got JSON number`},
		{`{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "yesterday"}]}`, `alerts[0].startsAt: "yesterday" is not an RFC 3339 time`},
		{`{"version": 4, "groupKey": "g", "status": "firing"}`, `field "version": expected a string, got JSON number`},
		{`{"version": "4", "groupKey": "g", "status": "firing"} {}`, "more follows"},
	}
	for _, tt := range tests {
		_, err := DecodeWebhook(strings.NewReader(tt.body), 1000, NewMatcherParser(config.MatcherSyntaxClassic, nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("body %.40q: err %v, want invalid containing %q", tt.body, err, tt.want)
		}
	}
	// Outside classic mode, label names are any UTF-8, as in Alertmanager.
	utf8Name := `{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"a-b": "c"}}]}`
	if _, err := DecodeWebhook(strings.NewReader(utf8Name), 10, MatcherParser{}); err != nil {
		t.Errorf("UTF-8 label name refused: %v", err)
	}
	empty := `{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", "labels": {"": "c"}}]}`
	if _, err := DecodeWebhook(strings.NewReader(empty), 10, MatcherParser{}); err == nil || !strings.Contains(err.Error(), "invalid label name") {
		t.Errorf("empty label name: %v", err)
	}
	many := `{"version": "4", "groupKey": "g", "status": "firing", "alerts": [` + strings.Repeat(`{"status": "firing", "labels": {"a": "b"}},`, 3) + `{"status": "firing", "labels": {"a": "c"}}]}`
	if _, err := DecodeWebhook(strings.NewReader(many), 3, MatcherParser{}); err == nil || !strings.Contains(err.Error(), "limit is 3") {
		t.Errorf("max alerts: %v", err)
	}
}

// A bad value inside one alert is named by the alert's index and field,
// with the byte offset where the value starts.
func TestDecodeWebhookNamesAlertAndOffset(t *testing.T) {
	good := `{"status": "firing", "labels": {"alertname": "x"}, "startsAt": "2026-12-06T00:00:00Z"}`
	body := func(bad string) string {
		return `{"version": "4", "groupKey": "g", "status": "firing", "alerts": [` + good + `, ` + good +
			`, {"status": "firing", "labels": {"alertname": "y"}, ` + bad + `}]}`
	}
	// value is where the offset points: a bad time's start; for a type
	// mismatch the decoder's own position, just past the value's first byte.
	tests := []struct{ bad, value, want string }{
		{`"startsAt": "yesterday"`, `"yesterday"`, `alerts[2].startsAt: "yesterday" is not an RFC 3339 time`},
		{`"startsAt": "2026-13-01T00:00:00Z"`, `"2026-13`, `alerts[2].startsAt: "2026-13-01T00:00:00Z" is not an RFC 3339 time`},
		{`"endsAt": 5`, `5}`, `alerts[2].endsAt: expected an RFC 3339 time (a string), got JSON number`},
		{`"endsAt": {"t": 1}`, `{"t"`, `alerts[2].endsAt: expected an RFC 3339 time (a string), got JSON object`},
		{`"annotations": ["a"]`, `"a"]`, `alerts[2].annotations: expected an object, got JSON array`},
		{`"status": 5`, `}]}`, `alerts[2].status: expected a string, got JSON number`},
	}
	for _, tt := range tests {
		b := body(tt.bad)
		_, err := DecodeWebhook(strings.NewReader(b), 1000, MatcherParser{})
		want := fmt.Sprintf("%s (byte %d)", tt.want, strings.LastIndex(b, tt.value))
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want invalid %q", tt.bad, err, want)
		}
	}
	// An alert that is not an object, and the first bad alert of several.
	b := `{"version": "4", "groupKey": "g", "status": "firing", "alerts": [` + good + `, 7, {"startsAt": "x"}]}`
	_, err := DecodeWebhook(strings.NewReader(b), 1000, MatcherParser{})
	if want := fmt.Sprintf("alerts[1]: expected an object, got JSON number (byte %d)", strings.Index(b, "7")); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("non-object alert: err %v, want %q", err, want)
	}
}

func TestWebhookDedupeAndResolve(t *testing.T) {
	f := newFixture(t, config.Alerting{})
	ctx := context.Background()
	w := decode(t, sampleWebhook)
	res, err := f.svc.IngestWebhook(ctx, w)
	if err != nil || res.New != 2 {
		t.Fatalf("first delivery: %+v %v", res, err)
	}
	// The same notification again, as an HA peer would send it.
	res, err = f.svc.IngestWebhook(ctx, w)
	if err != nil || res.New != 0 || res.Unchanged != 2 {
		t.Fatalf("duplicate: %+v %v", res, err)
	}
	gs := f.sink.Groups()
	if len(gs) != 1 || gs[0].Key != w.GroupKey || gs[0].Source != "alertmanager" || len(gs[0].Alerts) != 2 ||
		gs[0].Labels["alertname"] != "HighLatency" {
		t.Fatalf("groups %+v", gs)
	}
	// One resolves; then both.
	w2 := decode(t, sampleWebhook)
	w2.Alerts[0].Status, w2.Alerts[0].EndsAt = "resolved", t0
	if _, err := f.svc.IngestWebhook(ctx, w2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IngestWebhook(ctx, w2); err != nil {
		t.Fatal(err)
	}
	gs = f.sink.Groups()
	if len(gs) != 2 || !gs[1].Firing {
		t.Fatalf("partial resolve: %+v", gs)
	}
	w3 := decode(t, sampleWebhook)
	w3.Status = "resolved"
	for i := range w3.Alerts {
		w3.Alerts[i].Status = "resolved"
	}
	for i := 0; i < 2; i++ {
		if _, err := f.svc.IngestWebhook(ctx, w3); err != nil {
			t.Fatal(err)
		}
	}
	gs = f.sink.Groups()
	if len(gs) != 3 || gs[2].Firing {
		t.Fatalf("resolve: %+v", gs)
	}
	// A late duplicate of the first (firing) notification changes nothing.
	res, _ = f.svc.IngestWebhook(ctx, w)
	if res.New != 0 || len(f.sink.Groups()) != 3 {
		t.Fatalf("late duplicate re-fired: %+v, %d groups", res, len(f.sink.Groups()))
	}
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("%d alerts active", n)
	}
}

func TestWatchdogIsAHeartbeat(t *testing.T) {
	f := newFixture(t, config.Alerting{Heartbeats: []config.Heartbeat{{Name: "watchdog", Timeout: model.Duration(5 * time.Minute), AlertmanagerAlert: "Watchdog"}}})
	ctx := context.Background()
	body := `{"version":"4","groupKey":"{}:{alertname=\"Watchdog\"}","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Watchdog"}}]}`
	res, err := f.svc.IngestWebhook(ctx, decode(t, body))
	if err != nil || res.Heartbeats != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	f.clock.Advance(4 * time.Minute)
	f.eval(t)
	if n := len(f.alerts(t)); n != 0 {
		t.Fatalf("the Watchdog became an alert: %+v", f.alerts(t))
	}
	f.clock.Advance(2 * time.Minute)
	f.eval(t)
	gs := f.sink.Groups()
	if len(gs) != 1 || gs[0].Alerts[0].Labels["heartbeat"] != "watchdog" {
		t.Fatalf("dead pipeline did not page: %+v", gs)
	}
	if _, err := f.svc.IngestWebhook(ctx, decode(t, body)); err != nil {
		t.Fatal(err)
	}
	if gs := f.sink.Groups(); len(gs) != 2 || gs[1].Firing {
		t.Fatalf("beat did not resolve: %+v", gs)
	}
}

func TestEchoedAlertJoinsItsGroup(t *testing.T) {
	f := newFixture(t, config.Alerting{Rules: []config.AlertRule{probeRule("CheckoutProbeFailing", 0, 0)}})
	ctx := context.Background()
	f.probe(true)
	out, err := f.svc.OutgoingAlerts(ctx)
	if err != nil || len(out) != 1 {
		t.Fatalf("outgoing %+v %v", out, err)
	}
	labels := out[0].Labels.Clone()
	labels[GroupKeyLabel] = out[0].GroupKey
	w := NewWebhook(`{}:{alertname="CheckoutProbeFailing"}`, "firing", nil)
	w.Alerts = []WebhookAlert{{Status: "firing", Labels: template.KV(labels), StartsAt: t0, Fingerprint: "ffff"}}
	res, err := f.svc.IngestWebhook(ctx, w)
	if err != nil || res.New != 0 || res.Unchanged != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	gs := f.sink.Groups()
	if len(gs) != 1 || gs[0].Key != "service=checkout" {
		t.Fatalf("echo made a new group: %+v", gs)
	}
	// Alone (Sentinel no longer tracks it), it still joins its group key.
	labels2 := model.Labels{"alertname": "Other", "service": "checkout", GroupKeyLabel: "service=checkout"}
	w.Alerts = []WebhookAlert{{Status: "firing", Labels: template.KV(labels2), StartsAt: t0}}
	if _, err := f.svc.IngestWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	gs = f.sink.Groups()
	if len(gs) != 2 || gs[1].Key != "service=checkout" || len(gs[1].Alerts) != 2 {
		t.Fatalf("groups %+v", gs)
	}
}

func TestNewSilenceValidation(t *testing.T) {
	tests := []struct {
		n    NewSilence
		want string
	}{
		{NewSilence{Duration: time.Hour, Author: "a"}, "at least one matcher"},
		{NewSilence{Matchers: TextInputs(`a=~".*"`), Duration: time.Hour, Author: "a"}, "match every alert"},
		{NewSilence{Matchers: TextInputs("a=b"), Author: "a"}, "set ends_at or duration"},
		{NewSilence{Matchers: TextInputs("a=b"), EndsAt: t0.Add(-time.Hour), Author: "a"}, "ends_at must be after"},
		{NewSilence{Matchers: TextInputs("a=b"), Duration: 48 * time.Hour, Author: "a"}, "at most 1d"},
		{NewSilence{Matchers: TextInputs("a b"), Duration: time.Hour, Author: "a"}, "matchers[0]"},
	}
	for _, tt := range tests {
		_, err := tt.n.build(MatcherParser{}, t0, 24*time.Hour, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.n, err, tt.want)
		}
	}
}

func TestCompileProblems(t *testing.T) {
	above := config.Threshold(1)
	below := 0.5
	cfg := config.Alerting{Rules: []config.AlertRule{
		{Name: "A", When: config.AlertCondition{Probe: "nope"}, Runbook: "missing"},
		{Name: "A", When: config.AlertCondition{Probe: "checkout"}},
		{Name: "B", When: config.AlertCondition{SLO: "ghost", BudgetRemainingBelow: &below}},
		{Name: "C", When: config.AlertCondition{RUM: "fid", Above: &above}},
		{Name: "D", When: config.AlertCondition{Probe: "checkout", SLO: "x"}},
		{Name: "E", When: config.AlertCondition{Probe: "checkout"}, Annotations: map[string]string{"summary": "{{ .Labels"}},
	}}
	_, ps := Compile(cfg, Refs{Probes: []string{"checkout"}, SLOs: []string{"checkout-availability"}, Runbooks: hasNone{}, RunbooksDir: "./runbooks"})
	want := []string{
		"alerting.rules[0].when.probe: no probe named \"nope\" (known: checkout)",
		"alerting.rules[0].runbook: no runbook named \"missing\"",
		"alerting.rules[1].name: duplicate rule name \"A\"",
		"alerting.rules[2].when.slo: no SLO named \"ghost\"",
		"alerting.rules[3].when.rum: unknown RUM measure \"fid\"",
		"alerting.rules[4].when: set exactly one of probe, rum or slo",
		"alerting.rules[5].annotations.summary: bad template",
	}
	text := ps.Error()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing problem %q in:\n%s", w, text)
		}
	}
}

type hasNone struct{}

func (hasNone) Has(string) bool { return false }

func FuzzDecodeWebhook(f *testing.F) {
	f.Add([]byte(sampleWebhook))
	f.Add([]byte(`{"version":"4","groupKey":"g","status":"resolved","alerts":[{"status":"resolved","labels":{"a":"b"}}]}`))
	f.Add([]byte(`{"version":"4","alerts":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeWebhook(bytes.NewReader(data), 100, MatcherParser{})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if w.Version != "4" || w.GroupKey == "" {
			t.Fatalf("accepted %+v", w)
		}
		for _, a := range w.Alerts {
			if len(a.Labels) == 0 || a.Fingerprint == "" {
				t.Fatalf("accepted alert %+v", a)
			}
		}
		// Whatever is accepted can be ingested.
		fx := newFixture(t, config.Alerting{})
		if _, err := fx.svc.IngestWebhook(context.Background(), w); err != nil {
			t.Fatalf("ingest: %v", err)
		}
	})
}
