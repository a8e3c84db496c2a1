// Package oncall answers who is on call: people, schedules with rotations
// and layers computed in each schedule's own time zone (so hand-offs stay at
// the same wall-clock time across daylight saving changes), overrides, and
// the escalation policies and routes that decide whom an incident pages.
//
// Everything here is pure: functions take the time they answer for, and the
// caller supplies the overrides it stores.
package oncall

import (
	"net/mail"
	"strings"

	"github.com/sentinel-oss/sentinel/config"
)

// Person is someone who can be paged, and who acts through Slack or a
// dashboard sign-in with Role.
type Person struct {
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	SlackID string `json:"slack_id,omitempty"`
	// OIDCSubject is the person's subject at the sign-on provider.
	OIDCSubject string      `json:"-"`
	Role        config.Role `json:"role,omitempty"`
}

// Directory resolves the names used in schedules, policies and overrides to
// people. It is read-only after NewDirectory and safe for concurrent use.
type Directory struct {
	byName  map[string]Person
	byEmail map[string]Person
	bySlack map[string]Person
	order   []string
}

// NewDirectory indexes the people: section.
func NewDirectory(people []config.Person) *Directory {
	d := &Directory{byName: map[string]Person{}, byEmail: map[string]Person{}, bySlack: map[string]Person{}}
	for _, p := range people {
		if _, dup := d.byName[p.Name]; dup || p.Name == "" {
			continue
		}
		role := p.Role
		if role == "" {
			role = config.RoleViewer
		}
		person := Person{Name: p.Name, Email: p.Email, SlackID: p.SlackID, OIDCSubject: p.OIDCSubject, Role: role}
		d.byName[p.Name] = person
		d.order = append(d.order, p.Name)
		if p.Email != "" {
			d.byEmail[strings.ToLower(p.Email)] = person
		}
		if p.SlackID != "" {
			d.bySlack[p.SlackID] = person
		}
	}
	return d
}

// withDefaultRoles returns a copy of d in which the people named in
// onDuty, and given no role of their own, are responders: a person on a
// schedule or an escalation policy answers pages.
func (d *Directory) withDefaultRoles(people []config.Person, onDuty map[string]bool) *Directory {
	explicit := map[string]bool{}
	for _, p := range people {
		if p.Role != "" {
			explicit[p.Name] = true
		}
	}
	out := &Directory{byName: map[string]Person{}, byEmail: map[string]Person{}, bySlack: map[string]Person{}, order: d.order}
	for _, n := range d.order {
		p := d.byName[n]
		if !explicit[n] && onDuty[n] {
			p.Role = config.RoleResponder
		}
		out.byName[n] = p
		if p.Email != "" {
			out.byEmail[strings.ToLower(p.Email)] = p
		}
		if p.SlackID != "" {
			out.bySlack[p.SlackID] = p
		}
	}
	return out
}

// Resolve returns the person a reference names: a person's name, or an
// email-looking string that is not a name, which is accepted as a person
// with that address (or the person who has it).
func (d *Directory) Resolve(ref string) (Person, bool) {
	if p, ok := d.byName[ref]; ok {
		return p, true
	}
	if !looksLikeEmail(ref) {
		return Person{}, false
	}
	if p, ok := d.byEmail[strings.ToLower(ref)]; ok {
		return p, true
	}
	return Person{Name: ref, Email: ref}, true
}

// BySlackID returns the person with a Slack member ID, for Slack clicks.
func (d *Directory) BySlackID(id string) (Person, bool) {
	p, ok := d.bySlack[id]
	return p, ok
}

// ByEmail returns the person with an email address (case-insensitive).
func (d *Directory) ByEmail(email string) (Person, bool) {
	p, ok := d.byEmail[strings.ToLower(email)]
	return p, ok
}

// Known returns the configured person a reference names: their name,
// email address or Slack member ID. Unlike Resolve it never makes up a
// person from an address, for roles only people of people: may hold.
func (d *Directory) Known(ref string) (Person, bool) {
	if p, ok := d.byName[ref]; ok {
		return p, true
	}
	if p, ok := d.byEmail[strings.ToLower(ref)]; ok {
		return p, true
	}
	p, ok := d.bySlack[ref]
	return p, ok
}

// People lists everyone in the order configured.
func (d *Directory) People() []Person {
	out := make([]Person, 0, len(d.order))
	for _, n := range d.order {
		out = append(out, d.byName[n])
	}
	return out
}

// looksLikeEmail accepts a bare addr-spec with a dot in the domain.
func looksLikeEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}
