package probes

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// ScreenshotStore keeps the screenshots of browser runs beside the runs. A
// ResultStore that also implements it must delete a run's screenshots when
// Prune deletes the run, so they share the runs' retention. The store
// package implements it on bbolt; MemoryStore implements it in memory.
type ScreenshotStore interface {
	// SaveScreenshot stores a PNG for one step of one run, replacing any.
	SaveScreenshot(ctx context.Context, probe, run, step string, png []byte) error
	// Screenshot returns the PNG of a run's step, or an error wrapping
	// ErrNoScreenshot.
	Screenshot(ctx context.Context, probe, run, step string) ([]byte, error)
}

// notFoundError is a not-found condition that is not an unknown probe; its
// NotFound method lets the web layer answer 404 without a special case.
type notFoundError string

func (e notFoundError) Error() string { return string(e) }

// NotFound reports that the thing asked for does not exist.
func (e notFoundError) NotFound() bool { return true }

// ErrNoScreenshot is returned for a run (or step) that kept no screenshot.
var ErrNoScreenshot error = notFoundError("no screenshot kept")

// MaxScreenshotBytes bounds one stored screenshot; a larger PNG (a huge
// viewport) is not kept.
const MaxScreenshotBytes = 8 << 20

// saveScreenshots stores the screenshots a run took, when the store can
// keep them.
func (s *Service) saveScreenshots(ctx context.Context, res Result) {
	shots := res.Screenshots()
	if len(shots) == 0 {
		return
	}
	ss, ok := s.store.(ScreenshotStore)
	if !ok {
		return
	}
	for _, sh := range shots {
		if len(sh.PNG) > MaxScreenshotBytes {
			s.log.Warn("screenshot too large to keep", "probe", res.Probe, "run", res.ID, "step", sh.Step, "bytes", len(sh.PNG))
			continue
		}
		if err := ss.SaveScreenshot(ctx, res.Probe, res.ID, sh.Step, sh.PNG); err != nil {
			s.log.Warn("save probe screenshot", "probe", res.Probe, "run", res.ID, "step", sh.Step, "err", err)
		}
	}
}

// Screenshot returns the PNG kept with a run: the step's when step is set,
// else the run's main one (Result.Screenshot). An unknown probe is
// ErrNotFound; a run without that screenshot is ErrNoScreenshot.
func (s *Service) Screenshot(ctx context.Context, name, run, step string) ([]byte, error) {
	s.mu.Lock()
	_, ok := s.journeys[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("probe %q: %w", name, ErrNotFound)
	}
	ss, ok := s.store.(ScreenshotStore)
	if !ok {
		return nil, fmt.Errorf("probe %q run %s: %w", name, run, ErrNoScreenshot)
	}
	if step == "" {
		runs, err := s.store.Runs(ctx, name, nextID(run), 1)
		if err != nil {
			return nil, fmt.Errorf("probe %q run %s: %w", name, run, err)
		}
		if len(runs) == 0 || runs[0].ID != run || runs[0].Screenshot == "" {
			return nil, fmt.Errorf("probe %q run %s: %w", name, run, ErrNoScreenshot)
		}
		step = runs[0].Screenshot
	}
	png, err := ss.Screenshot(ctx, name, run, step)
	if err != nil {
		return nil, fmt.Errorf("probe %q run %s step %s: %w", name, run, step, err)
	}
	return png, nil
}

// nextID is the smallest string sorting after id, so Runs(before=nextID(id))
// starts at id itself.
func nextID(id string) string { return id + "\x00" }

// screenshotKey identifies a screenshot in MemoryStore.
type screenshotKey struct{ probe, run, step string }

// SaveScreenshot stores a copy of png.
func (m *MemoryStore) SaveScreenshot(ctx context.Context, probe, run, step string, png []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shots == nil {
		m.shots = map[screenshotKey][]byte{}
	}
	m.shots[screenshotKey{probe, run, step}] = append([]byte(nil), png...)
	return nil
}

// Screenshot returns a copy of the stored PNG.
func (m *MemoryStore) Screenshot(ctx context.Context, probe, run, step string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	png, ok := m.shots[screenshotKey{probe, run, step}]
	if !ok {
		return nil, ErrNoScreenshot
	}
	return append([]byte(nil), png...), nil
}

// pruneScreenshots deletes the screenshots of the runs Prune is about to
// delete (it runs first, while they are still listed); m.mu is held.
func (m *MemoryStore) pruneScreenshots(olderThan time.Time) {
	for k := range m.shots {
		list := m.runs[k.probe]
		i := sort.Search(len(list), func(i int) bool { return list[i].ID >= k.run })
		if i < len(list) && list[i].ID == k.run && list[i].At.Before(olderThan) {
			delete(m.shots, k)
		}
	}
}
