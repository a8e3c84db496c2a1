package app

import (
	"fmt"
	"io"
	"os"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/slo"
)

// ErrSLOImport marks a file that was read but could not be converted (the
// command then exits 1); the error's text lists every reason.
var ErrSLOImport = fmt.Errorf("cannot convert")

// SLORules writes the Prometheus rule groups of every SLO in cfg to w, for
// `sentinel slo rules`. An invalid slos: section comes back as
// config.Problems with positions.
func SLORules(cfg *config.Config, w io.Writer) error {
	specs, ps := slo.Compile(cfg.SLOs, slo.ProbeRefs(cfg.Probes))
	if len(ps) > 0 {
		return cfg.Locate(ps)
	}
	out, err := slo.RulesYAML(specs)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// SLOImport converts the OpenSLO or Sloth prometheus/v1 file at path into
// a slos: section written to w, for `sentinel slo import`, and writes a
// line to warn for everything converted with a change or left out. An
// unreadable file is a plain error; content that cannot be converted wraps
// ErrSLOImport.
func SLOImport(path string, w, warn io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, slo.MaxImportBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > slo.MaxImportBytes {
		return fmt.Errorf("read %s: larger than %d bytes", path, slo.MaxImportBytes)
	}
	out, warnings, err := slo.ImportYAML(data)
	if err != nil {
		return fmt.Errorf("%w %s:\n%w", ErrSLOImport, path, err)
	}
	for _, wn := range warnings {
		fmt.Fprintf(warn, "warning: %s: %s\n", path, wn)
	}
	_, err = w.Write(out)
	return err
}
