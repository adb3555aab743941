package testkit

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records failures; Fatal and Fatalf end
// the goroutine as testing's do.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.msgs = append(r.msgs, "error: "+fmt.Sprintf(f, a...))
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.msgs = append(r.msgs, "fatal: "+fmt.Sprintf(f, a...))
	runtime.Goexit()
}

// run calls f with a recorder in a goroutine of its own and returns what
// it recorded.
func run(t *testing.T, f func(testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msgs
}

// TestGolden checks each outcome of Golden against a golden file: equal,
// different (the first differing line named), missing, and rewritten
// under -update.
func TestGolden(t *testing.T) {
	// The test sets -update itself, whatever the run's flag says.
	defer func(was bool) { *update = was }(*update)
	*update = false
	dir := t.TempDir()
	path := filepath.Join(dir, "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		got  string
		want string // the one message recorded, "" for none
	}{
		// The same bytes pass.
		{"equal", path, "a\nb\nc\n", ""},
		// The first differing line is named and both sides are quoted.
		{"changed line", path, "a\nB\nc\n", "error: " + path + " differs at line 2:\n got: \"B\\n\"\nwant: \"b\\n\"\n(run go test -update if the change is intended)"},
		// A shorter output ends where the golden file goes on.
		{"shorter", path, "a\nb\n", "error: " + path + " differs at line 3:\n got: end of file\nwant: \"c\\n\"\n(run go test -update if the change is intended)"},
		// A missing final newline is a difference on the last line.
		{"no final newline", path, "a\nb\nc", "error: " + path + " differs at line 3:\n got: \"c\"\nwant: \"c\\n\"\n(run go test -update if the change is intended)"},
		// A missing golden file says how to create it.
		{"missing", filepath.Join(dir, "none.golden"), "x", "fatal: open " + filepath.Join(dir, "none.golden") + ": no such file or directory (run go test -update to create it)"},
	}
	for _, tc := range tests {
		msgs := run(t, func(tb testing.TB) { Golden(tb, tc.path, []byte(tc.got)) })
		if tc.want == "" && len(msgs) != 0 || tc.want != "" && (len(msgs) != 1 || msgs[0] != tc.want) {
			t.Errorf("%s: recorded %q, want %q", tc.name, msgs, tc.want)
		}
	}

	// Under -update the file (and its directory) is written, not compared.
	*update = true
	fresh := filepath.Join(dir, "sub", "fresh.golden")
	if msgs := run(t, func(tb testing.TB) { Golden(tb, fresh, []byte("new\n")) }); len(msgs) != 0 || !Updating() {
		t.Fatalf("under -update: recorded %q, Updating %v", msgs, Updating())
	}
	if b, err := os.ReadFile(fresh); err != nil || string(b) != "new\n" {
		t.Errorf("under -update: wrote %q (%v), want %q", b, err, "new\n")
	}
}

// TestSyncBuffer writes from several goroutines and checks that every write
// is kept whole, stamped with the time only by a stamped buffer.
func TestSyncBuffer(t *testing.T) {
	for _, stamped := range []bool{false, true} {
		b := &SyncBuffer{}
		if stamped {
			b = NewStampedBuffer()
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					b.Write([]byte("line\n"))
				}
			})
		}
		wg.Wait()
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 800 {
			t.Fatalf("stamped %v: %d lines, want 800", stamped, len(lines))
		}
		for _, l := range lines {
			// A stamp is seconds and milliseconds: "05.123 ".
			if ok := l == "line" || stamped && len(l) == len("05.000 line") && l[2] == '.' && strings.HasSuffix(l, " line"); !ok || stamped == (l == "line") {
				t.Fatalf("stamped %v: line %q", stamped, l)
			}
		}
	}
}

// TestPorts hands out ports of a small range that no package's tests use:
// each is in the range, free, and no two callers get the same one.
func TestPorts(t *testing.T) {
	p := NewPorts(32000, 32100)
	seen := map[int]bool{}
	for range 20 {
		port := p.Free(t)
		if port < 32000 || port >= 32100 || seen[port] {
			t.Fatalf("port %d: outside [32000, 32100) or handed out twice (%v)", port, seen)
		}
		seen[port] = true
	}
}

// TestCopyDir copies a tree and checks the copy is independent of it.
func TestCopyDir(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a", "b", "f.json"), []byte(`{"n":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := CopyDir(t, src)
	var v struct{ N int }
	ReadJSON(t, filepath.Join(dst, "a", "b", "f.json"), &v)
	if v.N != 1 {
		t.Errorf("copied file reads %+v", v)
	}
	if err := os.WriteFile(filepath.Join(dst, "a", "b", "f.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "a", "b", "f.json")); string(b) != `{"n":1}` {
		t.Errorf("writing the copy changed the source: %q", b)
	}
}

// TestEndless reads more than any buffer from Endless.
func TestEndless(t *testing.T) {
	b, err := io.ReadAll(io.LimitReader(Endless('x'), 1<<20))
	if err != nil || len(b) != 1<<20 || strings.Trim(string(b), "x") != "" {
		t.Errorf("read %d bytes (%v), want 1 MiB of x", len(b), err)
	}
}

// TestEveryTestBinaryLinksTestkit checks that the test binary of every
// package of the module links testkit, so that `go test ./... -update`
// passes a flag each of them defines.
func TestEveryTestBinaryLinksTestkit(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(gobin, "list", "-test", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	binaries := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if !strings.HasSuffix(pkg, ".test") {
			continue
		}
		binaries++
		linked := false
		for _, d := range strings.Fields(deps) {
			linked = linked || d == "loadgen/loadgen/testkit" || strings.HasPrefix(d, "loadgen/loadgen/testkit ")
		}
		if !linked && pkg != "loadgen/loadgen/testkit.test" {
			t.Errorf("%s does not link loadgen/loadgen/testkit: go test ./... -update would fail there (import it, blank if nothing else)", pkg)
		}
	}
	if binaries < 10 {
		t.Errorf("go list found %d test binaries; the module has more", binaries)
	}
}
