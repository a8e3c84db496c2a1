package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/dashboards"
	"github.com/sentinel-oss/sentinel/slo"
)

// DashboardsExport writes the Grafana boards for cfg's SLOs, probes and RUM
// into dir (created if missing), one JSON file per board, and names each
// file written on w, for `sentinel dashboards export`. An invalid slos:
// section comes back as config.Problems with positions.
func DashboardsExport(cfg *config.Config, dir string, w io.Writer) error {
	specs, ps := slo.Compile(cfg.SLOs, slo.ProbeRefs(cfg.Probes))
	if len(ps) > 0 {
		return cfg.Locate(ps)
	}
	boards, err := dashboards.GrafanaBoards(specs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, b := range boards {
		path := filepath.Join(dir, b.File)
		if err := os.WriteFile(path, b.JSON, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintln(w, path)
	}
	return nil
}
