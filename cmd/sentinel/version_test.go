package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildInfoFromStamp(t *testing.T) {
	stamped := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.0.0-20261204203550-e62aebcac796+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "e62aebcac79698c07f406950d98a510cd583913c"},
			{Key: "vcs.time", Value: "2026-12-04T20:35:50Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	b := buildInfoFrom("dev", "", stamped)
	if b.Version != "v0.0.0-20261204203550-e62aebcac796+dirty" || b.Commit != "e62aebcac79698c07f406950d98a510cd583913c" ||
		b.BuildTime != "2026-12-04T20:35:50Z" || !b.Modified {
		t.Errorf("from the toolchain's stamp: %+v", b)
	}
	// Link-time values win over the stamp.
	if b := buildInfoFrom("1.2.3", "abc", stamped); b.Version != "1.2.3" || b.Commit != "abc" {
		t.Errorf("link-time values: %+v", b)
	}
	// `go run` and -buildvcs=false: nothing stamped.
	if b := buildInfoFrom("dev", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); b.Version != "dev" || b.Commit != "unknown" || b.Modified {
		t.Errorf("unstamped: %+v", b)
	}
	if b := buildInfoFrom("dev", "", nil); b.Commit != "unknown" {
		t.Errorf("no build info: %+v", b)
	}
}
