package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocumentedBodyLimits sends each API endpoint in docs/api.md's body
// limit table one byte over its stated limit: the answer must be 413 naming
// exactly that limit, so the table matches the code. It also fails when the
// table is missing.
func TestDocumentedBodyLimits(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^  \\| `(GET|POST|PUT|PATCH|DELETE) (/api/[^`]+)` \\| ([0-9]+) bytes ")
	rows := row.FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 15 {
		t.Fatalf("docs/api.md's body limit table lists %d API endpoints with a byte limit, want the 64, 16 and 4 KiB ones", len(rows))
	}
	cfg := testConfig(t, `slos:
  - {name: orders, service: orders, objective: 99, window: 30d, sli: {events: {}}}
status_page:
  enabled: true
  components:
    - {name: Orders API, slo: orders}
`)
	a, err := New(context.Background(), Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	started(t, a)
	params := strings.NewReplacer("{id}", "1", "{name}", "orders")
	for _, r := range rows {
		method, path := r[1], params.Replace(r[2])
		if strings.Contains(path, "status-page/components/1") {
			path = strings.Replace(path, "/1/", "/orders-api/", 1)
		}
		limit, _ := strconv.Atoi(r[3])
		t.Run(method+" "+r[2], func(t *testing.T) {
			body := strings.Repeat(" ", limit+1)
			req, _ := http.NewRequest(method, a.URL()+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			want := fmt.Sprintf("the limit is %d bytes", limit)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), want) {
				t.Errorf("%d bytes: %s %s, want 413 %q", limit+1, resp.Status, b, want)
			}
		})
	}
}
