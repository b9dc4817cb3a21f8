package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestStampedValuesWin(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v0.0.0-x+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "ffff"}, {Key: "vcs.time", Value: "2000-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := get("v1.2.3-4-gabcdef0", "abcdef0123", "2026-12-07T13:00:00Z", bi)
	want := Info{Version: "v1.2.3-4-gabcdef0", Commit: "abcdef0123", Date: "2026-12-07T13:00:00Z", GoVersion: "go1.99", Platform: got.Platform}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	line := got.String("smscsim")
	for _, s := range []string{"smscsim v1.2.3-4-gabcdef0", "commit abcdef0123", "built 2026-12-07T13:00:00Z", "go1.99"} {
		if !strings.Contains(line, s) {
			t.Errorf("%q lacks %q", line, s)
		}
	}
}

func TestBuildInfoFallback(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := get("", "", "", bi)
	if got.Version != "0123456789ab-dirty" || got.Commit != "0123456789abcdef0123" || got.Date != "2026-01-02T03:04:05Z" || !got.Modified {
		t.Fatalf("got %+v", got)
	}
	bi.Main.Version = "v0.0.0-20260102030405-0123456789ab+dirty"
	if got := get("", "", "", bi); got.Version != bi.Main.Version || !got.Modified {
		t.Fatalf("module version not used: %+v", got)
	}
}

func TestNothingKnown(t *testing.T) {
	got := get("", "", "", nil)
	if got.Version != "dev" || got.Commit != "unknown" || got.Date != "unknown" || got.GoVersion == "" {
		t.Fatalf("got %+v", got)
	}
}
