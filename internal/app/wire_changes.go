package app

import (
	"context"
	"time"

	"github.com/sentinel-oss/sentinel/changes"
	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/incidents"
	"github.com/sentinel-oss/sentinel/store"
	"github.com/sentinel-oss/sentinel/web"
)

// wireChanges builds the change markers on the store, prunes them hourly,
// mounts their API, and lets incidents (and through them pagers and
// postmortems) list the changes before each incident. It has no config
// section: retention is changes.Retention.
func (c *components) wireChanges(*config.Config) config.Problems {
	svc := changes.NewService(store.NewChanges(c.deps.engine), c.deps.log, c.deps.now)
	c.changes = svc
	c.runners = append(c.runners, runner{name: "changes", run: svc.Run})
	c.mounts = append(c.mounts, func(r *web.Routes) { web.MountChanges(r, svc) })
	if c.incidents != nil {
		c.incidents.SetChangeSource(changesBefore{svc})
	}
	return nil
}

// changesBefore adapts the change markers to incidents.ChangeSource.
type changesBefore struct{ svc *changes.Service }

func (a changesBefore) ChangesBefore(ctx context.Context, services []string, start time.Time) ([]incidents.RecentChange, error) {
	cs, err := a.svc.Before(ctx, services, start)
	if err != nil {
		return nil, err
	}
	out := make([]incidents.RecentChange, 0, len(cs))
	for _, ch := range cs {
		out = append(out, incidents.RecentChange{ID: ch.ID, Service: ch.Service, Title: ch.Title, Kind: string(ch.Kind),
			URL: ch.URL, At: ch.At, Words: ch.Words(start)})
	}
	return out, nil
}
