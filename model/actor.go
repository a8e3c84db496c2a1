package model

import "context"

// Actor is who does something to Sentinel: a person (by the name under
// people:), an API token (by its name) or Sentinel itself, with the role
// that allowed it and the channel it came through. Adapters put the
// actor of a request on its context (ContextWithActor); anything that
// records who did what (timelines, the audit log) reads it from there.
type Actor struct {
	// Name is the person's or token's name; "" for nobody known.
	Name string `json:"name"`
	// Role is viewer, responder, admin or ingest.
	Role string `json:"role,omitempty"`
	// Channel is how the action arrived: api, ui, slack or config.
	Channel string `json:"channel"`
	// Person is true when Name is a person under people: rather than a
	// token's name.
	Person bool `json:"person,omitempty"`
}

// Channels an action arrives through.
const (
	ChannelAPI    = "api"
	ChannelUI     = "ui"
	ChannelSlack  = "slack"
	ChannelConfig = "config"
)

type actorKey struct{}

// ContextWithActor returns ctx carrying a.
func ContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries; false when none does.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
