package rum

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sentinel-oss/sentinel/config"
)

// script is GET /rum.js, built once: the server's settings prepended to the
// snippet, its gzip form, and their strong ETags.
type script struct {
	plain, gz         []byte
	etagPlain, etagGz string
}

// scriptConfig is what the snippet reads from window.__sentinelRUMConfig.
type scriptConfig struct {
	Endpoint    string   `json:"endpoint"`
	Site        string   `json:"site"`
	SampleRate  float64  `json:"sampleRate"`
	QueryParams []string `json:"queryParams"`
}

func newScript(cfg config.RUM, endpoint string) (*script, error) {
	params := cfg.AllowedQueryParams
	if params == nil {
		params = []string{}
	}
	js, err := json.Marshal(scriptConfig{Endpoint: endpoint, Site: cfg.Site, SampleRate: cfg.SampleRate, QueryParams: params})
	if err != nil {
		return nil, fmt.Errorf("rum script settings: %w", err)
	}
	// json.Marshal escapes <, > and & already, so the settings cannot close
	// a <script> element when inlined.
	var b bytes.Buffer
	b.WriteString("window.__sentinelRUMConfig=")
	b.Write(js)
	b.WriteString(";\n")
	b.WriteString(snippetJS)
	s := &script{plain: b.Bytes()}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(s.plain)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress rum script: %w", err)
	}
	s.gz = z.Bytes()
	s.etagPlain = etag(s.plain)
	s.etagGz = etag(s.gz)
	return s, nil
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// ScriptHandler serves GET (and HEAD) /rum.js: the snippet with the server's
// settings prepended, gzip-compressed when the client accepts it, with a
// strong ETag of the bytes sent, 304 for a matching If-None-Match, and
// caching for five minutes.
func (c *Collector) ScriptHandler() http.Handler { return http.HandlerFunc(c.serveScript) }

func (c *Collector) serveScript(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	s := c.set.Load().script
	body, tag := s.plain, s.etagPlain
	gz := acceptsGzip(r.Header.Values("Accept-Encoding"))
	if gz {
		body, tag = s.gz, s.etagGz
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", tag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if etagMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// acceptsGzip reports whether Accept-Encoding admits gzip (q > 0).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				if name == "gzip" {
					return false
				}
				continue
			}
			return true
		}
	}
	return false
}

// etagMatch implements If-None-Match's weak comparison against tag.
func etagMatch(header, tag string) bool {
	if header == "" {
		return false
	}
	for part := range strings.SplitSeq(header, ",") {
		p := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if p == "*" || p == tag {
			return true
		}
	}
	return false
}
