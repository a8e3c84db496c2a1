package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileBytes caps the size of a config file; anything larger is a mistake.
const MaxFileBytes = 4 << 20

// Config is the whole file. Only internal/app sees all of it; components get
// their own section.
type Config struct {
	Server        Server        `yaml:"server"`
	Storage       Storage       `yaml:"storage"`
	Auth          Auth          `yaml:"auth"`
	Logging       Logging       `yaml:"logging"`
	Probes        []Probe       `yaml:"probes"`
	ProbeSettings ProbeSettings `yaml:"probe_settings"`
	RUM           RUM           `yaml:"rum"`
	SLOs          []SLO         `yaml:"slos"`
	People        []Person      `yaml:"people"`
	Incidents     Incidents     `yaml:"incidents"`
	Oncall        Oncall        `yaml:"oncall"`
	Alerting      Alerting      `yaml:"alerting"`
	Runbooks      Runbooks      `yaml:"runbooks"`
	Slack         Slack         `yaml:"slack"`
	Postmortems   Postmortems   `yaml:"postmortems"`
	UI            UI            `yaml:"ui"`
	Dashboards    Dashboards    `yaml:"dashboards"`
	StatusPage    StatusPage    `yaml:"status_page"`
	Audit         Audit         `yaml:"audit"`

	source *sourceInfo
}

type sourceInfo struct {
	name      string
	positions map[string]position
}

// Options change how a file is read; the zero value uses the process
// environment and file system.
type Options struct {
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads *_file secrets; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

func (o Options) withDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

// ErrTooLarge is returned for config files over MaxFileBytes.
var ErrTooLarge = errors.New("config file is larger than 4 MiB")

// Load reads, decodes and validates the file at path. Problems with the
// content come back as Problems carrying positions; an unreadable file is a
// *ReadError.
func Load(path string, opts Options) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ReadError{Path: path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, &ReadError{Path: path, Err: err}
	}
	if len(data) > MaxFileBytes {
		return nil, &ReadError{Path: path, Err: ErrTooLarge}
	}
	return Parse(path, data, opts)
}

// ReadError is a config file that could not be read: missing, unreadable or
// over MaxFileBytes. It is not Problems, so check config and serve can tell
// it from a bad file (exit 2); a reload answers it as a Problem instead, so
// the operator gets the same problems list as for an invalid file.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string {
	var pe *fs.PathError
	if errors.As(e.Err, &pe) {
		return "read config: " + e.Err.Error() // the PathError names the file
	}
	return fmt.Sprintf("read config %s: %v", e.Path, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Problems gives the error as one problem naming the file and the OS error
// (without repeating the path the problem already starts with).
func (e *ReadError) Problems() Problems {
	cause := e.Err
	var pe *fs.PathError
	if errors.As(cause, &pe) {
		cause = pe.Err
	}
	return Problems{{File: e.Path, Message: "cannot read the config file: " + cause.Error()}}
}

// Parse decodes and validates a config held in memory; name is used in
// problem positions. An empty document yields the defaults. When the
// content has problems, the error is Problems and the config is still
// returned, decoded as far as possible, so callers such as check config can
// run further checks and report everything at once; it must not be served.
func Parse(name string, data []byte, opts Options) (*Config, error) {
	opts = opts.withDefaults()
	cfg := Default()
	cfg.source = &sourceInfo{name: name, positions: map[string]position{}}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Problems{syntaxProblem(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Problems{{File: name, Line: extra.Line, Column: extra.Column, Message: "the config must be a single YAML document"}}
	}
	c := &checker{lookupEnv: opts.LookupEnv, positions: cfg.source.positions}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		c.walk(root, reflect.TypeOf(cfg).Elem(), "")
		if !isNull(root) {
			if err := root.Decode(cfg); err != nil {
				c.problems = append(c.problems, Problem{Line: root.Line, Column: root.Column, Message: cleanYAMLError(err)})
			}
		}
	}
	problems := c.problems
	problems = append(problems, resolveSecrets(reflect.ValueOf(cfg).Elem(), "", opts.ReadFile)...)
	applyElementDefaults(cfg)
	// Keys and values refused above were removed or reset to defaults, so
	// validation still sees a coherent config and every problem is
	// reported in one pass.
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return cfg, cfg.Locate(problems)
	}
	return cfg, nil
}

func syntaxProblem(name string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: name, Message: msg}
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		p.Line, p.Column = line, 1
		_, rest, _ := strings.Cut(msg, ": ")
		p.Message = rest
	}
	return p
}

// Locate fills in the file, line and column of problems from the paths they
// name, walking up to the nearest path present in the file when the key
// itself is missing. Components call it (through internal/app) so their own
// validation errors point into the file too.
func (c *Config) Locate(ps Problems) Problems {
	out := make(Problems, len(ps))
	copy(out, ps)
	if c == nil || c.source == nil {
		return out
	}
	for i := range out {
		p := &out[i]
		if p.File == "" {
			p.File = c.source.name
		}
		if p.Line == 0 {
			if pos, ok := c.nearest(p.Path); ok {
				p.Line, p.Column = pos.line, pos.col
			}
		}
	}
	out.sortByPosition()
	return out
}

func (c *Config) nearest(path string) (position, bool) {
	for path != "" {
		if pos, ok := c.source.positions[path]; ok {
			return pos, true
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return position{}, false
}

// written reports whether path (such as "rum.max_body_bytes") was set in
// the file, rather than left to its default.
func (c *Config) written(path string) bool {
	if c.source == nil {
		return false
	}
	_, ok := c.source.positions[path]
	return ok
}

// SourceName is the file the config came from ("" for built-in defaults).
func (c *Config) SourceName() string {
	if c.source == nil {
		return ""
	}
	return c.source.name
}

var secretType = reflect.TypeOf(Secret{})

// resolveSecrets reads every Secret's X_file twin. Setting both is an error.
func resolveSecrets(v reflect.Value, path string, readFile func(string) ([]byte, error)) Problems {
	var ps Problems
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			ps = append(ps, resolveSecrets(v.Elem(), path, readFile)...)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			ps = append(ps, resolveSecrets(v.Index(i), fmt.Sprintf("%s[%d]", path, i), readFile)...)
		}
	case reflect.Struct:
		t := v.Type()
		byName := map[string]int{}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			byName[name] = i
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fv := v.Field(i)
			if f.Type != secretType {
				ps = append(ps, resolveSecrets(fv, JoinPath(path, name), readFile)...)
				continue
			}
			twin, ok := byName[name+"_file"]
			if !ok {
				continue
			}
			file := v.Field(twin).String()
			if file == "" {
				continue
			}
			filePath := JoinPath(path, name+"_file")
			if fv.Interface().(Secret).IsSet() {
				ps.Add(filePath, "set either %s or %s_file, not both", name, name)
				continue
			}
			data, err := readFile(file)
			if err != nil {
				ps.Add(filePath, "cannot read secret file: %v", err)
				continue
			}
			fv.Set(reflect.ValueOf(NewSecret(strings.TrimRight(string(data), "\r\n"))))
		}
	}
	return ps
}
