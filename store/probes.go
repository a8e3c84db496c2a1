package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-oss/sentinel/probes"
)

// Buckets of probe runs: runs by (probe, run ID), and an index by (start
// time, probe, run ID) so pruning reads only what it deletes.
const (
	bucketProbeRuns        = "probe_runs"
	bucketProbeByTime      = "probe_runs_by_time"
	bucketProbeScreenshots = "probe_screenshots"
	probeRunVersion        = 1
	probeScreenshotVersion = 1
)

// ProbeResults implements probes.ResultStore on an Engine.
type ProbeResults struct{ e Engine }

var (
	_ probes.ResultStore     = (*ProbeResults)(nil)
	_ probes.ScreenshotStore = (*ProbeResults)(nil)
)

// NewProbeResults returns the probe run store over e.
func NewProbeResults(e Engine) *ProbeResults { return &ProbeResults{e: e} }

// SaveRun stores r, replacing a run with the same probe and ID.
func (s *ProbeResults) SaveRun(ctx context.Context, r probes.Result) error {
	val, err := EncodeJSON(probeRunVersion, r)
	if err != nil {
		return fmt.Errorf("encode probe run %s/%s: %w", r.Probe, r.ID, err)
	}
	return Batch(ctx, s.e, func(tx Tx) error {
		runs, err := tx.Bucket(bucketProbeRuns)
		if err != nil {
			return err
		}
		byTime, err := tx.Bucket(bucketProbeByTime)
		if err != nil {
			return err
		}
		key := Key{}.String(r.Probe).String(r.ID)
		if old, err := runs.Get(key); err != nil {
			return err
		} else if old != nil {
			var prev probes.Result
			if _, err := DecodeJSON(old, probeRunVersion, &prev); err == nil {
				if err := byTime.Delete(Key{}.Time(prev.At).String(prev.Probe).String(prev.ID)); err != nil {
					return err
				}
			}
		}
		if err := runs.Put(key, val); err != nil {
			return err
		}
		return byTime.Put(Key{}.Time(r.At).String(r.Probe).String(r.ID), []byte{})
	})
}

// Runs returns up to limit runs of probe, newest first, with IDs below before.
func (s *ProbeResults) Runs(ctx context.Context, probe, before string, limit int) ([]probes.Result, error) {
	if limit <= 0 {
		return nil, nil
	}
	prefix := Key{}.String(probe)
	to := PrefixEnd(prefix)
	if before != "" {
		to = Key{}.String(probe).String(before)
	}
	var out []probes.Result
	err := s.e.View(ctx, func(tx Tx) error {
		runs, err := tx.Bucket(bucketProbeRuns)
		if err != nil {
			return err
		}
		return runs.Scan(prefix, to, true, func(_, v []byte) (bool, error) {
			var r probes.Result
			if _, err := DecodeJSON(v, probeRunVersion, &r); err != nil {
				return false, fmt.Errorf("decode probe run of %s: %w", probe, err)
			}
			out = append(out, r)
			return len(out) < limit, nil
		})
	})
	return out, err
}

// Prune deletes every run that started before olderThan, in chunks so no
// single transaction grows large.
func (s *ProbeResults) Prune(ctx context.Context, olderThan time.Time) error {
	const chunk = 5000
	end := Key{}.Time(olderThan)
	for {
		n := 0
		err := s.e.Update(ctx, func(tx Tx) error {
			runs, err := tx.Bucket(bucketProbeRuns)
			if err != nil {
				return err
			}
			byTime, err := tx.Bucket(bucketProbeByTime)
			if err != nil {
				return err
			}
			var keys [][]byte
			if err := byTime.Scan(nil, end, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, append([]byte(nil), k...))
				return len(keys) < chunk, nil
			}); err != nil {
				return err
			}
			shots, err := tx.Bucket(bucketProbeScreenshots)
			if err != nil {
				return err
			}
			for _, k := range keys {
				r := ReadKey(k)
				_, _ = r.Time()
				probe, _ := r.String()
				id, _ := r.String()
				if err := r.Done(); err != nil {
					return fmt.Errorf("probe run index key: %w", err)
				}
				if err := runs.Delete(Key{}.String(probe).String(id)); err != nil {
					return err
				}
				if err := deleteScreenshots(shots, probe, id); err != nil {
					return err
				}
				if err := byTime.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil || n < chunk {
			return err
		}
	}
}

// SaveScreenshot stores a browser run's PNG for one step, keyed by (probe,
// run ID, step) in its own bucket; Prune deletes it with its run. The value
// is the version byte followed by the PNG bytes as they are.
func (s *ProbeResults) SaveScreenshot(ctx context.Context, probe, run, step string, png []byte) error {
	val := make([]byte, 0, len(png)+1)
	val = append(append(val, probeScreenshotVersion), png...)
	return s.e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeScreenshots)
		if err != nil {
			return err
		}
		return b.Put(Key{}.String(probe).String(run).String(step), val)
	})
}

// Screenshot returns the PNG of a run's step, or probes.ErrNoScreenshot.
func (s *ProbeResults) Screenshot(ctx context.Context, probe, run, step string) ([]byte, error) {
	var out []byte
	err := s.e.View(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucketProbeScreenshots)
		if err != nil {
			return err
		}
		v, err := b.Get(Key{}.String(probe).String(run).String(step))
		if err != nil || v == nil {
			return err
		}
		_, body, err := SplitVersion(v, probeScreenshotVersion)
		if err != nil {
			return fmt.Errorf("screenshot %s/%s/%s: %w", probe, run, step, err)
		}
		out = body
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, probes.ErrNoScreenshot
	}
	return out, nil
}

// deleteScreenshots removes every step's screenshot of one run.
func deleteScreenshots(b Bucket, probe, run string) error {
	prefix := Key{}.String(probe).String(run)
	var keys [][]byte
	if err := b.Scan(prefix, PrefixEnd(prefix), false, func(k, _ []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
