package rum

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// BeaconHandler serves POST /rum/v1/beacons and its CORS preflight. It
// answers 202 (accepted, or dropped as a bot or by sampling), 400 (malformed
// or invalid, naming what), 403 (origin not allowed), 405, 413 (body too
// large, as sent or decompressed) and 429 (rate-limited), never 500. It
// caps the body itself, so it can be mounted without other middleware.
func (c *Collector) BeaconHandler() http.Handler { return http.HandlerFunc(c.serveBeacon) }

type httpError struct {
	status int
	result string
	msg    string
}

func (c *Collector) serveBeacon(w http.ResponseWriter, r *http.Request) {
	if limit := c.set.Load().cfg.MaxBodyBytes; r.Method != http.MethodPost && r.ContentLength > limit {
		// A POST is checked in accept, after its CORS headers are set
		// (so the page can read the answer).
		herr := tooLarge(limit)
		c.m.beacons.WithLabelValues(herr.result).Inc()
		writeError(w, herr.status, herr.msg)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		c.preflight(w, r)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if herr := c.accept(w, r); herr != nil {
		c.m.beacons.WithLabelValues(herr.result).Inc()
		if herr.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, herr.status, herr.msg)
		return
	}
	w.Header()["Content-Length"] = emptyBody // so the server adds no headers meant for bodies
	w.WriteHeader(http.StatusAccepted)
}

func (c *Collector) preflight(w http.ResponseWriter, r *http.Request) {
	origin := header(r, "Origin")
	if !c.originAllowed(origin) {
		c.m.beacons.WithLabelValues("forbidden").Inc()
		writeError(w, http.StatusForbidden, "origin "+strconv.Quote(origin)+" is not in rum.allowed_origins")
		return
	}
	if m := header(r, "Access-Control-Request-Method"); m != "" && m != http.MethodPost {
		writeError(w, http.StatusForbidden, "only POST is allowed")
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "7200")
	w.WriteHeader(http.StatusNoContent)
}

// accept runs a beacon request through every check and ingests it.
func (c *Collector) accept(w http.ResponseWriter, r *http.Request) *httpError {
	origin := header(r, "Origin")
	if !c.originAllowed(origin) {
		if origin == "" {
			return &httpError{http.StatusForbidden, "forbidden", "missing Origin header"}
		}
		return &httpError{http.StatusForbidden, "forbidden", "origin " + strconv.Quote(origin) + " is not in rum.allowed_origins"}
	}
	st := c.set.Load()
	h := w.Header()
	if v := st.allowOrigin[origin]; v != nil {
		h["Access-Control-Allow-Origin"] = v // shared, never modified
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if _, ok := h["Vary"]; ok {
		h.Add("Vary", "Origin")
	} else {
		h["Vary"] = varyOrigin
	}
	limit := st.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	now := c.now()
	if !st.ipLimits.allow(c.clientIP(r), now) {
		return &httpError{http.StatusTooManyRequests, "rate_limited", "too many beacons from this address"}
	}
	ua := c.userAgentOf(header(r, "User-Agent"))
	if ua.bot {
		c.m.accepted.Inc()
		c.m.droppedBot.Inc()
		return nil
	}
	switch ct, _, _ := strings.Cut(header(r, "Content-Type"), ";"); strings.TrimSpace(strings.ToLower(ct)) {
	case "", "application/json", "text/plain":
	default:
		return &httpError{http.StatusBadRequest, "invalid", "Content-Type must be application/json or text/plain"}
	}
	buf := c.getBuf()
	defer func() {
		if buf.Cap() <= 4*int(limit) {
			buf.Reset()
			c.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := readAtMost(buf, r.Body, limit); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return &httpError{http.StatusBadRequest, "invalid", "reading body: " + err.Error()}
	}
	data := buf.Bytes()
	switch enc := strings.ToLower(strings.TrimSpace(header(r, "Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		plain := c.getBuf()
		defer func() {
			if plain.Cap() <= 4*int(limit) {
				plain.Reset()
				c.bufs.Put(plain)
			}
		}()
		plain.Reset()
		if herr := c.gunzip(plain, data, limit); herr != nil {
			return herr
		}
		data = plain.Bytes()
	default:
		return &httpError{http.StatusBadRequest, "invalid", "unsupported Content-Encoding " + strconv.Quote(enc) + " (want gzip or none)"}
	}
	b := c.getBeacon()
	defer c.putBeacon(b)
	if err := decodeBeaconInto(data, b); err != nil {
		return &httpError{http.StatusBadRequest, "invalid", err.Error()}
	}
	site := b.Site
	if site == "" {
		site = st.cfg.Site
	}
	lim, ok := st.siteLims[site]
	if !ok {
		return &httpError{http.StatusBadRequest, "invalid", "site: unknown site " + strconv.Quote(site) + " (not rum.site or in rum.sites)"}
	}
	if !lim.AllowN(now, 1) {
		return &httpError{http.StatusTooManyRequests, "rate_limited", "too many beacons for site " + strconv.Quote(site)}
	}
	c.m.accepted.Inc()
	wt, keep := c.weight(b)
	if !keep {
		c.m.droppedSampled.Inc()
		return nil
	}
	device := b.Device
	if device == "" {
		device = ua.device(header(r, "Sec-Ch-Ua-Mobile"))
	}
	c.ingest(withoutCancel(r), b, site, device, ua.browser, wt, now)
	return nil
}

// varyOrigin is the Vary header of answers to allowed origins.
var varyOrigin = []string{"Origin"}

// emptyBody is the Content-Length of an answer without a body; shared,
// never modified.
var emptyBody = []string{"0"}

func (c *Collector) getBeacon() *Beacon {
	if b, ok := c.beacons.Get().(*Beacon); ok {
		return b
	}
	return &Beacon{}
}

// putBeacon keeps a beacon's event storage for the next one; the strings
// it points to are dropped.
func (c *Collector) putBeacon(b *Beacon) {
	if cap(b.Events) > 64 {
		return
	}
	clear(b.Events[:cap(b.Events)])
	*b = Beacon{Events: b.Events[:0]}
	c.beacons.Put(b)
}

// header is r.Header.Get for a name already in canonical form
// (Sec-Ch-Ua-Mobile, not Sec-CH-UA-Mobile): Get would canonicalise it again,
// and copy it when the spelling differs, on every beacon.
func header(r *http.Request, canonical string) string {
	if v := r.Header[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// readAtMost reads body to its end into buf, failing with
// *http.MaxBytesError past limit bytes: what http.MaxBytesReader does,
// without a reader allocated per beacon (behind the server the body is
// already capped; mounted alone, this is the cap).
func readAtMost(buf *bytes.Buffer, body io.Reader, limit int64) error {
	if body == nil {
		return nil
	}
	for {
		buf.Grow(512)
		free := buf.AvailableBuffer()
		free = free[:cap(free)]
		n, err := body.Read(free)
		buf.Write(free[:n])
		if int64(buf.Len()) > limit {
			return &http.MaxBytesError{Limit: limit}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (c *Collector) getBuf() *bytes.Buffer {
	if b, ok := c.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func withoutCancel(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

func tooLarge(limit int64) *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, "too_large", "body larger than " + strconv.FormatInt(limit, 10) + " bytes"}
}

// gunzip decompresses data into dst, refusing more than limit bytes of
// output (gzip bombs) with 413.
func (c *Collector) gunzip(dst *bytes.Buffer, data []byte, limit int64) *httpError {
	zr, _ := c.gzips.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(data))
	} else {
		err = zr.Reset(bytes.NewReader(data))
	}
	if err != nil {
		return &httpError{http.StatusBadRequest, "invalid", "invalid gzip body: " + err.Error()}
	}
	defer c.gzips.Put(zr)
	n, err := dst.ReadFrom(io.LimitReader(zr, limit+1))
	if err != nil {
		return &httpError{http.StatusBadRequest, "invalid", "invalid gzip body: " + err.Error()}
	}
	if n > limit {
		return &httpError{http.StatusRequestEntityTooLarge, "too_large", "decompressed body larger than " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Write(append(b, '\n'))
}
