package schema

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockDir: one holder at a time, the second told who holds it; the
// lock goes with Unlock, and a stale lock file is taken over.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, LockFile)); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, %v; want our pid", b, err)
	}
	_, err = LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("is in use by another loadgen (pid %d)", os.Getpid())) {
		t.Fatalf("second LockDir: %v, want LockedError naming pid %d", err, os.Getpid())
	}
	l.Unlock()
	l.Unlock() // twice is harmless
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file stays after Unlock: %v", err)
	}
	// A lock file left by a process that is gone (no flock on it).
	if err := os.WriteFile(filepath.Join(dir, LockFile), []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = LockDir(dir)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	l.Unlock()
}

const lockHelperEnv = "LOADGEN_SCHEMA_LOCK_HELPER"

// TestLockHelperProcess is the child of TestLockDirKilledHolder: it takes
// the lock of the directory named in its environment, says so, and waits
// until its stdin closes (or it is killed).
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := LockDir(dir); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// TestLockDirKilledHolder: a holder killed with SIGKILL leaves its lock
// file, and the kernel its lock: the next writer takes it over.
func TestLockDirKilledHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	_, err = LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Errorf("while the helper holds it: %v, want LockedError naming pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, LockFile)); err != nil {
		t.Fatalf("the killed holder's lock file: %v", err)
	}
	l, err := LockDir(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Unlock()
}

// TestRemoveTempFiles removes what WriteFileAtomic and the phase files
// leave behind, in the directory and its subdirectories, and nothing else.
func TestRemoveTempFiles(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"manifest.json", "c/sync.json", "c/.hidden", "plots/a.svg"}
	drop := []string{".manifest.json.tmp-123", "c/.sync.hlog.tmp-9", "plots/.a.svg.tmp-1"}
	for _, f := range append(append([]string{}, keep...), drop...) {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := RemoveTempFiles(dir)
	if err != nil || n != len(drop) {
		t.Fatalf("removed %d, %v; want %d", n, err, len(drop))
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was removed", f)
		}
	}
}
