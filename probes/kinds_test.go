package probes

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if strings.TrimSpace(line) == "PING" {
					_, _ = c.Write([]byte("+PONG\r\n"))
				} else {
					_, _ = c.Write([]byte("-ERR\r\n"))
				}
			}()
		}
	}()
	env := map[string]string{"ADDR": l.Addr().String()}
	ok := runOne(t, "probes:\n  - {name: redis, kind: tcp, target: \"${ADDR}\", tcp: {send: \"PING\\n\", expect: \"+PONG\"}}\n", env)
	if !ok.Success || ok.Steps[0].Name != "connect" {
		t.Fatalf("tcp: %+v", ok)
	}
	bad := runOne(t, "probes:\n  - {name: redis, kind: tcp, timeout: 1s, target: \"${ADDR}\", tcp: {send: \"HELLO\\n\", expect: \"+PONG\"}}\n", env)
	if bad.Success || !strings.Contains(bad.Error, `expected "+PONG"`) {
		t.Fatalf("tcp mismatch: %+v", bad)
	}
}

func TestTLSProbe(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	env := map[string]string{"ADDR": addr, "CA": ca, "URL": srv.URL}

	// httptest's certificate is valid until 2084: a 14-day threshold passes.
	ok := runOne(t, "probes:\n  - {name: cert, kind: tls, target: \"${ADDR}\", tls: {ca_file: \"${CA}\", server_name: example.com}}\n", env)
	if !ok.Success || ok.Steps[0].CertExpiry == nil {
		t.Fatalf("tls: %+v", ok)
	}
	soon := shortLivedServer(t, 5*24*time.Hour)
	far := runOne(t, "probes:\n  - {name: cert, kind: tls, target: \"${ADDR}\", tls: {insecure_skip_verify: true}}\n", map[string]string{"ADDR": soon})
	if far.Success || !strings.Contains(far.Error, "certificate expires in 4 days") || !strings.Contains(far.Error, "under the 14-day threshold") {
		t.Fatalf("threshold: %+v", far)
	}
	untrusted := runOne(t, "probes:\n  - {name: cert, kind: tls, target: \"${ADDR}\"}\n", env)
	if untrusted.Success || !strings.Contains(untrusted.Error, "TLS error") {
		t.Fatalf("untrusted: %+v", untrusted)
	}
	// HTTP steps use the same settings and record the expiry.
	h := runOne(t, "probes:\n  - {name: h, tls: {ca_file: \"${CA}\", server_name: example.com}, steps: [{name: s, request: {url: \"${URL}/\"}}]}\n", env)
	if !h.Success || h.Steps[0].CertExpiry == nil || h.Steps[0].Phases[PhaseTLS] <= 0 {
		t.Fatalf("https step: %+v", h)
	}
	skip := runOne(t, "probes:\n  - {name: h, tls: {insecure_skip_verify: true}, steps: [{name: s, request: {url: \"${URL}/\"}}]}\n", env)
	if !skip.Success {
		t.Fatalf("insecure_skip_verify: %+v", skip)
	}
}

// shortLivedServer serves TLS with a self-signed certificate valid for d.
func shortLivedServer(t *testing.T, d time.Duration) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "soon.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(d),
		DNSNames: []string{"soon.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	return l.Addr().String()
}

type fakeResolver struct{}

func (fakeResolver) LookupIP(_ context.Context, network, host string) ([]net.IP, error) {
	if host == "shop.test" && network == "ip4" {
		return []net.IP{net.ParseIP("192.0.2.7")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
func (fakeResolver) LookupCNAME(context.Context, string) (string, error) {
	return "edge.cdn.test.", nil
}
func (fakeResolver) LookupMX(context.Context, string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx1.shop.test.", Pref: 10}}, nil
}
func (fakeResolver) LookupTXT(context.Context, string) ([]string, error) {
	return []string{"v=spf1 -all"}, nil
}
func (fakeResolver) LookupNS(context.Context, string) ([]*net.NS, error) {
	return nil, errors.New("refused")
}

func TestDNSProbe(t *testing.T) {
	tests := []struct {
		yaml string
		ok   bool
		want string
	}{
		{`{name: d, kind: dns, target: shop.test, dns: {expect: [192.0.2.7]}}`, true, ""},
		{`{name: d, kind: dns, target: shop.test, dns: {expect: [192.0.2.8]}}`, false, `expected answer "192.0.2.8", got 192.0.2.7`},
		{`{name: d, kind: dns, target: gone.test}`, false, "A gone.test lookup failed: cannot resolve host"},
		{`{name: d, kind: dns, target: shop.test, dns: {type: CNAME, expect: [edge.cdn.test]}}`, true, ""},
		{`{name: d, kind: dns, target: shop.test, dns: {type: MX, expect: [MX1.shop.test.]}}`, true, ""},
		{`{name: d, kind: dns, target: shop.test, dns: {type: NS}}`, false, "refused"},
	}
	for _, tc := range tests {
		js := compile(t, "probes:\n  - "+tc.yaml+"\n", nil)
		svc, _ := New(Options{Probes: js, Resolver: func(string) Resolver { return fakeResolver{} }})
		res, _ := svc.RunOnce(context.Background(), "d")
		if res.Success != tc.ok || !strings.Contains(res.Error, tc.want) {
			t.Errorf("%s: success %v error %q", tc.yaml, res.Success, res.Error)
		}
	}
	// The system resolver answers localhost from the hosts file.
	res := runOne(t, "probes:\n  - {name: d, kind: dns, target: localhost, dns: {expect: [127.0.0.1]}}\n", nil)
	if !res.Success {
		t.Errorf("localhost: %+v", res)
	}
}
