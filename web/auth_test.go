package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRoleMatrix(t *testing.T) {
	f := newFixture(t, nil)
	routes := []struct {
		class  string
		method string
		path   string
	}{
		{"public", http.MethodGet, "/t/public"},
		{"viewer", http.MethodGet, "/t/viewer/1"},
		{"responder", http.MethodPost, "/t/responder"},
		{"admin", http.MethodPost, "/t/admin"},
		{"ingest", http.MethodPost, "/t/ingest"},
		{"admin", http.MethodPost, "/-/reload"},     // no Reloader: 503 once allowed
		{"admin", http.MethodGet, "/api/v1/backup"}, // no BackupSource: 503 once allowed
	}
	tokens := []struct{ name, token string }{
		{"none", ""},
		{"unknown", "not-a-configured-token-xyz"},
		{"viewer", tokViewer},
		{"responder", tokResponder},
		{"admin", tokAdmin},
		{"ingest", tokIngest},
	}
	allowed := map[string]map[string]bool{
		"public":    {"none": true, "unknown": true, "viewer": true, "responder": true, "admin": true, "ingest": true},
		"viewer":    {"viewer": true, "responder": true, "admin": true},
		"responder": {"responder": true, "admin": true},
		"admin":     {"admin": true},
		"ingest":    {"ingest": true, "admin": true},
	}
	for _, rt := range routes {
		for _, tk := range tokens {
			t.Run(rt.path+"/"+tk.name, func(t *testing.T) {
				rec := f.do(t, rt.method, rt.path, tk.token, nil)
				var want int
				switch {
				case allowed[rt.class][tk.name]:
					want = http.StatusOK
					if strings.HasPrefix(rt.path, "/-/") || strings.HasPrefix(rt.path, "/api/") {
						want = http.StatusServiceUnavailable
					}
				case tk.name == "none" || tk.name == "unknown":
					want = http.StatusUnauthorized
				default:
					want = http.StatusForbidden
				}
				if rec.Code != want {
					t.Fatalf("%s %s as %s: status %d, want %d (%s)", rt.method, rt.path, tk.name, rec.Code, want, rec.Body.String())
				}
				if want == http.StatusUnauthorized {
					if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", h)
					}
				}
				if want >= 400 {
					b := errorOf(t, rec)
					if tk.token != "" && strings.Contains(b.Error, tk.token) {
						t.Errorf("error echoes the token: %q", b.Error)
					}
				}
			})
		}
	}
}

func TestAuthHeaderForms(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name   string
		header string
		want   int
	}{
		{"canonical", "Bearer " + tokViewer, 200},
		{"lowercase scheme", "bearer " + tokViewer, 200},
		{"upper scheme", "BEARER " + tokViewer, 200},
		{"extra spaces", "Bearer    " + tokViewer + "  ", 200},
		{"tab", "Bearer\t" + tokViewer, 200},
		{"basic", "Basic dXNlcjpwYXNz", 401},
		{"scheme only", "Bearer", 401},
		{"scheme and space", "Bearer   ", 401},
		{"no space", "Bearer" + tokViewer, 401},
		{"two tokens", "Bearer " + tokViewer + " " + tokAdmin, 401},
		{"prefix of token", "Bearer " + tokViewer[:10], 401},
		{"token plus suffix", "Bearer " + tokViewer + "x", 401},
		{"control char", "Bearer " + tokViewer + "\x01", 401},
		{"huge", "Bearer " + strings.Repeat("a", 10000), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/t/viewer/1", "", nil, "Authorization", tc.header)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body.String())
			}
		})
	}
}

func TestPrincipalInContextAndLogs(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, http.MethodPost, "/t/responder", tokResponder, nil)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["actor"] != "r" || got["principal"] != "r/responder" {
		t.Errorf("actor = %q, principal = %q; want r and r/responder", got["actor"], got["principal"])
	}
	if got["request_id"] == "" || got["request_id"] != rec.Header().Get("X-Request-ID") {
		t.Errorf("request ID in context %q, header %q", got["request_id"], rec.Header().Get("X-Request-ID"))
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("authenticated answer without Cache-Control: no-store")
	}
	// A forbidden attempt, an unknown token and a good one: no token value
	// may reach the log, the actor name must.
	f.do(t, http.MethodPost, "/t/admin", tokViewer, nil)
	f.do(t, http.MethodGet, "/t/viewer/1?token=query-secret-value", "unknown-token-value-123", nil)
	logs := f.logs.String()
	for _, secret := range []string{tokViewer, tokResponder, "unknown-token-value-123", "query-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"actor":"r"`) {
		t.Errorf("access log lacks actor:\n%s", logs)
	}
}

func TestForbiddenMessageNamesRoleNotToken(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/t/viewer/1", tokIngest, nil)
	b := errorOf(t, rec)
	if rec.Code != 403 || !strings.Contains(b.Error, `"i"`) || !strings.Contains(b.Error, "ingest") || !strings.Contains(b.Error, "viewer") {
		t.Fatalf("403 message %q should name the token and both roles", b.Error)
	}
}

func TestParseBearer(t *testing.T) {
	cases := []struct {
		in   string
		tok  string
		isOK bool
	}{
		{"Bearer abc", "abc", true},
		{"bEaReR abc", "abc", true},
		{"  Bearer abc  ", "abc", true},
		{"Bearer a=b/c+d~e", "a=b/c+d~e", true},
		{"Bearer", "", false},
		{"Bearerabc", "", false},
		{"Bearer a b", "", false},
		{"Token abc", "", false},
		{"", "", false},
		{"Bearer ü", "", false},
	}
	for _, tc := range cases {
		tok, ok := parseBearer(tc.in)
		if tok != tc.tok || ok != tc.isOK {
			t.Errorf("parseBearer(%q) = %q, %v; want %q, %v", tc.in, tok, ok, tc.tok, tc.isOK)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer\tX", "Basic x", "Bearer ", "Bearer a b", " Bearer  tok ", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := parseBearer(h)
		if !ok {
			if tok != "" {
				t.Fatalf("refused %q but returned token %q", h, tok)
			}
			return
		}
		if tok == "" || len(tok) > maxAuthorizationLen {
			t.Fatalf("accepted %q with token %q", h, tok)
		}
		for i := 0; i < len(tok); i++ {
			if tok[i] <= ' ' || tok[i] >= 0x7f {
				t.Fatalf("token %q from %q holds byte %#x", tok, h, tok[i])
			}
		}
		if !strings.Contains(h, tok) {
			t.Fatalf("token %q is not part of %q", tok, h)
		}
		if again, ok := parseBearer("Bearer " + tok); !ok || again != tok {
			t.Fatalf("round trip of %q gave %q, %v", tok, again, ok)
		}
	})
}

func TestLookupConstantTimeCandidates(t *testing.T) {
	tokens := newTokens(testAuth())
	if p, ok := lookup(tokens, tokAdmin); !ok || p.Name != "a" {
		t.Fatalf("lookup admin = %+v, %v", p, ok)
	}
	if _, ok := lookup(tokens, ""); ok {
		t.Fatal("empty token matched")
	}
	if _, ok := lookup(nil, tokAdmin); ok {
		t.Fatal("matched with no tokens configured")
	}
}

func BenchmarkLookup(b *testing.B) {
	tokens := newTokens(testAuth())
	for b.Loop() {
		lookup(tokens, tokIngest)
	}
}
