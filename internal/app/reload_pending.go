package app

import (
	"context"
	"reflect"
	"strings"
)

// pendingSections are the sections whose components do not take a new
// config yet: a reload checks them but they keep their running values
// until a restart, and a reload that changes one says so in the log.
// Each entry goes away when its wire_*.go registers a reload step.
var pendingSections = []string{"RUM", "SLOs", "People", "Incidents", "Oncall", "Alerting", "Runbooks", "Slack", "Postmortems", "UI", "Dashboards"}

// wirePending registers the step that logs changes to pendingSections.
func (c *components) wirePending() {
	c.onReload("pending", func(_ context.Context, p *reloadPlan) (func(), error) {
		old := reflect.ValueOf(*p.running)
		next := reflect.ValueOf(*p.next)
		var changed []string
		for _, name := range pendingSections {
			f, _ := old.Type().FieldByName(name)
			if !reflect.DeepEqual(old.FieldByIndex(f.Index).Interface(), next.FieldByIndex(f.Index).Interface()) {
				tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				changed = append(changed, tag)
			}
		}
		return func() {
			for _, key := range changed {
				c.deps.log.Warn("config change needs a restart to take effect", "key", key)
			}
		}, nil
	})
}
