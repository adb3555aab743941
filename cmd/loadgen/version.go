package main

import (
	"runtime/debug"
	"strings"
)

// version is loadgen's version: what `loadgen --version` prints and what
// the manifest records as loadgen_version.
var version = buildVersion(debug.ReadBuildInfo())

// buildVersion describes the binary from the build information the Go
// toolchain stamps into it: the main module's version ("devel" when it
// has none), then, when the build recorded them, the VCS revision
// (abbreviated, "+dirty" if the work tree had uncommitted changes) and
// the time of that commit. Go records no build time, and go run and
// -buildvcs=false record no VCS information; the string says so rather
// than guess:
//
//	v0.3.1 (git 6f4e143e8d0e, committed 2025-11-05T20:20:44Z)
//	v0.0.0-20251105202044-6f4e143e8d0e+dirty (git 6f4e143e8d0e+dirty, committed 2025-11-05T20:20:44Z)
//	devel (no VCS information in this build)
func buildVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "unknown (no build information in this binary)"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	vcs := map[string]string{} // "vcs" → git, "vcs.revision" → revision, …
	for _, s := range info.Settings {
		if s.Key == "vcs" || strings.HasPrefix(s.Key, "vcs.") {
			vcs[strings.TrimPrefix(strings.TrimPrefix(s.Key, "vcs"), ".")] = s.Value
		}
	}
	rev := vcs["revision"]
	if rev == "" {
		return v + " (no VCS information in this build)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if vcs["modified"] == "true" {
		rev += "+dirty"
	}
	tool := vcs[""]
	if tool == "" {
		tool = "vcs"
	}
	v += " (" + tool + " " + rev
	if t := vcs["time"]; t != "" {
		v += ", committed " + t
	}
	return v + ")"
}
