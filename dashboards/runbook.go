package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"

	"github.com/sentinel-oss/sentinel/runbooks"
)

type runbookData struct {
	RB     runbooks.Runbook
	Labels []labelPair
	HTML   template.HTML
}

// Runbook renders one runbook: its owners, what it applies to, its
// diagnostics, and its Markdown as HTML. The HTML comes from the runbook
// renderer, which drops raw HTML and dangerous links, so a runbook file
// cannot put script or markup of its own into the page.
func (d *Dashboards) Runbook(_ context.Context, w io.Writer, v Viewer, name string) error {
	if d.opts.Runbooks == nil {
		return fmt.Errorf("runbook %.100q: no runbook directory is configured: %w", name, ErrNotFound)
	}
	rb, err := d.opts.Runbooks.Get(name)
	if err != nil {
		if errors.Is(err, runbooks.ErrNotFound) {
			return fmt.Errorf("no runbook named %.100q: %w", name, ErrNotFound)
		}
		return err
	}
	html, err := d.md.HTML(rb)
	if err != nil {
		return err
	}
	data := runbookData{RB: rb, HTML: template.HTML(html)} //nolint:gosec // goldmark without raw HTML or unsafe links
	keys := make([]string, 0, len(rb.Labels))
	for k := range rb.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		data.Labels = append(data.Labels, labelPair{k, rb.Labels[k]})
	}
	title := rb.Title
	if title == "" {
		title = rb.Name
	}
	return d.render(w, "runbook", page{Title: title, Nav: "runbooks", Viewer: v, Data: data})
}
