package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/sentinel-oss/sentinel/internal/jsonerr"
	"github.com/sentinel-oss/sentinel/model"
)

// Webhook is an Alertmanager webhook delivery, payload version 4: the
// same shape as Alertmanager's notify/webhook.Message, whose body is the
// template package's Data. (notify/webhook itself is not imported: it
// pulls Alertmanager's whole notification stack, gRPC included, into the
// domain; Message is these three fields on template.Data.)
type Webhook struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// WebhookAlert is one alert of a delivery (Alertmanager's template.Alert).
type WebhookAlert = template.Alert

// Limits on one delivery, besides the body size the caller enforces.
const (
	maxGroupKeyLen    = 4096
	maxLabelsPerAlert = 128
	maxLabelValueLen  = 16 << 10
)

// DecodeWebhook reads one delivery of at most maxAlerts alerts from r
// (which the caller has already limited in size); label names must be
// valid in p's syntax. Unknown fields are allowed, since Alertmanager adds
// fields over versions; the known ones must have the right types and
// values. Every error wraps ErrInvalid and says what is wrong and where.
func DecodeWebhook(r io.Reader, maxAlerts int, p MatcherParser) (Webhook, error) {
	// Read whole (the caller bounds it), so a failed decode can be traced
	// to the alert and field at fault.
	data, err := io.ReadAll(r)
	if err != nil {
		return Webhook{}, err
	}
	w := Webhook{Data: &template.Data{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return Webhook{}, describeDecodeError(data, err)
	}
	if dec.More() {
		return Webhook{}, invalidf("the body must hold one JSON object; more follows at byte %d", dec.InputOffset())
	}
	if err := w.validate(maxAlerts, p.ready().validName); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

func describeDecodeError(data []byte, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return invalidf("the request body is empty; expected an Alertmanager webhook payload (version 4)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return invalidf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	}
	if msg, ok := jsonerr.LocateEach(data, "alerts", true, func() any { return new(WebhookAlert) }); ok {
		return invalidf("%s", msg)
	}
	switch {
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "Data.")
		if field == "" {
			field = "the body"
		}
		return invalidf("field %q: expected %s, got JSON %s (byte %d)", field, jsonerr.Kind(typ.Type), typ.Value, typ.Offset)
	}
	return invalidf("invalid webhook payload: %v", err)
}

func (w *Webhook) validate(maxAlerts int, validName func(string) bool) error {
	if w.Data == nil {
		w.Data = &template.Data{}
	}
	if w.Version != "4" {
		return invalidf("version: %q is not supported (want \"4\", Alertmanager's webhook payload version)", w.Version)
	}
	if w.GroupKey == "" {
		return invalidf("groupKey: required")
	}
	if len(w.GroupKey) > maxGroupKeyLen {
		return invalidf("groupKey: longer than %d bytes", maxGroupKeyLen)
	}
	if w.Status != "firing" && w.Status != "resolved" {
		return invalidf("status: %q (want firing or resolved)", w.Status)
	}
	if len(w.Alerts) > maxAlerts {
		return invalidf("alerts: %d alerts in one delivery, the limit is %d (set max_alerts in Alertmanager's webhook_configs)", len(w.Alerts), maxAlerts)
	}
	for i := range w.Alerts {
		a := &w.Alerts[i]
		if a.Status != "firing" && a.Status != "resolved" {
			return invalidf("alerts[%d].status: %q (want firing or resolved)", i, a.Status)
		}
		if err := checkAlertLabels(fmt.Sprintf("alerts[%d].labels", i), model.Labels(a.Labels), validName); err != nil {
			return err
		}
		if len(a.Fingerprint) > 64 {
			return invalidf("alerts[%d].fingerprint: longer than 64 bytes", i)
		}
		if a.Fingerprint == "" {
			a.Fingerprint = Fingerprint(model.Labels(a.Labels))
		}
	}
	return nil
}

// checkAlertLabels bounds an outside alert's labels and checks their names.
func checkAlertLabels(path string, l model.Labels, validName func(string) bool) error {
	if len(l) == 0 {
		return invalidf("%s: an alert needs labels", path)
	}
	if len(l) > maxLabelsPerAlert {
		return invalidf("%s: more than %d labels", path, maxLabelsPerAlert)
	}
	for k, v := range l {
		if !validName(k) {
			return invalidf("%s: invalid label name %q", path, truncate(k, 64))
		}
		if len(v) > maxLabelValueLen {
			return invalidf("%s.%s: value longer than %d bytes", path, truncate(k, 64), maxLabelValueLen)
		}
		if !utf8.ValidString(v) {
			return invalidf("%s.%s: value is not valid UTF-8", path, truncate(k, 64))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// EncodeWebhook returns w as Alertmanager would send it (for tests and
// tools that replay deliveries).
func EncodeWebhook(w Webhook) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(w); err != nil {
		return nil, fmt.Errorf("encode webhook: %w", err)
	}
	return b.Bytes(), nil
}

// NewWebhook starts a delivery of one group (tests and tools that replay
// deliveries); append alerts to its Alerts.
func NewWebhook(groupKey, status string, groupLabels map[string]string) Webhook {
	return Webhook{Version: "4", GroupKey: groupKey, Data: &template.Data{Status: status, GroupLabels: groupLabels}}
}
