package rum

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// BeaconVersion is the beacon schema version this collector understands.
const BeaconVersion = 1

// Limits of the beacon schema (docs/rum-beacon.md).
const (
	MaxEvents     = 200
	MaxURLBytes   = 4096
	MaxMessageLen = 2048
	MaxStackLen   = 16384
	MaxTargetLen  = 256
	MaxSessionLen = 64
	MinSessionLen = 8
	MaxErrorCount = 10000
	MaxViewErrors = 10000
	MinSampleRate = 0.0001
	maxSiteLen    = 64
	// MaxTimingSeconds bounds LCP, INP, FCP and TTFB: above it a value is
	// almost surely milliseconds (web-vitals reports those) sent as
	// seconds, and counting 2,500 s as an LCP would spend an SLO's budget.
	MaxTimingSeconds = 60
	maxCLS           = 100
)

// Beacon is one batch of events from one page, as POSTed to
// /rum/v1/beacons.
type Beacon struct {
	V          int     `json:"v"`
	Site       string  `json:"site"`
	Session    string  `json:"session"`
	SampleRate float64 `json:"sample_rate"`
	Device     string  `json:"device"`
	Events     []Event `json:"events"`
}

// Event is one page view, web vital measurement or JS error. Which fields
// may be set depends on Type.
type Event struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	// page_view
	Nav    string `json:"nav"`
	Errors int    `json:"errors"`
	// vital
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	// error
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
	Count   int    `json:"count"`
}

// Event types.
const (
	EventPageView = "page_view"
	EventVital    = "vital"
	EventError    = "error"
)

// BeaconError is a beacon refused for its content; the message names the
// field (events[3].value) and what is wrong with it.
type BeaconError struct{ Msg string }

func (e *BeaconError) Error() string { return e.Msg }

func bad(format string, args ...any) error {
	return &BeaconError{Msg: fmt.Sprintf(format, args...)}
}

// DecodeBeacon strictly decodes and validates one beacon body: unknown
// fields, wrong types, trailing data, values out of range and fields that do
// not belong to an event's type are all refused with a *BeaconError naming
// them. Defaults are filled in (sample_rate 1, nav load, kind error, count 1).
func DecodeBeacon(body []byte) (*Beacon, error) {
	b := &Beacon{}
	if err := decodeBeaconInto(body, b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeBeaconInto is DecodeBeacon into b, reusing b.Events' storage.
func decodeBeaconInto(body []byte, b *Beacon) error {
	// Fast path: one pass of our own parser. Only when it gives up is the
	// body decoded again by encoding/json, event by event, to name where.
	if parseBeacon(body, b) && b.V == BeaconVersion {
		if err := b.validateTop(len(b.Events)); err != nil {
			return err
		}
		for i := range b.Events {
			if err := b.Events[i].validate(); err != nil {
				return bad("events[%d].%s", i, err)
			}
		}
		return nil
	}
	slow, err := decodeSlow(body)
	if err != nil {
		return err
	}
	*b = *slow
	return nil
}

// decodeSlow decodes event by event so errors can name the event.
func decodeSlow(body []byte) (*Beacon, error) {
	var raw struct {
		V          *int              `json:"v"`
		Site       string            `json:"site"`
		Session    string            `json:"session"`
		SampleRate *float64          `json:"sample_rate"`
		Device     string            `json:"device"`
		Events     []json.RawMessage `json:"events"`
	}
	if err := strictUnmarshal(body, &raw); err != nil {
		return nil, bad("beacon: %s", err)
	}
	if raw.V == nil {
		return nil, bad("v: missing schema version (want %d)", BeaconVersion)
	}
	if *raw.V != BeaconVersion {
		return nil, bad("v: unsupported schema version %d (want %d)", *raw.V, BeaconVersion)
	}
	b := &Beacon{V: *raw.V, Site: raw.Site, Session: raw.Session, SampleRate: 1, Device: raw.Device}
	if raw.SampleRate != nil {
		b.SampleRate = *raw.SampleRate
	}
	if err := b.validateTop(len(raw.Events)); err != nil {
		return nil, err
	}
	b.Events = make([]Event, len(raw.Events))
	for i, r := range raw.Events {
		e := &b.Events[i]
		if err := strictUnmarshal(r, e); err != nil {
			return nil, bad("events[%d]: %s", i, err)
		}
		if err := e.validate(); err != nil {
			return nil, bad("events[%d].%s", i, err)
		}
	}
	return b, nil
}

// validateTop checks the beacon's own fields and the number of events.
func (b *Beacon) validateTop(n int) error {
	if len(b.Site) > maxSiteLen {
		return bad("site: longer than %d bytes", maxSiteLen)
	}
	if n := len(b.Session); n < MinSessionLen || n > MaxSessionLen || !isIDChars(b.Session) {
		return bad("session: must be %d to %d characters of letters, digits, '-' and '_'", MinSessionLen, MaxSessionLen)
	}
	if !(b.SampleRate >= MinSampleRate && b.SampleRate <= 1) {
		return bad("sample_rate: must be between %g and 1, got %g", MinSampleRate, b.SampleRate)
	}
	switch b.Device {
	case "", DeviceMobile, DeviceTablet, DeviceDesktop:
	default:
		return bad("device: unknown device %q (want mobile, tablet or desktop)", b.Device)
	}
	if n == 0 {
		return bad("events: missing or empty")
	}
	if n > MaxEvents {
		return bad("events: %d events, at most %d per beacon", n, MaxEvents)
	}
	return nil
}

func (e *Event) validate() error {
	if len(e.URL) > MaxURLBytes {
		return fmt.Errorf("url: longer than %d bytes", MaxURLBytes)
	}
	if e.URL != "" && !strings.HasPrefix(e.URL, "/") && !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
		return fmt.Errorf("url: must be an http(s) URL or a path starting with '/'")
	}
	var foreign string
	switch e.Type {
	case EventPageView:
		foreign = e.foreignField(fieldNav | fieldErrors)
		switch e.Nav {
		case "":
			e.Nav = "load"
		case "load", "route", "bfcache":
		default:
			return fmt.Errorf("nav: unknown navigation %q (want load, route or bfcache)", e.Nav)
		}
		if e.Errors < 0 || e.Errors > MaxViewErrors {
			return fmt.Errorf("errors: must be between 0 and %d", MaxViewErrors)
		}
	case EventVital:
		foreign = e.foreignField(fieldName | fieldValue | fieldTarget)
		if vitalIndex(e.Name) < 0 {
			return fmt.Errorf("name: unknown vital %q (want lcp, inp, cls, fcp or ttfb)", e.Name)
		}
		if e.Name == "cls" {
			if !(e.Value >= 0 && e.Value <= maxCLS) {
				return fmt.Errorf("value: cls must be between 0 and %d, got %g", maxCLS, e.Value)
			}
		} else {
			if !(e.Value >= 0) {
				return fmt.Errorf("value: %s must be 0 or more seconds, got %g", e.Name, e.Value)
			}
			if e.Value > MaxTimingSeconds {
				return fmt.Errorf("value: %s of %g looks like milliseconds; beacons carry seconds (at most %d)", e.Name, e.Value, MaxTimingSeconds)
			}
		}
		if e.Target != "" && e.Name != "lcp" {
			return fmt.Errorf("target: only lcp has a target")
		}
		if len(e.Target) > MaxTargetLen {
			return fmt.Errorf("target: longer than %d bytes", MaxTargetLen)
		}
	case EventError:
		foreign = e.foreignField(fieldKind | fieldMessage | fieldStack | fieldCount)
		switch e.Kind {
		case "":
			e.Kind = "error"
		case "error", "rejection":
		default:
			return fmt.Errorf("kind: unknown error kind %q (want error or rejection)", e.Kind)
		}
		if len(e.Message) > MaxMessageLen {
			return fmt.Errorf("message: longer than %d bytes", MaxMessageLen)
		}
		if len(e.Stack) > MaxStackLen {
			return fmt.Errorf("stack: longer than %d bytes", MaxStackLen)
		}
		if e.Count == 0 {
			e.Count = 1
		}
		if e.Count < 1 || e.Count > MaxErrorCount {
			return fmt.Errorf("count: must be between 1 and %d", MaxErrorCount)
		}
	case "":
		return fmt.Errorf("type: missing (want page_view, vital or error)")
	default:
		return fmt.Errorf("type: unknown event type %q (want page_view, vital or error)", e.Type)
	}
	if foreign != "" {
		return fmt.Errorf("%s: not a field of a %s event", foreign, e.Type)
	}
	return nil
}

// The type-specific fields of events, in the order problems are named.
const (
	fieldNav = 1 << iota
	fieldErrors
	fieldName
	fieldValue
	fieldTarget
	fieldKind
	fieldMessage
	fieldStack
	fieldCount
)

var eventFieldNames = [...]string{"nav", "errors", "name", "value", "target", "kind", "message", "stack", "count"}

// foreignField returns the first type-specific field that is set but not
// among own, or "".
func (e *Event) foreignField(own int) string {
	set := [len(eventFieldNames)]bool{e.Nav != "", e.Errors != 0, e.Name != "", e.Value != 0, e.Target != "",
		e.Kind != "", e.Message != "", e.Stack != "", e.Count != 0}
	for i, s := range set {
		if s && own&(1<<i) == 0 {
			return eventFieldNames[i]
		}
	}
	return ""
}

func isIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// strictUnmarshal decodes one JSON value refusing unknown fields and
// trailing data, and turns encoding/json's errors into short messages.
func strictUnmarshal(data []byte, v any) error {
	if !utf8.Valid(data) {
		return errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated JSON")
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("expected a JSON object, got %s", typ.Value)
		}
		return fmt.Errorf("%s: expected %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Errorf("unknown field %s", f)
	}
	return errors.New(msg)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return k
}
