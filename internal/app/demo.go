package app

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/demo"
	"github.com/sentinel-oss/sentinel/probes"
)

//go:embed demo.yaml
var demoConfig []byte

//go:embed demo_runbooks/*.md
var demoRunbooks embed.FS

// writeDemoRunbooks puts the demo's runbooks under dataDir/runbooks, fresh
// on every start so they match this binary.
func writeDemoRunbooks(dataDir string) error {
	dir := filepath.Join(dataDir, "runbooks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo runbooks: %w", err)
	}
	entries, err := demoRunbooks.ReadDir("demo_runbooks")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := demoRunbooks.ReadFile("demo_runbooks/" + e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			return fmt.Errorf("demo runbooks: %w", err)
		}
	}
	return nil
}

// DemoOptions are the flags of `sentinel demo`.
type DemoOptions struct {
	Listen     string // Sentinel's address
	ShopListen string // the storefront's address, a different origin
	DataDir    string // the store and the demo token live here
	Stderr     io.Writer
	Build      BuildInfo
}

// Demo is Sentinel configured to watch the demo storefront, plus the shop.
type Demo struct {
	*App
	Shop   *demo.Shop
	Token  string
	Config *config.Config
	// NoBrowser says why the browser journey was left out, if it was.
	NoBrowser string
}

// withoutBrowserJourneys drops kind: browser probes, for machines without
// Chromium: the demo then still runs, with its HTTP journey only.
func withoutBrowserJourneys(cfg *config.Config) {
	kept := cfg.Probes[:0]
	for _, p := range cfg.Probes {
		if p.Kind != config.ProbeKindBrowser {
			kept = append(kept, p)
		}
	}
	cfg.Probes = kept
}

// DemoConfig renders the demo's config for the given addresses and token.
func DemoConfig(listen, shopURL, dataDir, token string) (*config.Config, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: must be host:port", listen)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	vars := map[string]string{
		"DEMO_LISTEN":       listen,
		"DEMO_EXTERNAL_URL": "http://" + net.JoinHostPort(host, port),
		"DEMO_SHOP_URL":     strings.TrimRight(shopURL, "/"),
		"DEMO_DATA":         filepath.ToSlash(dataDir),
		"DEMO_TOKEN":        token,
	}
	return config.Parse("demo.yaml", demoConfig, config.Options{
		LookupEnv: func(k string) (string, bool) {
			v, ok := vars[k]
			if !ok {
				return os.LookupEnv(k)
			}
			return v, true
		},
	})
}

// NewDemo starts the shop's listener, builds Sentinel with the demo config
// pointed at it, and returns both ready to run.
func NewDemo(ctx context.Context, opts DemoOptions) (*Demo, error) {
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data %s: %w", opts.DataDir, err)
	}
	token, err := demoToken(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := writeDemoRunbooks(opts.DataDir); err != nil {
		return nil, err
	}
	// Bind Sentinel's port first so the shop's pages can name it.
	sentinelLn, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", opts.Listen, err)
	}
	listen := sentinelLn.Addr().String()

	shop := demo.New(demo.Options{Listen: opts.ShopListen, SentinelURL: "http://" + listen})
	shopLn, err := shop.Listen()
	if err != nil {
		_ = sentinelLn.Close()
		return nil, fmt.Errorf("--shop %s: %w", opts.ShopListen, err)
	}
	_, chromiumErr := probes.FindChromium()
	load := func() (*config.Config, error) {
		cfg, err := DemoConfig(listen, shop.URL(), opts.DataDir, token)
		if err == nil && chromiumErr != nil {
			withoutBrowserJourneys(cfg)
		}
		return cfg, err
	}
	cfg, err := load()
	if err != nil {
		_ = shopLn.Close()
		_ = sentinelLn.Close()
		return nil, err
	}
	a, err := New(ctx, Options{
		Config:     cfg,
		LoadConfig: load,
		Stderr:     opts.Stderr,
		Build:      opts.Build,
		Listener:   sentinelLn,
	})
	if err != nil {
		_ = shopLn.Close()
		_ = sentinelLn.Close()
		return nil, err
	}
	a.extra = append(a.extra, shop.Run)
	d := &Demo{App: a, Shop: shop, Token: token, Config: cfg}
	if chromiumErr != nil {
		d.NoBrowser = chromiumErr.Error()
	}
	return d, nil
}

// Welcome is what the demo prints for a newcomer: every URL and the token.
func (d *Demo) Welcome() string {
	base := d.URL()
	shop := d.Shop.URL()
	var b strings.Builder
	fmt.Fprintf(&b, "Sentinel demo is running.\n\n")
	fmt.Fprintf(&b, "  Demo shop:        %s/\n", shop)
	fmt.Fprintf(&b, "  Fault panel:      %s/faults\n", shop)
	fmt.Fprintf(&b, "  Sentinel:         %s/   (sign in with the token below)\n", base)
	fmt.Fprintf(&b, "  Health, metrics:  %s/healthz   %s/readyz   %s/metrics\n", base, base, base)
	fmt.Fprintf(&b, "\n  Admin token:      %s\n", d.Token)
	fmt.Fprintf(&b, "\n  Break checkout:   curl -X POST %s/demo/faults -d '{\"checkout_error_rate\": 1}'\n", shop)
	fmt.Fprintf(&b, "  Watch incidents:  curl -H 'Authorization: Bearer %s' %s/api/v1/incidents\n", d.Token, base)
	fmt.Fprintf(&b, "  Repair it:        curl -X DELETE %s/demo/faults\n", shop)
	if d.NoBrowser != "" {
		fmt.Fprintf(&b, "\n  Browser journey:  left out: %s\n", d.NoBrowser)
	}
	fmt.Fprintf(&b, "\nPress Ctrl-C to stop.\n")
	return b.String()
}

// demoToken reads the demo's admin token from dataDir, creating it once so
// it stays the same across runs.
func demoToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "demo-token")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read demo token: %w", err)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := "demo-" + hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write demo token: %w", err)
	}
	return token, nil
}
