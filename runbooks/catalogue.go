package runbooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/model"
)

// MaxFileBytes caps one runbook file; a larger file is refused, not read.
const MaxFileBytes = 1 << 20

// ErrNotFound is returned for a runbook name the catalogue does not hold.
var ErrNotFound = errors.New("runbook not found")

// Runbook is one Markdown file of the catalogue.
type Runbook struct {
	// Name is the file name without .md; rules refer to runbooks by it.
	Name  string `json:"name"`
	Title string `json:"title"`
	// Owners are teams or people responsible for the procedure.
	Owners []string `json:"owners,omitempty"`
	// Alerts are alert names (rule names, Alertmanager alertnames) it applies to.
	Alerts []string `json:"alerts,omitempty"`
	// Labels, when set, match every alert carrying all of these pairs.
	Labels   model.Labels   `json:"labels,omitempty"`
	Severity model.Severity `json:"severity,omitempty"`
	// Diagnostics run when a matching incident opens (see diagnostics.go).
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Body is the Markdown after the front matter.
	Body string `json:"-"`
	// Path is the file it was read from.
	Path      string    `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
}

// frontMatter is the YAML header's shape; unknown keys are refused.
type frontMatter struct {
	Title    string            `yaml:"title"`
	Owners   []string          `yaml:"owners"`
	Alerts   []string          `yaml:"alerts"`
	Labels   map[string]string `yaml:"labels"`
	Severity string            `yaml:"severity"`
	// Diagnostics is decoded by parseDiagnostics, which keeps lines.
	Diagnostics yaml.Node `yaml:"diagnostics"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Parse reads one runbook file's content; name is the runbook's name and
// file is used in problem positions. Problems carry the file, line and column.
func Parse(name, file string, data []byte) (Runbook, config.Problems) {
	var ps config.Problems
	add := func(line int, format string, args ...any) {
		ps = append(ps, config.Problem{File: file, Line: line, Column: 1, Message: fmt.Sprintf(format, args...)})
	}
	rb := Runbook{Name: name, Path: file}
	if !nameRE.MatchString(name) {
		add(0, "runbook name %q: use letters, digits, '.', '_' and '-' only", name)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	if !strings.HasPrefix(text, "---\n") {
		add(1, "missing front matter: the file must start with a line '---', the YAML header, and another '---'")
		return rb, ps
	}
	rest := text[len("---\n"):]
	end := strings.Index(rest, "\n---\n")
	bodyStart := end + len("\n---\n")
	if end < 0 {
		if strings.HasSuffix(rest, "\n---") {
			end, bodyStart = len(rest)-len("\n---"), len(rest)
		} else if strings.HasPrefix(rest, "---\n") || rest == "---" {
			end, bodyStart = 0, min(len(rest), 4)
		} else {
			add(1, "front matter is not closed: add a line '---' after the YAML header")
			return rb, ps
		}
	}
	header := rest[:end]
	rb.Body = strings.TrimLeft(rest[bodyStart:], "\n")

	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader([]byte(header)))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		line := 2
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var n int
		if _, e := fmt.Sscanf(msg, "line %d:", &n); e == nil {
			line = n + 1 // the header starts on the file's second line
			_, msg, _ = strings.Cut(msg, ": ")
		} else if strings.HasPrefix(msg, "unmarshal errors:") {
			msg = strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:"))
			if _, e := fmt.Sscanf(strings.TrimSpace(msg), "line %d:", &n); e == nil {
				line = n + 1
				_, msg, _ = strings.Cut(msg, ": ")
			}
		}
		add(line, "front matter: %s", msg)
		return rb, ps
	}
	rb.Title = strings.TrimSpace(fm.Title)
	if rb.Title == "" {
		add(2, "front matter: title is required")
	}
	rb.Owners = fm.Owners
	rb.Alerts = fm.Alerts
	if len(fm.Labels) > 0 {
		rb.Labels = model.Labels(fm.Labels)
	}
	if fm.Severity != "" {
		sev, err := model.ParseSeverity(fm.Severity)
		if err != nil {
			add(2, "front matter: %v", err)
		}
		rb.Severity = sev
	}
	diags, dps := parseDiagnostics(&fm.Diagnostics, file)
	rb.Diagnostics = diags
	ps = append(ps, dps...)
	return rb, ps
}

// Catalogue is the set of runbooks loaded from one directory. It is safe
// for concurrent use; Run keeps it in step with the directory.
type Catalogue struct {
	log *slog.Logger

	mu       sync.RWMutex
	dir      string
	interval time.Duration
	byName   map[string]Runbook
	sig      string
	changed  chan struct{} // wakes Run after Replace
}

// Options configure a Catalogue.
type Options struct {
	Config config.Runbooks
	Logger *slog.Logger
}

// Load reads every NAME.md file in the configured directory. A missing
// directory is an empty catalogue (rules that name a runbook then fail
// their own check); files with problems are left out and reported.
func Load(opts Options) (*Catalogue, config.Problems) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalogue{dir: opts.Config.Dir, interval: opts.Config.WatchInterval.Std(), log: log, byName: map[string]Runbook{}, changed: make(chan struct{}, 1)}
	byName, sig, ps := readDir(c.dir)
	c.byName, c.sig = byName, sig
	return c, ps
}

// New returns a catalogue holding exactly rbs, for tests and callers that
// build runbooks in code.
func New(rbs ...Runbook) *Catalogue {
	c := &Catalogue{log: slog.New(slog.DiscardHandler), byName: map[string]Runbook{}, changed: make(chan struct{}, 1)}
	for _, rb := range rbs {
		c.byName[rb.Name] = rb
	}
	return c
}

// Dir is the directory the catalogue reads.
func (c *Catalogue) Dir() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dir
}

// Replace makes c hold what next holds (its directory, watch interval and
// runbooks): a config reload loads the new runbooks: section with Load and
// swaps it into the catalogue everyone already holds.
func (c *Catalogue) Replace(next *Catalogue) {
	next.mu.RLock()
	dir, interval, byName, sig := next.dir, next.interval, next.byName, next.sig
	next.mu.RUnlock()
	c.mu.Lock()
	c.dir, c.interval, c.byName, c.sig = dir, interval, byName, sig
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *Catalogue) watch() (dir string, interval time.Duration) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dir, c.interval
}

// readDir loads dir and returns the runbooks, a signature of the files
// (names, sizes, modification times) to notice changes, and problems.
func readDir(dir string) (map[string]Runbook, string, config.Problems) {
	out := map[string]Runbook{}
	if dir == "" {
		return out, "", nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out, "missing", nil
		}
		return out, "", config.Problems{{Path: "runbooks.dir", Message: fmt.Sprintf("cannot read runbooks: %v", err)}}
	}
	var ps config.Problems
	var sig strings.Builder
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil {
			continue
		}
		fmt.Fprintf(&sig, "%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
		if info.Size() > MaxFileBytes {
			ps = append(ps, config.Problem{File: path, Message: fmt.Sprintf("runbook file is larger than %d bytes", MaxFileBytes)})
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			ps = append(ps, config.Problem{File: path, Message: fmt.Sprintf("cannot read runbook: %v", err)})
			continue
		}
		rb, fps := Parse(strings.TrimSuffix(e.Name(), ".md"), path, data)
		if len(fps) > 0 {
			ps = append(ps, fps...)
			continue
		}
		rb.UpdatedAt = info.ModTime().UTC()
		out[rb.Name] = rb
	}
	return out, sig.String(), ps
}

// Run re-reads the directory every watch interval and swaps in the new
// catalogue when files changed; files with problems keep their previous
// version and are logged. It returns when ctx ends.
func (c *Catalogue) Run(ctx context.Context) error {
	for {
		var tick <-chan time.Time
		var t *time.Timer
		if dir, interval := c.watch(); interval > 0 && dir != "" {
			t = time.NewTimer(interval)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-c.changed:
		case <-tick:
			c.Refresh()
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Refresh re-reads the directory now if any file changed, and reports
// whether the catalogue changed.
func (c *Catalogue) Refresh() bool {
	dir, _ := c.watch()
	byName, sig, ps := readDir(dir)
	c.mu.Lock()
	defer c.mu.Unlock()
	if dir != c.dir || sig == c.sig {
		return false
	}
	for _, p := range ps {
		c.log.Warn("runbook has problems; keeping its previous version", "file", p.File, "line", p.Line, "err", p.Message)
		if old, ok := c.byName[strings.TrimSuffix(filepath.Base(p.File), ".md")]; ok {
			byName[old.Name] = old
		}
	}
	c.byName, c.sig = byName, sig
	c.log.Info("runbooks reloaded", "dir", c.dir, "runbooks", len(byName))
	return true
}

// Has reports whether a runbook of that name exists.
func (c *Catalogue) Has(name string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.byName[name]
	return ok
}

// Get returns the named runbook or ErrNotFound.
func (c *Catalogue) Get(name string) (Runbook, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rb, ok := c.byName[name]
	if !ok {
		return Runbook{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return rb, nil
}

// List returns every runbook, sorted by name.
func (c *Catalogue) List() []Runbook {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Runbook, 0, len(c.byName))
	for _, rb := range c.byName {
		out = append(out, rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Match returns the runbook for an alert: one that names the alert wins,
// then the one whose labels match the most pairs (ties by name); false when
// none applies.
func (c *Catalogue) Match(alertName string, labels model.Labels) (Runbook, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var best Runbook
	bestScore := 0
	for _, rb := range c.byName {
		score := 0
		for _, a := range rb.Alerts {
			if a == alertName {
				score = 1 << 20
			}
		}
		if len(rb.Labels) > 0 && labelsMatch(rb.Labels, labels) {
			score += len(rb.Labels)
		}
		if score > bestScore || (score == bestScore && score > 0 && rb.Name < best.Name) {
			best, bestScore = rb, score
		}
	}
	return best, bestScore > 0
}

func labelsMatch(want, have model.Labels) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
