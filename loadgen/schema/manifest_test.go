package schema

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "loadgen/loadgen/testkit" // -update: go test ./... -update passes it to every test binary
)

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{
		SchemaVersion: ManifestSchemaVersion, Profile: "p", ProfilePath: "p.yaml", ProfileHash: "h",
		ResolvedProfile: json.RawMessage(`{"a":1}`), LoadgenVersion: "v1", Host: CurrentHost(),
		Simulated: true, Sim: &SimInfo{SpeedFactor: 10, Seed: 3},
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Status: SweepRunning,
		Configs: []ConfigStatus{{Name: "c", Status: StatusRunning, Settings: json.RawMessage(`{"enable_bucketing":true}`),
			Phases: []PhaseStatus{{Name: "sync", Status: StatusPending}}}},
	}
	if err := WriteJSONAtomic(filepath.Join(dir, ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !strings.HasPrefix(string(raw), "{\n  \"schema_version\": 1,") {
		t.Errorf("schema_version must come first:\n%s", raw)
	}
	if strings.Contains(string(raw), "ended_at") {
		t.Error("a running sweep has no ended_at")
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	// RawMessage is re-indented by the encoder; compare it compacted.
	got.ResolvedProfile, m.ResolvedProfile = nil, nil
	got.Configs[0].Settings, m.Configs[0].Settings = nil, nil
	if !reflect.DeepEqual(*got, m) {
		t.Errorf("round trip:\n got %+v\nwant %+v", *got, m)
	}
	if c := got.Config("c"); c == nil || c.Phase("sync") == nil || got.Config("x") != nil || c.Phase("x") != nil {
		t.Error("Config/Phase lookups")
	}
}

func TestReadManifestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		// Not JSON: the error names the file.
		{"corrupt", "{", "manifest.json"},
		// Written by a newer loadgen: refuse rather than misread.
		{"newer", `{"schema_version": 99}`, "newer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ManifestFile), []byte(tc.content), 0o644)
			if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := ReadManifest(t.TempDir()); err == nil {
		t.Error("missing manifest must be an error")
	}
}

func TestCurrentHost(t *testing.T) {
	h := CurrentHost()
	if h.OS != runtime.GOOS || h.Arch != runtime.GOARCH || h.CPUs < 1 || h.GoVersion == "" {
		t.Errorf("CurrentHost() = %+v", h)
	}
}

func TestFilePaths(t *testing.T) {
	if got := PhaseFile("c", "sync"); got != filepath.Join("c", "sync.json") {
		t.Error(got)
	}
	if got := HlogFile("c", "sync"); got != filepath.Join("c", "sync.hlog") {
		t.Error(got)
	}
	if got := StartupFile("c"); got != filepath.Join("c", "startup.json") {
		t.Error(got)
	}
}

// TestReadStartup reads a written startup record back and checks the
// errors of a missing and of a corrupt one.
func TestReadStartup(t *testing.T) {
	dir := t.TempDir()
	want := Startup{SchemaVersion: 1, Config: "c", PID: 42, Ready: true, ReadySeconds: 1.5, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"c": b, "corrupt": []byte("[]")} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, StartupFile(name)), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ReadStartup(dir, "c"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadStartup = %+v, %v; want %+v", got, err, want)
	}
	// Never written: an error that says so, for callers that tolerate it.
	if _, err := ReadStartup(dir, "none"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "read startup record") {
		t.Errorf("missing record: %v, want an error wrapping fs.ErrNotExist", err)
	}
	// Not a record: an error naming the file.
	if _, err := ReadStartup(dir, "corrupt"); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "corrupt", "startup.json")) {
		t.Errorf("corrupt record: %v, want an error naming the file", err)
	}
}

func TestNeedsRun(t *testing.T) {
	m := &Manifest{Configs: []ConfigStatus{{Name: "a", Status: StatusFailed, Phases: []PhaseStatus{
		{Name: "sync", Status: StatusOK}, {Name: "stress", Status: StatusFailed}, {Name: "p", Status: StatusInterrupted}}}}}
	for _, tc := range []struct {
		config, phase string
		want          bool
	}{
		{"a", "sync", false},  // finished ok: keep it
		{"a", "stress", true}, // failed: run again
		{"a", "p", true},      // interrupted: run again
		{"a", "new", true},    // not in the manifest
		{"b", "sync", true},   // config not in the manifest
	} {
		if got := m.NeedsRun(tc.config, tc.phase); got != tc.want {
			t.Errorf("NeedsRun(%s, %s) = %t, want %t", tc.config, tc.phase, got, tc.want)
		}
	}
}
