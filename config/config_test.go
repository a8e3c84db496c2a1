package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/sentinel-oss/sentinel/model"
)

func env(vars map[string]string) Options {
	return Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:8080" || cfg.Storage.Path != "./data/sentinel.db" {
		t.Fatalf("defaults not applied: %+v", cfg.Server)
	}
	if cfg.Server.ExternalURL != "http://127.0.0.1:8080" {
		t.Fatalf("external_url default = %q", cfg.Server.ExternalURL)
	}
}

func TestProblemsHavePositionsAndAllAreReported(t *testing.T) {
	src := `server:
  listen: 127.0.0.1:9090
  tls:
    cert_fle: x.pem
storage:
  open_timeout: 5 parsecs
logging:
  loki:
    url: ""
    labels: {app: sentinel}
    batch_wait: 1s
  level: loud
auth:
  tokens:
    - {name: ops, token: short, role: root}
`
	_, err := Parse("bad.yaml", []byte(src), env(nil))
	ps := AsProblems(err)
	want := []string{
		`bad.yaml:4:5: server.tls.cert_fle: unknown key "cert_fle" (did you mean "cert_file"?)`,
		`bad.yaml:6:17: storage.open_timeout: invalid duration "5 parsecs"`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	// Decoding problems do not stop validation: the unknown log level and
	// the bad token are reported in the same pass.
	for _, w := range []string{"logging.level: unknown level", "auth.tokens[0].role: unknown role"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	for _, p := range ps {
		if p.Line == 0 || p.File != "bad.yaml" {
			t.Errorf("problem without position: %+v", p)
		}
	}
}

func TestValidationProblemsAllAtOnce(t *testing.T) {
	src := `server:
  listen: nonsense
  external_url: localhost:8080
logging:
  level: loud
  loki: {url: "ftp://loki"}
auth:
  tokens:
    - {name: ops, token: short, role: root}
    - {name: ops, token: a-long-enough-token-1, role: viewer}
`
	_, err := Parse("v.yaml", []byte(src), env(nil))
	got := err.Error()
	for _, w := range []string{
		"v.yaml:2:11: server.listen: must be host:port",
		"v.yaml:3:17: server.external_url: unsupported scheme",
		"v.yaml:5:10: logging.level: unknown level \"loud\"",
		"v.yaml:6:15: logging.loki.url: unsupported scheme \"ftp\"",
		"auth.tokens[0].token: too short",
		"auth.tokens[0].role: unknown role \"root\"",
		"auth.tokens[1].name: duplicate token name \"ops\"",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestEnvExpansion(t *testing.T) {
	src := `server:
  listen: ${HOST}:${PORT:-9999}
  max_body_bytes: ${MAX}
auth:
  tokens:
    - {name: ops, token: "${TOKEN}", role: responder}
logging:
  loki:
    labels: {cost: "$$5", path: "$.cart.id"}
`
	cfg, err := Parse("e.yaml", []byte(src), env(map[string]string{"HOST": "0.0.0.0", "MAX": "2048", "TOKEN": "0123456789abcdef0123"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:9999" {
		t.Errorf("listen = %q", cfg.Server.Listen)
	}
	if cfg.Server.MaxBodyBytes != 2048 {
		t.Errorf("max_body_bytes = %d", cfg.Server.MaxBodyBytes)
	}
	if cfg.Auth.Tokens[0].Token.Reveal() != "0123456789abcdef0123" {
		t.Errorf("token not expanded")
	}
	if l := cfg.Logging.Loki.Labels; l["cost"] != "$5" || l["path"] != "$.cart.id" {
		t.Errorf("labels = %v", l)
	}

	_, err = Parse("e.yaml", []byte("server: {listen: \"${NOPE}\"}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "e.yaml:1:18: server.listen: environment variable NOPE is not set") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tok")
	if err := os.WriteFile(f, []byte("from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("auth:\n  tokens:\n    - {name: a, token_file: %s, role: admin}\n", f)
	cfg, err := Parse("s.yaml", []byte(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tok := cfg.Auth.Tokens[0].Token
	if tok.Reveal() != "from-a-file-0123456789" {
		t.Fatalf("token = %q", tok.Reveal())
	}
	for _, s := range []string{tok.String(), fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q", tok, cfg.Auth, tok, tok, tok)} {
		if strings.Contains(s, "from-a-file") {
			t.Fatalf("secret leaked: %s", s)
		}
	}

	both := fmt.Sprintf("auth:\n  tokens:\n    - {name: a, token: 0123456789abcdefXX, token_file: %s, role: admin}\n", f)
	if _, err := Parse("s.yaml", []byte(both), env(nil)); err == nil || !strings.Contains(err.Error(), "set either token or token_file") {
		t.Fatalf("err = %v", err)
	}
	missing := "auth:\n  tokens:\n    - {name: a, token_file: /nonexistent/tok, role: admin}\n"
	if _, err := Parse("s.yaml", []byte(missing), env(nil)); err == nil || !strings.Contains(err.Error(), "s.yaml:3:29: auth.tokens[0].token_file: cannot read secret file") {
		t.Fatalf("err = %v", err)
	}
}

func TestStrictAtAnyDepth(t *testing.T) {
	for _, src := range []string{
		"servr: {}\n",
		"server: {tls: {cert: x}}\n",
		"auth: {tokens: [{name: a, tokn: b}]}\n",
		"logging: {loki: {url: http://x, labelz: {}}}\n",
	} {
		_, err := Parse("x.yaml", []byte(src), env(nil))
		if err == nil || !strings.Contains(err.Error(), "unknown key") {
			t.Errorf("%q: err = %v", src, err)
		}
	}
}

func TestSyntaxAndShapeErrors(t *testing.T) {
	cases := map[string]string{
		"server: [1, 2]\n":               "x.yaml:1:9: server: expected a mapping of keys, got a list",
		"server:\n  listen: [a]\n":       "x.yaml:2:11: server.listen: expected a single value, got a list",
		"server: {max_body_bytes: lots}": "server.max_body_bytes: expected a whole number, got \"lots\"",
		"a: b\n---\nc: d\n":              "single YAML document",
		"server: {listen: \"x\n":         "x.yaml:",
		"x: &a 1\ny: *a\n":               "unknown key",
	}
	for src, want := range cases {
		_, err := Parse("x.yaml", []byte(src), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", src, want, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte("storage: {path: /tmp/x.db, open_timeout: 2s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.OpenTimeout != model.Duration(2*time.Second) || cfg.SourceName() != p {
		t.Fatalf("got %+v", cfg.Storage)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), env(nil)); err == nil || errors.As(err, new(Problems)) {
		t.Fatalf("missing file should be a plain error, got %v", err)
	}
}

func TestLocateWalksUpToKnownPath(t *testing.T) {
	cfg, err := Parse("l.yaml", []byte("server:\n  listen: 127.0.0.1:1\n  tls: {}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.Locate(Problems{{Path: "server.tls.cert_file", Message: "missing"}})
	if ps[0].Line != 3 || ps[0].String() != "l.yaml:3:3: server.tls.cert_file: missing" {
		t.Fatalf("got %q", ps[0].String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("server: {listen: 127.0.0.1:8080}\n"))
	f.Add([]byte("auth: {tokens: [{name: a, token: ${X}, role: admin}]}\n"))
	f.Add([]byte("storage: {open_timeout: 30d}\nlogging: {loki: {url: http://l}}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, Options{
			LookupEnv: func(string) (string, bool) { return "v", true },
			ReadFile:  func(string) ([]byte, error) { return nil, errors.New("no files in fuzzing") },
		})
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		var ps Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("content error that is not Problems: %v", err)
		}
	})
}

// FuzzStatusComponentID derives IDs from any name: only lower-case
// letters, digits and single inner hyphens come out.
func FuzzStatusComponentID(f *testing.F) {
	for _, s := range []string{"Checkout & Payments", "  API  ", "Ünïcödé Straße", "--", "a--b", "\xff\xfe", "日本語 API"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id := StatusComponent{Name: name}.ID()
		if strings.HasPrefix(id, "-") || strings.HasSuffix(id, "-") || strings.Contains(id, "--") {
			t.Fatalf("ID(%q) = %q", name, id)
		}
		for _, r := range id {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.IsUpper(r) {
				t.Fatalf("ID(%q) = %q holds %q", name, id, r)
			}
		}
	})
}

func TestOIDCValidation(t *testing.T) {
	_, err := Parse("o.yaml", []byte(`auth:
  oidc:
    issuer: "ftp://idp"
    person_claim: name
    scopes: ["email profile"]
    role_claim: groups
    roles: {sre-admins: root, ops: responder, "": viewer, bots: ingest}
`), env(nil))
	if err == nil {
		t.Fatal("bad auth.oidc accepted")
	}
	for _, w := range []string{
		"auth.oidc.issuer: unsupported scheme \"ftp\"",
		"auth.oidc.client_id: missing client_id",
		"auth.oidc.client_secret: missing client secret",
		"auth.oidc.person_claim: unknown person_claim \"name\" (want email or subject)",
		"auth.oidc.scopes[0]: a scope is one word",
		`auth.oidc.roles["sre-admins"]: unknown role "root" for claim value "sre-admins" (want viewer, responder or admin)`,
		`auth.oidc.roles["bots"]: unknown role "ingest"`,
		`auth.oidc.roles[""]: an empty claim value cannot map to a role`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%s", w, err)
		}
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("o.yaml", []byte(`auth:
  oidc: {issuer: "https://idp.example.com", client_id: sentinel, client_secret_file: `+secret+`}
people:
  - {name: ana, oidc_subject: "00u1"}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Auth.OIDC
	if o.ClientSecret.Reveal() != "from-a-file" || o.PersonClaim != OIDCClaimEmail || strings.Join(o.Scopes, " ") != "email profile" || cfg.People[0].OIDCSubject != "00u1" {
		t.Fatalf("auth.oidc = %+v, people[0] = %+v", o, cfg.People[0])
	}
	for body, want := range map[string]string{
		"issuer: https://idp.example.com\n    client_id: s\n    client_secret: x\n    role_claim: groups":  "auth.oidc.roles: role_claim \"groups\" is set but roles maps no value",
		"issuer: https://idp.example.com\n    client_id: s\n    client_secret: x\n    roles: {ops: admin}": "auth.oidc.role_claim: roles is set but role_claim is not",
		"roles: {ops: admin}": "auth.oidc.issuer: missing issuer (other auth.oidc keys are set)",
	} {
		if _, err := Parse("o.yaml", []byte("auth:\n  oidc:\n    "+body+"\n"), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", body, err, want)
		}
	}
}

func TestOIDCMappedRole(t *testing.T) {
	o := OIDC{RoleClaim: "groups", Roles: map[string]Role{"eng": RoleViewer, "oncall": RoleResponder, "sre-admins": RoleAdmin}}
	for _, tc := range []struct {
		values []string
		want   Role
		ok     bool
	}{
		{[]string{"eng", "sre-admins", "oncall"}, RoleAdmin, true},
		{[]string{"eng", "oncall"}, RoleResponder, true},
		{[]string{"marketing"}, "", false},
		{nil, "", false},
	} {
		if got, ok := o.MappedRole(tc.values); got != tc.want || ok != tc.ok {
			t.Errorf("MappedRole(%q) = %q %v, want %q %v", tc.values, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAuditRetention(t *testing.T) {
	cfg, err := Parse("a.yaml", []byte("audit:\n  retention: 90d\n"), env(nil))
	if err != nil || cfg.Audit.Retention.Std() != 90*24*time.Hour {
		t.Fatalf("audit.retention 90d = %v, %v", cfg.Audit.Retention, err)
	}
	if cfg, err := Parse("a.yaml", []byte("{}\n"), env(nil)); err != nil || cfg.Audit.Retention.Std() != DefaultAuditRetention {
		t.Fatalf("default audit.retention = %v, %v", cfg.Audit.Retention, err)
	}
	for body, want := range map[string]string{
		"audit:\n  retention: 1h\n":      "audit.retention: must be between 1d and 3650d (ten years), got 1h",
		"audit:\n  retention: 4000d\n":   "audit.retention: must be between 1d and 3650d",
		"audit:\n  retention: forever\n": "audit.retention",
		"audit:\n  retain: 30d\n":        "retain",
	} {
		if _, err := Parse("a.yaml", []byte(body), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
}
