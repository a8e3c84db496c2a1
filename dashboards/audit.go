package dashboards

import (
	"io"

	"github.com/sentinel-oss/sentinel/audit"
)

// AuditView is the audit page: the filters as typed (the same as
// GET /api/v1/audit), the entries newest first, and the ID to page on.
type AuditView struct {
	Actor, Channel, Action, From, To string
	Limit                            string
	Entries                          []audit.Entry
	// Next is the before= of the next (older) page; 0 when there is none.
	Next int64
	// Problem says which filter could not be read.
	Problem string
}

// Audit renders the audit page (admins only; web checks the role).
func (d *Dashboards) Audit(w io.Writer, v Viewer, a AuditView) error {
	return d.render(w, "audit", page{Title: "Audit log", Nav: "audit", Viewer: v, Data: a})
}
