package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/rum"
)

// RUMService is the read side of RUM the viewer endpoints need
// (rum.Collector.Service()).
type RUMService interface {
	Vitals(ctx context.Context, from, to time.Time) (rum.VitalsReport, error)
	Errors(ctx context.Context, since time.Time, limit int) (rum.ErrorsReport, error)
}

// RUMHandlers are what the RUM collector serves itself: the snippet and the
// beacon endpoint, each doing its own CORS, gzip, caching, size caps and
// rate limits.
type RUMHandlers struct {
	// Script serves GET and HEAD /rum.js.
	Script http.Handler
	// Beacons serves POST and OPTIONS /rum/v1/beacons.
	Beacons http.Handler
}

// MountRUM adds GET/HEAD /rum.js and POST/OPTIONS /rum/v1/beacons without a
// token, and GET /api/v1/rum/vitals and GET /api/v1/rum/errors for viewers.
// The server's own middleware stays in front (request IDs, security
// headers, client IP, access log, recovery; the global body cap on
// rum.js), none of which rewrites bodies or CORS headers, so the
// collector's gzip, ETag and CORS answers pass through unchanged. The
// beacon endpoint, which every storefront page view calls, is a direct
// route (Routes.Direct): it skips gin, and the collector caps its body.
func MountRUM(r *Routes, h RUMHandlers, svc RUMService) {
	if h.Script != nil {
		script := gin.WrapH(h.Script)
		r.Public().GET(rum.ScriptPath, script)
		r.Public().HEAD(rum.ScriptPath, script)
	}
	if h.Beacons != nil {
		r.Direct(rum.BeaconPath, h.Beacons, http.MethodPost, http.MethodOptions)
	}
	if svc == nil {
		return
	}
	r.Viewer().GET("/api/v1/rum/vitals", func(c *gin.Context) {
		from, ok := timeParam(c, "from")
		if !ok {
			return
		}
		to, ok := timeParam(c, "to")
		if !ok {
			return
		}
		rep, err := svc.Vitals(c.Request.Context(), from, to)
		if err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusOK, rep)
	})
	r.Viewer().GET("/api/v1/rum/errors", func(c *gin.Context) {
		since, ok := timeParam(c, "since")
		if !ok {
			return
		}
		limit, ok := limitParam(c, 0, 1000)
		if !ok {
			return
		}
		rep, err := svc.Errors(c.Request.Context(), since, limit)
		if err != nil {
			Error(c, err)
			return
		}
		c.JSON(http.StatusOK, rep)
	})
}

// limitParam reads the optional ?limit= (def when absent); on a value
// outside 1..max it answers 400 and returns false.
func limitParam(c *gin.Context, def, max int) (int, bool) {
	raw := c.Query("limit")
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		abortJSON(c, http.StatusBadRequest, fmt.Sprintf("limit: must be a whole number from 1 to %d", max))
		return 0, false
	}
	return n, true
}

// timeParam reads an optional RFC 3339 query parameter; on a bad value it
// answers 400 naming the parameter and returns false.
func timeParam(c *gin.Context, name string) (time.Time, bool) {
	raw := c.Query(name)
	if raw == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		abortJSON(c, http.StatusBadRequest, fmt.Sprintf("%s: %q is not an RFC 3339 time such as 2026-03-01T12:00:00Z", name, truncate(raw, 64)))
		return time.Time{}, false
	}
	return t, true
}

// ClientIPFunc returns the client-address logic the Server applies with
// these trusted proxies (server.trusted_proxies), for handlers mounted on
// the Server that see only the *http.Request, such as the RUM collector's
// rate limits. Behind the Server, the address its middleware worked out
// (with the proxies in force now) is taken as it is: that middleware
// overwrites or removes the header carrying it on every request, so a
// client cannot set it. It fails on an entry that is not an address or
// CIDR prefix.
func ClientIPFunc(trustedProxies []string) (func(*http.Request) string, error) {
	var trusted []netip.Prefix
	for i, p := range trustedProxies {
		pfx, err := config.ParseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies[%d]: %w", i, err)
		}
		trusted = append(trusted, pfx)
	}
	return func(r *http.Request) string {
		if v := r.Header[clientIPHeader]; len(v) == 1 {
			return v[0]
		}
		ip := clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), r.Header.Get("X-Real-Ip"), trusted)
		if !ip.IsValid() {
			return r.RemoteAddr
		}
		return ip.String()
	}, nil
}
