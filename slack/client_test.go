package slack

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
)

func TestPacerSpacesMessagesPerChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(time.Second, time.Now)
		ctx := context.Background()
		start := time.Now()
		for i := range 3 {
			if _, err := p.wait(ctx, "C1"); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != time.Duration(i)*time.Second {
				t.Fatalf("message %d to C1 went at %s", i, got)
			}
		}
		if w, _ := p.wait(ctx, "C2"); w != 0 {
			t.Fatalf("another channel waited %s", w)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := p.wait(cctx, "C1"); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled wait: %v", err)
		}
	})
}

func TestDeliveryError(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		after     time.Duration
		permanent bool
	}{
		{"429", &slack.RateLimitedError{RetryAfter: 7 * time.Second}, 7 * time.Second, false},
		{"500", slack.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}, 0, false},
		{"403", slack.StatusCodeError{Code: 403, Status: "403 Forbidden"}, 0, true},
		{"bad token", slack.SlackErrorResponse{Err: "invalid_auth"}, 0, true},
		{"no channel", slack.SlackErrorResponse{Err: "channel_not_found"}, 0, true},
		{"internal", slack.SlackErrorResponse{Err: "internal_error"}, 0, false},
		{"timeout", context.DeadlineExceeded, 0, false},
	}
	for _, tc := range cases {
		err := deliveryError("chat.postMessage", tc.err)
		var ra *incidents.RetryAfterError
		if got := errors.As(err, &ra); got != (tc.after > 0) || (got && ra.After != tc.after) {
			t.Errorf("%s: %v: retry-after %v", tc.name, err, ra)
		}
		if errors.Is(err, incidents.ErrPermanent) != tc.permanent {
			t.Errorf("%s: %v: permanent %v, want %v", tc.name, err, !tc.permanent, tc.permanent)
		}
	}
}
