package probes

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentinel-oss/sentinel/model"
)

// Result is one probe run, as the API serves it and the store keeps it. Its
// first fields are the contract's: id, at, success, duration, location,
// steps[].
type Result struct {
	// ID sorts by time: 48 bits of milliseconds, then randomness (ULID-like).
	ID       string         `json:"id"`
	Probe    string         `json:"probe"`
	At       time.Time      `json:"at"`
	Success  bool           `json:"success"`
	Duration model.Duration `json:"duration"`
	Location string         `json:"location"`
	Steps    []StepResult   `json:"steps"`
	// Attempts is 1 plus the retries used.
	Attempts int `json:"attempts"`
	// FailedStep and Error name what failed (empty on success).
	FailedStep string `json:"failed_step,omitempty"`
	Error      string `json:"error,omitempty"`
	// Screenshot names the step whose screenshot is kept with a browser
	// run (the failing step's; with every_step, the last step's), served at
	// GET /api/v1/probes/{name}/runs/{id}/screenshot.
	Screenshot string `json:"screenshot,omitempty"`
}

// StepResult is one step of a run. For tcp, dns and tls probes a run has a
// single step named after what it does (connect, resolve, handshake).
type StepResult struct {
	Name     string         `json:"name"`
	Success  bool           `json:"success"`
	Status   int            `json:"status,omitempty"`
	Duration model.Duration `json:"duration"`
	// Phases are seconds spent per phase: resolve, connect, tls, processing, transfer.
	Phases map[string]float64 `json:"phases,omitempty"`
	// Error is the first failure; Failures lists every failed assertion.
	Error    string   `json:"error,omitempty"`
	Failures []string `json:"failures,omitempty"`
	// Excerpt is the start of the response body of a failed step, with
	// secrets and card numbers masked.
	Excerpt string `json:"excerpt,omitempty"`
	// Truncated is set when the body was longer than the probe's cap.
	Truncated bool `json:"truncated,omitempty"`
	// CertExpiry is the earliest expiry of the server's certificate chain.
	CertExpiry *time.Time `json:"cert_expiry,omitempty"`
	// Answers are a dns probe's answers.
	Answers []string `json:"answers,omitempty"`

	// Browser steps: the page's URL at the end of the step, the selector a
	// failure is about, the page's web vitals so far, and what went wrong
	// in the page during the step. Screenshot says a PNG of the page is
	// kept with the run for this step.
	URL            string          `json:"url,omitempty"`
	Selector       string          `json:"selector,omitempty"`
	Vitals         *Vitals         `json:"vitals,omitempty"`
	ConsoleErrors  []string        `json:"console_errors,omitempty"`
	FailedRequests []FailedRequest `json:"failed_requests,omitempty"`
	Screenshot     bool            `json:"screenshot,omitempty"`

	png []byte // the screenshot itself, stored apart from the run
}

// Vitals are the web vitals of the page a browser step ended on, as the
// vitals bundle of the rum package measured them, in RUM's units: seconds,
// CLS unitless. A nil field was not measured (no interaction yet for INP).
type Vitals struct {
	LCP  *float64 `json:"lcp,omitempty"`
	INP  *float64 `json:"inp,omitempty"`
	CLS  *float64 `json:"cls,omitempty"`
	FCP  *float64 `json:"fcp,omitempty"`
	TTFB *float64 `json:"ttfb,omitempty"`
	// LCPTarget names the LCP element briefly (#id or tag.class).
	LCPTarget string `json:"lcp_target,omitempty"`
}

// FailedRequest is a request of the page that failed (Error) or was
// answered with a status of 400 or more (Status).
type FailedRequest struct {
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// String reads "GET https://shop/x: 404" or "GET https://shop/y: net::ERR_CONNECTION_REFUSED".
func (f FailedRequest) String() string {
	s := strings.TrimSpace(f.Method + " " + f.URL)
	if f.Status != 0 {
		return s + ": " + strconv.Itoa(f.Status)
	}
	return s + ": " + f.Error
}

// Phase names, as blackbox_exporter labels them.
const (
	PhaseResolve    = "resolve"
	PhaseConnect    = "connect"
	PhaseTLS        = "tls"
	PhaseProcessing = "processing"
	PhaseTransfer   = "transfer"
)

// Phases lists the phases in the order they happen.
var phaseOrder = [...]string{PhaseResolve, PhaseConnect, PhaseTLS, PhaseProcessing, PhaseTransfer}

// idGen makes run IDs that sort by time and stay strictly increasing within
// one process, even for runs in the same millisecond.
type idGen struct {
	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// next returns a 26-character Crockford base32 ID for t.
func (g *idGen) next(t time.Time) string {
	ms := uint64(t.UnixMilli())
	g.mu.Lock()
	var r [10]byte
	if ms <= g.lastMS {
		ms = g.lastMS
		r = g.lastRand
		for i := len(r) - 1; i >= 0; i-- { // increment, carrying
			r[i]++
			if r[i] != 0 {
				break
			}
		}
	} else {
		_, _ = rand.Read(r[:])
	}
	g.lastMS, g.lastRand = ms, r
	g.mu.Unlock()

	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	copy(b[6:], r[:])
	// 128 bits as 26 base32 digits, the first carrying the top 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
