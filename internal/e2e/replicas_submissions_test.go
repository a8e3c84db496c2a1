package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/slack/slacktest"
)

// TestSubmissionCopiesActOnceAcrossReplicas runs two `sentinel serve`
// processes on one PostgreSQL database behind a fake Slack: carol's
// submission of the declare form, and then of the Add note form, reaches
// both replicas (Slack sent it again after a late answer, and the load
// balancer chose the other replica). One incident is declared and one
// note added; both replicas answer 200 with an empty body, which closes
// the form.
func TestSubmissionCopiesActOnceAcrossReplicas(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slacktest.User{ID: slackUser, Name: "carol", Email: "carol@shop.example.com"})
	cluster, _ := postgresCluster(t)
	if err := cluster.CreateDatabase(t.Context(), "sentinel"); err != nil {
		t.Fatal(err)
	}
	dsn := cluster.DSNFor("sentinel")
	var ps []*process
	for i := range 2 {
		addr := freeAddr(t)
		cfg := write(t, fmt.Sprintf("replica-%d.yaml", i), fmt.Sprintf("server: {listen: %q, external_url: %q}\nstorage: {driver: postgres, dsn: %q, open_timeout: 30s}\n%s",
			addr, "http://"+addr, dsn, tokensYAML)+pagingYAML(fake.APIURL(), ""))
		ps = append(ps, startBinary(t, cfg, addr, 30*time.Second))
	}
	client := slacktest.Client{Secret: slackSecret}
	submit := func(p *process, v slacktest.View, values, selects map[string]string) {
		t.Helper()
		payload := slacktest.ViewSubmission(slacktest.Submission{View: v, UserID: slackUser, UserName: "carol", Values: values, Selects: selects})
		r, err := client.Post(t.Context(), p.base()+"/slack/interactions", url.Values{"payload": {string(payload)}}, time.Time{}, "")
		if err != nil || r.Status != http.StatusOK || r.Body != "" {
			t.Fatalf("submission to %s = %d %q %v, want 200 and no body; log:\n%s", p.addr, r.Status, r.Body, err, p.stderr.String())
		}
	}

	// The declare form, opened by /sentinel declare on replica 0.
	r, err := client.SlashCommand(t.Context(), ps[0].base()+"/slack/commands", slacktest.Command{
		Text: "declare", UserID: slackUser, UserName: "carol", ChannelID: "C0INCIDENTS", ChannelName: "incidents",
		ResponseURL: fake.ResponseURL("cmd"), TriggerID: fake.NewTrigger()})
	if err != nil || r.Status != http.StatusOK || len(fake.Views()) != 1 {
		t.Fatalf("declare: %d %s %v; views %d", r.Status, r.Body, err, len(fake.Views()))
	}
	declare := fake.Views()[0]
	for _, p := range ps {
		submit(p, declare, map[string]string{"title": "Card payments fail", "service": "checkout"}, map[string]string{"severity": "critical"})
	}
	if all := listIncidents(t, ps[1].base(), ""); len(all) != 1 || all[0].Title != "Card payments fail" || all[0].Severity != "critical" {
		t.Fatalf("incidents after one submission sent to both replicas: %+v", all)
	}
	declared := 0
	for _, p := range ps {
		declared += strings.Count(p.stderr.String(), "incident declared from Slack")
	}
	if declared != 1 {
		t.Errorf("%d replicas logged a declaration, want 1", declared)
	}

	// The Add note form, opened from the page on replica 1.
	var page []slacktest.Message
	for deadline := time.Now().Add(15 * time.Second); len(page) == 0 && time.Now().Before(deadline); page = pages(fake)["1"] {
		time.Sleep(20 * time.Millisecond)
	}
	if len(page) == 0 {
		t.Fatalf("incident 1 was not paged; log:\n%s", ps[0].stderr.String())
	}
	r, err = client.Interaction(t.Context(), ps[1].base()+"/slack/interactions", slacktest.BlockActions(slacktest.Click{
		ActionID: "sentinel_note", Value: "1", UserID: slackUser, UserName: "carol", ChannelID: page[0].Channel,
		MessageTS: page[0].TS, ResponseURL: fake.ResponseURL("r"), TriggerID: fake.NewTrigger(), ActionTS: "1733400000.000200"}))
	if err != nil || r.Status != http.StatusOK || len(fake.Views()) != 2 {
		t.Fatalf("Add note: %d %s %v; views %d", r.Status, r.Body, err, len(fake.Views()))
	}
	note := fake.Views()[1]
	for _, p := range []*process{ps[1], ps[0]} {
		submit(p, note, map[string]string{"text": "rolled back v42 at 10:42"}, nil)
	}
	notes := 0
	for _, te := range getIncident(t, ps[0].base(), 1).Timeline {
		if te.Kind == "note" && te.Actor == "carol" && te.Text == "rolled back v42 at 10:42" {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("carol's notes after one submission sent to both replicas = %d, want 1", notes)
	}
}
