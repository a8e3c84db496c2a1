package changes_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
)

var now = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	at := now.Add(-12 * time.Minute)
	c, err := changes.NewChange{Service: " checkout ", Title: "v42", Kind: changes.KindDeploy, URL: "https://github.com/shop/checkout/releases/v42", At: "2026-03-25T09:48:00Z"}.Check(now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != "checkout" || c.At != at || c.Kind != changes.KindDeploy {
		t.Fatalf("checked = %+v", c)
	}
	if got := c.Words(now); got != "deploy checkout: v42, 12 min before" {
		t.Errorf("words = %q", got)
	}
	if c, _ := (changes.NewChange{Service: "s", Title: "t"}).Check(now); c.Kind != changes.KindOther || c.At != now {
		t.Errorf("defaults = %+v", c)
	}
	future, past := now.Add(10*time.Minute).Format(time.RFC3339), now.Add(-91*24*time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		n    changes.NewChange
		want string
	}{
		{changes.NewChange{Title: "t"}, "service is required"},
		{changes.NewChange{Service: "s"}, "title is required"},
		{changes.NewChange{Service: strings.Repeat("s", 101), Title: "t"}, "service is longer than 100"},
		{changes.NewChange{Service: "s", Title: "a\nb"}, "title holds the control character"},
		{changes.NewChange{Service: "s", Title: "t", Kind: "rollout"}, "kind must be deploy, config, feature_flag or other"},
		{changes.NewChange{Service: "s", Title: "t", URL: "javascript:alert(1)"}, "url must be an absolute http"},
		{changes.NewChange{Service: "s", Title: "t", At: future}, "at is more than 5m0s in the future"},
		{changes.NewChange{Service: "s", Title: "t", At: past}, "at is older than the 90 days"},
		{changes.NewChange{Service: "s", Title: "t", At: "yesterday"}, "at must be an RFC 3339 time"},
		{changes.NewChange{Service: "s", Title: "t", Labels: map[string]string{"a b": "c"}}, "labels: invalid label"},
	} {
		if _, err := tc.n.Check(now); !errors.Is(err, changes.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%+v) = %v, want %q", tc.n, err, tc.want)
		}
	}
}

// FuzzCheck: whatever a client sends, Check either refuses it as invalid
// or returns a change whose fields hold to the limits.
func FuzzCheck(f *testing.F) {
	f.Add(`{"service":"checkout","title":"v42","kind":"deploy","url":"https://x.example/r","at":"2026-03-25T09:48:00Z","labels":{"env":"prod"}}`)
	f.Add(`{"service":"\u0000","title":""}`)
	f.Fuzz(func(t *testing.T, body string) {
		var n changes.NewChange
		if json.Unmarshal([]byte(body), &n) != nil {
			return
		}
		c, err := n.Check(now)
		if err != nil {
			if !errors.Is(err, changes.ErrInvalid) {
				t.Fatalf("error not invalid: %v", err)
			}
			return
		}
		if c.Service == "" || c.Title == "" || len(c.Labels) > changes.MaxLabels || c.At.After(now.Add(changes.MaxFuture)) {
			t.Fatalf("accepted %+v", c)
		}
	})
}
