package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds one readiness check; a check slower than this is
// itself a reason not to be ready.
const readyTimeout = 2 * time.Second

// BackupChecksumTrailer is the HTTP trailer carrying the hex SHA-256 of a
// backup's bytes, so a client can tell a complete copy from a cut one.
const BackupChecksumTrailer = "X-Backup-Sha256"

// mountOps adds the operational endpoints.
func (s *Server) mountOps(g prometheus.Gatherer, reg prometheus.Registerer) {
	pub := s.routes.Public()
	pub.GET("/healthz", healthz)
	pub.HEAD("/healthz", healthz)
	pub.GET("/readyz", s.readyz)
	pub.HEAD("/readyz", s.readyz)

	if g == nil {
		g = prometheus.NewRegistry()
	}
	metrics := promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
		Registry:          reg,
	})
	pub.GET("/metrics", gin.WrapH(metrics))

	s.routes.Admin().POST("/-/reload", s.reload)
	s.routes.Admin().GET("/api/v1/backup", s.backupHandler)
}

func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyBody is /readyz's answer.
type readyBody struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) readyz(c *gin.Context) {
	if s.readiness == nil {
		c.JSON(http.StatusOK, readyBody{Ready: true})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := s.readiness.Ready(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, readyBody{Reason: err.Error()})
		return
	}
	c.JSON(http.StatusOK, readyBody{Ready: true})
}

// reload applies a new configuration. An invalid one is the operator's
// mistake: 400 listing the problems, the running config untouched.
func (s *Server) reload(c *gin.Context) {
	if s.reloader == nil {
		Error(c, fmt.Errorf("%w: reload is not available", ErrUnavailable))
		return
	}
	err := s.reloader.Reload(c.Request.Context())
	if err == nil {
		loggerFrom(c).Info("config reloaded", "actor", Actor(c))
		c.JSON(http.StatusOK, gin.H{"status": "reloaded"})
		return
	}
	loggerFrom(c).Warn("config reload failed", "actor", Actor(c), "err", err)
	// config.Problems and ErrInvalid map to 400 with the text; see statusOf.
	status, _ := statusOf(err)
	if status == http.StatusInternalServerError {
		// Only admins get here, and they need the cause to fix it.
		c.AbortWithStatusJSON(status, ErrorBody{Error: "reload failed: " + err.Error(), RequestID: RequestID(c)})
		return
	}
	Error(c, err)
}

// backupHandler streams a consistent copy of the store. Failing before the
// first byte gives a JSON error; failing after it cuts the connection, so
// the client sees a broken transfer instead of a short file that looks
// whole. The SHA-256 of the bytes follows in a trailer.
func (s *Server) backupHandler(c *gin.Context) {
	if s.backup == nil {
		Error(c, fmt.Errorf("%w: backup is not available", ErrUnavailable))
		return
	}
	name := "sentinel-" + s.now().UTC().Format("20060102T150405Z") + ".db"
	h := c.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Trailer", BackupChecksumTrailer)
	sum := sha256.New()
	w := &firstWriteTracker{w: io.MultiWriter(c.Writer, sum)}
	n, err := s.backup.Backup(c.Request.Context(), w)
	if err != nil {
		if !w.wrote {
			h.Del("Content-Type")
			h.Del("Content-Disposition")
			h.Del("Trailer")
			Error(c, fmt.Errorf("backup: %w", err))
			return
		}
		loggerFrom(c).Error("backup failed mid-stream", "err", err, "bytes", n)
		panic(http.ErrAbortHandler)
	}
	if !w.wrote {
		c.Status(http.StatusOK)
	}
	h.Set(BackupChecksumTrailer, hex.EncodeToString(sum.Sum(nil)))
	loggerFrom(c).Info("backup served", "actor", Actor(c), "bytes", n)
}

// firstWriteTracker remembers whether anything reached the client.
type firstWriteTracker struct {
	w     io.Writer
	wrote bool
}

func (t *firstWriteTracker) Write(p []byte) (int, error) {
	if len(p) > 0 {
		t.wrote = true
	}
	return t.w.Write(p)
}
