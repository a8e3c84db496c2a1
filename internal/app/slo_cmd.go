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
	names := make([]string, 0, len(cfg.Probes))
	for _, p := range cfg.Probes {
		names = append(names, p.Name)
	}
	specs, ps := slo.Compile(cfg.SLOs, names)
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

// SLOImport converts the OpenSLO v1 or Sloth prometheus/v1 file at path
// into a slos: section written to w, for `sentinel slo import`. An
// unreadable file is a plain error; content that cannot be converted wraps
// ErrSLOImport.
func SLOImport(path string, w io.Writer) error {
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
	out, err := slo.ImportYAML(data)
	if err != nil {
		return fmt.Errorf("%w %s:\n%w", ErrSLOImport, path, err)
	}
	_, err = w.Write(out)
	return err
}
