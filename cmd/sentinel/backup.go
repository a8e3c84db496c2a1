package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sentinel-oss/sentinel/config"
	"github.com/sentinel-oss/sentinel/internal/app"
)

func cmdBackup(ctx context.Context, args []string, s streams) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "write the copy to `FILE` (required)")
	cfgPath := fs.String("c", "", "config `FILE` (default ./sentinel.yaml if present, else built-in defaults)")
	url := fs.String("url", "", "`URL` of the running Sentinel (default from server.listen)")
	tokenEnv := fs.String("token-env", "SENTINEL_TOKEN", "environment `VARIABLE` holding an admin token, used when Sentinel is running")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.stdout, flagUsage(fs, "backup --out FILE [-c FILE]"))
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("backup takes no arguments, got %q", pos[0])
	}
	if *out == "" {
		return usagef("backup needs --out FILE")
	}
	cfg, err := loadConfig(*cfgPath, s)
	if err != nil {
		return err
	}
	// A stopped Sentinel leaves the file free: copy it directly. A running
	// one holds the lock: ask it for a consistent copy over HTTP.
	n, err := app.BackupFile(ctx, cfg, *out)
	if errors.Is(err, app.ErrStoreInUse) {
		n, err = backupOverHTTP(ctx, cfg, *url, *tokenEnv, *out, s)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s (%d bytes)\n", *out, n)
	return nil
}

func backupOverHTTP(ctx context.Context, cfg *config.Config, base, tokenEnv, out string, s streams) (int64, error) {
	token, _ := s.env(tokenEnv)
	if token == "" {
		return 0, fmt.Errorf("the store is in use by a running Sentinel; set %s to an admin token so the backup can be taken through its API", tokenEnv)
	}
	if base == "" {
		base = listenURL(cfg.Server)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("backup URL %q: %w", base, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ask the running Sentinel for a backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("the running Sentinel refused the backup: %s %s", resp.Status, msg)
	}
	return writeAtomically(out, resp.Body)
}

// listenURL turns server.listen into a URL this machine can reach.
func listenURL(s config.Server) string {
	scheme := "http"
	if s.TLS.Enabled() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return scheme + "://" + s.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// writeAtomically writes r to path through a temporary file, so a failed
// copy never leaves a half-written backup under the final name.
func writeAtomically(path string, r io.Reader) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("create backup file: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("write backup: %w", err)
	}
	return n, nil
}
