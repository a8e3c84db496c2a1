package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/incidents/oncall"
)

// deliveryError turns a slack-go error into what the outbox understands:
// a 429 becomes incidents.RetryAfter with Slack's Retry-After; answers
// that retrying cannot change (a bad token, a missing channel, a refused
// payload) wrap incidents.ErrPermanent; anything else is retried with
// backoff.
func deliveryError(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return incidents.RetryAfter(rl.RetryAfter, fmt.Errorf("slack %s: %w", op, err))
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code == 429 || sc.Code == 408 || sc.Code >= 500 {
			return fmt.Errorf("slack %s: %w", op, err)
		}
		return fmt.Errorf("%w: slack %s: %v", incidents.ErrPermanent, op, err)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if permanentCodes[se.Err] {
			return fmt.Errorf("%w: slack %s: %s", incidents.ErrPermanent, op, se.Err)
		}
		return fmt.Errorf("slack %s: %w", op, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("slack %s: %w", op, err)
	}
	return fmt.Errorf("slack %s: %w", op, err)
}

// permanentCodes are Slack error codes that the same request will meet
// again: configuration and payload mistakes.
var permanentCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "restricted_action": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true, "no_text": true,
	"too_many_attachments": true, "invalid_metadata_format": true, "invalid_metadata_schema": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"users_not_found": true, "user_not_found": true, "user_not_visible": true,
}

// slackCode is the Slack error code of err, or "".
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// pacer spaces messages to one channel at least gap apart, as Slack asks
// (about one message per second per channel). Reservations are made under
// the lock and waited for outside it.
type pacer struct {
	gap  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	next map[string]time.Time
}

func newPacer(gap time.Duration, now func() time.Time) *pacer {
	return &pacer{gap: gap, now: now, next: map[string]time.Time{}}
}

// wait blocks until a message may go to channel, or ctx ends; it returns
// how long it waited.
func (p *pacer) wait(ctx context.Context, channel string) (time.Duration, error) {
	if p.gap <= 0 {
		return 0, nil
	}
	p.mu.Lock()
	now := p.now()
	at := p.next[channel]
	if at.Before(now) {
		at = now
	}
	p.next[channel] = at.Add(p.gap)
	if len(p.next) > 10000 { // forget channels idle for long
		for k, v := range p.next {
			if v.Before(now) {
				delete(p.next, k)
			}
		}
	}
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return d, ctx.Err()
	case <-t.C:
		return d, nil
	}
}

// directory maps people to Slack member IDs and back: the slack_id from
// people: first, else users.lookupByEmail once per address (answers are
// cached; misses for an hour so a person added to Slack later is found).
type directory struct {
	people *oncall.Directory
	api    *slack.Client
	now    func() time.Time

	mu      sync.Mutex
	byEmail map[string]lookup // lowercased email -> result
	names   map[string]string // Slack ID -> person name (learned)
}

type lookup struct {
	id string
	at time.Time
}

const missTTL = time.Hour

func newDirectory(people *oncall.Directory, api *slack.Client, now func() time.Time) *directory {
	if people == nil {
		people = oncall.NewDirectory(nil)
	}
	return &directory{people: people, api: api, now: now, byEmail: map[string]lookup{}, names: map[string]string{}}
}

// slackID returns p's Slack member ID, or "" when none is known.
func (d *directory) slackID(ctx context.Context, p oncall.Person) (string, error) {
	if p.SlackID != "" {
		return p.SlackID, nil
	}
	if p.Email == "" {
		return "", nil
	}
	key := strings.ToLower(p.Email)
	d.mu.Lock()
	l, ok := d.byEmail[key]
	d.mu.Unlock()
	if ok && (l.id != "" || d.now().Sub(l.at) < missTTL) {
		return l.id, nil
	}
	u, err := d.api.GetUserByEmailContext(ctx, p.Email)
	switch code := slackCode(err); {
	case err == nil:
		d.mu.Lock()
		d.byEmail[key] = lookup{id: u.ID, at: d.now()}
		d.names[u.ID] = p.Name
		d.mu.Unlock()
		return u.ID, nil
	case code == "users_not_found" || code == "user_not_found":
		d.mu.Lock()
		d.byEmail[key] = lookup{at: d.now()}
		d.mu.Unlock()
		return "", nil
	default:
		return "", deliveryError("users.lookupByEmail", err)
	}
}

// person maps a Slack user to a person: by slack_id, by an ID learned
// from an email lookup, else by the user's email (users.info).
func (d *directory) person(ctx context.Context, slackID string) (oncall.Person, bool) {
	if p, ok := d.people.BySlackID(slackID); ok {
		return p, true
	}
	d.mu.Lock()
	name, ok := d.names[slackID]
	d.mu.Unlock()
	if ok {
		if name == "" {
			return oncall.Person{}, false
		}
		return d.people.Resolve(name)
	}
	if d.api == nil || len(d.people.People()) == 0 {
		return oncall.Person{}, false
	}
	u, err := d.api.GetUserInfoContext(ctx, slackID)
	if err != nil {
		return oncall.Person{}, false // not cached: a later click may succeed
	}
	p, ok := d.people.ByEmail(u.Profile.Email)
	d.mu.Lock()
	if len(d.names) < 10000 {
		d.names[slackID] = p.Name // "" remembers a stranger
	}
	d.mu.Unlock()
	return p, ok
}
