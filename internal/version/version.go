// Package version is the build identity of the project's commands: the
// version, commit and build date that ci/build-images.sh stamps in with
//
//	go build -ldflags "-X github.com/smpp-connector/smpp-connector/internal/version.Version=... \
//	                   -X .../internal/version.Commit=... -X .../internal/version.Date=..."
//
// and, for a plain `go build` or `go install`, what the Go toolchain records
// of the checkout (runtime/debug.ReadBuildInfo: the module version it derives
// from the VCS, vcs.revision, vcs.time, vcs.modified).
//
// It imports nothing of the project, so both the connector and the simulator
// (which must never link connector code) may use it.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time with -ldflags -X; empty in a plain build.
var (
	// Version is `git describe --always --dirty` of the checkout built.
	Version string
	// Commit is the full commit hash.
	Commit string
	// Date is the build date, RFC 3339 in UTC (ci/build-images.sh uses the
	// commit's date, so that the same commit gives the same binary).
	Date string
)

// Info is the build identity of the running binary.
type Info struct {
	Version   string // "dev" when nothing is known
	Commit    string // "unknown" when nothing is known
	Date      string // "unknown" when nothing is known
	Modified  bool   // built from a checkout with uncommitted changes
	GoVersion string // runtime.Version()
	Platform  string // GOOS/GOARCH
}

// Get returns the stamped values, falling back to the build information the
// Go toolchain embedded for what was not stamped.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(Version, Commit, Date, bi)
}

func get(version, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, Date: date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info.Modified = strings.HasSuffix(version, "-dirty")
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
			info.Modified = strings.HasSuffix(bi.Main.Version, "+dirty")
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				if version == "" && s.Value == "true" {
					info.Modified = true
				}
			}
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
	}
	if info.Version == "" {
		info.Version = "dev"
		if info.Commit != "" {
			info.Version = shortCommit(info.Commit)
			if info.Modified {
				info.Version += "-dirty"
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// String is the one line the `version` commands print, e.g.
//
//	smscsim v1.2.0-3-g3f8d898 (commit 3f8d898..., built 2026-12-07T13:36:19Z, go1.26.8 linux/amd64)
func (i Info) String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, built %s, %s %s)", program, i.Version, i.Commit, i.Date, i.GoVersion, i.Platform)
}
