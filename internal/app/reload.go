package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
	"github.com/sentinel-oss/sentinel/web"
)

// A reload applies a whole new config to the running components, all or
// nothing, in three phases:
//
//  1. validate: the file is read and every component is built from it on a
//     scratch in-memory store, exactly as `check config` and `serve` do
//     (Validate); any problem ends the reload.
//  2. prepare: each component's reloadStep checks and builds what the new
//     config needs (compiled rules, a new Slack client, a runbook catalogue
//     read from disk, stored counts of a new SLO) without changing anything
//     that runs; a step may fail, and then no step commits.
//  3. commit: every step's commit swaps its prepared values in. A commit
//     cannot fail, so a reload never leaves half the components on the new
//     config.
//
// A component joins by calling c.onReload in its wire_*.go with a prepare
// function; the reloadPlan gives it the new config and parts shared between
// steps (the compiled on-call config, the runbook catalogue), each built once
// per reload.

// reloadStep is one component's part in a reload.
type reloadStep struct {
	name string
	// prepare builds what plan.next needs without touching anything
	// running, and returns the commit that applies it. commit must not
	// fail and must not block on I/O for long (it runs with the reload
	// lock held while requests are served).
	prepare func(ctx context.Context, plan *reloadPlan) (commit func(), err error)
}

// onReload registers a component's reload step. Steps prepare and commit
// in registration order (the build order of buildComponents).
func (c *components) onReload(name string, prepare func(ctx context.Context, plan *reloadPlan) (commit func(), err error)) {
	c.reloads = append(c.reloads, reloadStep{name: name, prepare: prepare})
}

// reloadPlan is one reload in progress: the new config and what steps
// share, built on first use.
type reloadPlan struct {
	// running is the config in force; next the one being applied.
	running, next *config.Config
	// shared holds values built once per reload for several steps, keyed
	// by name (see planPart).
	shared map[string]any
}

// planPart returns the plan's value named key, building it with build on
// first use; later callers get the same value (or the same error).
func planPart[T any](p *reloadPlan, key string, build func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	if r, ok := p.shared[key].(result); ok {
		return r.v, r.err
	}
	v, err := build()
	p.shared[key] = result{v, err}
	return v, err
}

// ErrRestartRequired marks a reload refused because keys changed that only
// a restart applies (server.listen, storage.*); answered 409.
var ErrRestartRequired = fmt.Errorf("%w: restart required", web.ErrConflict)

// Reload re-reads the config and applies every section of it to the running
// components at once; on any problem nothing changes, the reason is logged
// and sentinel_config_last_reload_successful drops to 0. Errors wrap
// web.ErrInvalid (unreadable or invalid file: 400) or ErrRestartRequired
// (409), so the HTTP answer is never a 5xx for an operator's mistake.
func (a *App) Reload(ctx context.Context) error {
	changed, err := a.reload(ctx)
	after := ""
	if err == nil {
		after = "changed sections: none"
		if len(changed) > 0 {
			after = "changed sections: " + strings.Join(changed, ", ")
		}
	}
	// A reload asked for over HTTP is audited with its token's name by the
	// web server; one from a signal (SIGHUP) is audited here.
	if _, fromRequest := model.ActorFrom(ctx); fromRequest {
		web.NoteAuditChange(ctx, "", after)
	} else if a.comps != nil && a.comps.audit != nil {
		outcome := "ok"
		if err != nil {
			outcome = "failed: " + err.Error()
		}
		_ = a.comps.audit.RecordChange(context.WithoutCancel(ctx), model.Actor{Name: "SIGHUP", Channel: model.ChannelConfig}, "reload", "config file", outcome, "", "", after)
	}
	return err
}

// changedSections names the top-level config keys whose values differ
// between old and next (values are not named: they may hold secrets).
func changedSections(old, next *config.Config) []string {
	var out []string
	ov, nv := reflect.ValueOf(*old), reflect.ValueOf(*next)
	t := ov.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "" {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), nv.Field(i).Interface()) {
			out = append(out, key)
		}
	}
	return out
}

func (a *App) reload(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.opts.LoadConfig == nil {
		return nil, fmt.Errorf("%w: reload is not available: Sentinel was started without a config source", web.ErrUnavailable)
	}
	next, err := a.opts.LoadConfig()
	// A missing or unreadable file is answered like an invalid one: with
	// a problems list naming the file.
	if re := (*config.ReadError)(nil); errors.As(err, &re) {
		err = re.Problems()
	}
	if err = Validate(ctx, next, err); err != nil {
		return nil, a.reloadFailed(invalid(err), nil)
	}
	if keys := restartKeys(a.cfg, next); len(keys) > 0 {
		return nil, a.reloadFailed(fmt.Errorf("%w: %s changed; these apply only when Sentinel restarts, so nothing was reloaded (restart it, or put the old value back)",
			ErrRestartRequired, strings.Join(keys, ", ")), keys)
	}
	plan := &reloadPlan{running: a.cfg, next: next, shared: map[string]any{}}
	commits := make([]func(), 0, len(a.comps.reloads)+1)
	for _, step := range a.reloadSteps() {
		commit, err := step.prepare(ctx, plan)
		if err != nil {
			return nil, a.reloadFailed(invalid(fmt.Errorf("%s: %w", step.name, err)), nil)
		}
		if commit != nil {
			commits = append(commits, commit)
		}
	}
	for _, commit := range commits {
		commit()
	}
	changed := changedSections(a.cfg, next)
	a.cfg = next
	a.metrics.reloadOK.Set(1)
	a.metrics.restartRequired.Reset()
	a.metrics.reloadTime.Set(float64(a.opts.Now().Unix()))
	a.log.Info("config reloaded", "file", next.SourceName())
	a.warnDeadEnds(next)
	return changed, nil
}

// reloadSteps are the app's own steps (logging, HTTP) followed by the
// components'.
func (a *App) reloadSteps() []reloadStep {
	own := []reloadStep{
		{name: "logging", prepare: func(_ context.Context, p *reloadPlan) (func(), error) {
			apply, err := a.logging.Prepare(p.next.Logging)
			if err != nil {
				return nil, fmt.Errorf("logging: %w", err)
			}
			return apply, nil
		}},
		{name: "server", prepare: func(_ context.Context, p *reloadPlan) (func(), error) {
			return a.web.Prepare(p.next.Server, p.next.Auth)
		}},
	}
	return append(own, a.comps.reloads...)
}

// reloadFailed records a refused reload: the metric, the log line, and
// for restart-only keys the per-key gauge.
func (a *App) reloadFailed(err error, restart []string) error {
	a.metrics.reloadOK.Set(0)
	a.metrics.restartRequired.Reset()
	for _, k := range restart {
		a.metrics.restartRequired.WithLabelValues(k).Set(1)
	}
	if len(restart) > 0 {
		a.log.Error("config reload refused: keys changed that need a restart; keeping the running config", "keys", strings.Join(restart, ","), "err", err)
	} else {
		a.log.Error("config reload failed; keeping the running config", "err", err)
	}
	return err
}

// invalid marks err as the operator's to fix (400) unless it already
// carries a kind web maps to a 4xx.
func invalid(err error) error {
	var ps config.Problems
	if errors.As(err, &ps) || errors.Is(err, web.ErrInvalid) || errors.Is(err, web.ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %w", web.ErrInvalid, err)
}

// restartKeys names the keys that differ between the running config and
// next and that only a restart applies: the listener's address and the
// whole storage section (the open store is kept).
func restartKeys(old, next *config.Config) []string {
	var out []string
	if old.Server.Listen != next.Server.Listen {
		out = append(out, "server.listen")
	}
	out = append(out, changedFields("storage", reflect.ValueOf(old.Storage), reflect.ValueOf(next.Storage))...)
	return out
}

// changedFields names the yaml keys of a struct whose values differ
// (secrets compared by value, never printed).
func changedFields(prefix string, a, b reflect.Value) []string {
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		av, bv := a.Field(i).Interface(), b.Field(i).Interface()
		if as, ok := av.(config.Secret); ok {
			if as.Reveal() != bv.(config.Secret).Reveal() {
				out = append(out, prefix+"."+name)
			}
			continue
		}
		if !reflect.DeepEqual(av, bv) {
			out = append(out, prefix+"."+name)
		}
	}
	return out
}

// Validate reports every problem with cfg at once: loadErr (what
// config.Load or config.Parse returned: problems of the file itself, or a
// plain error when it could not be read) merged with what building every
// component finds, in file order. `serve`, `check config` and a reload all
// call it, so they agree on what is wrong.
func Validate(ctx context.Context, cfg *config.Config, loadErr error) error {
	var ps config.Problems
	if loadErr != nil && !errors.As(loadErr, &ps) {
		return loadErr // unreadable: nothing to build
	}
	if cfg == nil {
		return loadErr
	}
	ps = mergeProblems(ps, config.AsProblems(Check(ctx, cfg)))
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// mergeProblems joins two lists, dropping repeats, in file order.
func mergeProblems(a, b config.Problems) config.Problems {
	seen := map[string]bool{}
	var out config.Problems
	for _, p := range append(append(config.Problems{}, a...), b...) {
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}
