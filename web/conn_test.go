package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// serve runs f's server until the test ends and returns its address.
func (f *fixture) serve(t *testing.T) string {
	t.Helper()
	ln, err := f.srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return ln.Addr().String()
}

// TestStalledBodyIsCutOff sends headers and a few bytes of a 1000-byte
// body, then stalls, on a route that reads the body, on one that answers
// without reading it (401) and on an unknown path: each connection is
// answered and closed once server.read_timeout has passed, instead of
// being held open.
func TestStalledBodyIsCutOff(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	f := newFixture(t, func(o *Options) { o.Server.ReadTimeout = model.Duration(readTimeout) })
	f.srv.Routes().Public().POST("/t/read", func(c *gin.Context) {
		if _, err := io.ReadAll(c.Request.Body); err != nil {
			Error(c, err)
			return
		}
		c.Status(http.StatusOK)
	})
	addr := f.serve(t)
	for _, tc := range []struct {
		path   string
		status string
	}{
		{"/t/read", "408"},
		{"/t/responder", "401"},
		{"/nowhere", "404"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			_, err = io.WriteString(conn, "POST "+tc.path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":\"012")
			if err != nil {
				t.Fatal(err)
			}
			// The client stalls; the server must not wait for it forever.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after 10 s (read_timeout %s); read %q", readTimeout, got)
			}
			if elapsed := time.Since(start); elapsed < readTimeout/2 {
				t.Errorf("closed after %s, before the read timeout", elapsed)
			}
			if !strings.HasPrefix(string(got), "HTTP/1.1 "+tc.status) {
				t.Errorf("answer %q, want %s", got, tc.status)
			}
		})
	}
}

// TestPrepareChangesConnectionsLive raises and lowers limits while
// serving: a smaller max_header_bytes refuses (431) headers the old one
// took, TLS switched on serves HTTPS on the same address, and a request
// that was in flight across the swap completes.
func TestPrepareChangesConnectionsLive(t *testing.T) {
	f := newFixture(t, nil)
	inFlight := make(chan struct{})
	release := make(chan struct{})
	f.srv.Routes().Public().GET("/t/slow", func(c *gin.Context) {
		close(inFlight)
		<-release
		c.String(http.StatusOK, "done")
	})
	addr := f.serve(t)
	big := strings.Repeat("x", 8<<10)
	get := func(client *http.Client, scheme string) int {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/healthz", nil)
		req.Header.Set("X-Big", big)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(http.DefaultClient, "http"); code != 200 {
		t.Fatalf("8 KiB header under the default limit: %d", code)
	}

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/t/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-inFlight

	certFile, keyFile, pool := selfSigned(t)
	next := config.Server{Listen: "127.0.0.1:0", MaxBodyBytes: 1024, MaxHeaderBytes: 4096, TLS: config.TLS{CertFile: certFile, KeyFile: keyFile}}
	commit, err := f.srv.Prepare(next, testAuth())
	if err != nil {
		t.Fatal(err)
	}
	commit()
	close(release)
	if got := <-slow; got != "done" {
		t.Errorf("the request in flight across the swap got %q", got)
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if code := get(tlsClient, "https"); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KiB header over the new 4 KiB limit: %d, want 431", code)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/healthz", nil)
	resp, err := tlsClient.Do(req)
	if err != nil {
		t.Fatalf("HTTPS after switching TLS on: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !f.srv.TLS() {
		t.Errorf("HTTPS after switching TLS on: %d, TLS() = %v", resp.StatusCode, f.srv.TLS())
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Error("plain HTTP still answered after TLS was switched on")
	}
}
