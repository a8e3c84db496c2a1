package runbooks

import (
	"strings"
	"testing"
)

func TestRenderIsSafeCommonMark(t *testing.T) {
	r := NewRenderer()
	cases := []struct {
		name, in      string
		want, notWant []string
	}{
		{"commonmark", "# Checkout down\n\n1. Open **the dashboard**\n2. Run `kubectl get pods`\n",
			[]string{`<h1 id="checkout-down">Checkout down</h1>`, "<strong>the dashboard</strong>", "<code>kubectl get pods</code>", "<ol>"}, nil},
		{"gfm table and tasks", "| a | b |\n| - | - |\n| 1 | 2 |\n\n- [ ] check\n- ~~old~~\n",
			[]string{"<table>", "<td>1</td>", `type="checkbox"`, "<del>old</del>"}, nil},
		{"raw html block", "<script>alert(1)</script>\n\ntext", []string{"raw HTML omitted"}, []string{"<script"}},
		{"inline html", "hi <img src=x onerror=alert(1)> there", []string{"hi "}, []string{"<img", "onerror"}},
		{"javascript link", "[click](javascript:alert(1)) [x](JAVASCRIPT:alert(1))", []string{"click"}, []string{"javascript:", "JAVASCRIPT:"}},
		{"data link", "[d](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:text/html"}},
		{"escaped text", "a < b & c", []string{"a &lt; b &amp; c"}, nil},
		{"safe link", "[runbook](https://wiki.example.com/x)", []string{`<a href="https://wiki.example.com/x">runbook</a>`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := r.Render(c.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in %s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("unsafe %q passed through: %s", w, out)
				}
			}
		})
	}
}

func BenchmarkRenderRunbook(b *testing.B) {
	r := NewRenderer()
	doc := strings.Repeat("## Step\n\n1. Check **this** and `that`.\n2. See [the wiki](https://wiki.example.com).\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n", 20)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := r.Render(doc); err != nil {
			b.Fatal(err)
		}
	}
}
