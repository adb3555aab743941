package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// parseCores parses NEURON_RT_VISIBLE_CORES: "2", "0-1", "0,1", "0-3,6".
func parseCores(spec string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("invalid NEURON_RT_VISIBLE_CORES %q", spec)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("invalid NEURON_RT_VISIBLE_CORES %q", spec)
			}
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// coreRange renders cores as the runtime does in its messages ("nc0-nc1").
func coreRange(cores []int) string {
	if len(cores) == 0 {
		return ""
	}
	lo, hi := cores[0], cores[len(cores)-1]
	if hi-lo+1 == len(cores) {
		return fmt.Sprintf("nc%d-nc%d", lo, hi)
	}
	parts := make([]string, len(cores))
	for i, c := range cores {
		parts[i] = "nc" + strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// CoreLockDir is where simulators hold one flock'd file per NeuronCore, so
// two live simulators cannot share cores, as two Neuron runtimes cannot.
// The kernel releases a lock when its process dies.
func CoreLockDir() string { return filepath.Join(os.TempDir(), "loadgen-sim-cores") }

// coreLocks holds the lock files of the cores this process owns.
type coreLocks struct{ files []*os.File }

// acquireCores locks every core or none; busy lists the cores another live
// process holds.
func acquireCores(cores []int) (locks *coreLocks, busy []int, err error) {
	dir := CoreLockDir()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, nil, fmt.Errorf("core lock directory: %w", err)
	}
	locks = &coreLocks{}
	for _, c := range cores {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("nc%d.lock", c)), os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			locks.release()
			return nil, nil, fmt.Errorf("core lock nc%d: %w", c, err)
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			locks.release()
			return nil, nil, fmt.Errorf("core lock nc%d: %w", c, err)
		}
		if !ok {
			f.Close()
			busy = append(busy, c)
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		locks.files = append(locks.files, f)
	}
	if len(busy) > 0 {
		locks.release()
		return nil, busy, nil
	}
	return locks, nil, nil
}

// release unlocks and closes every lock file; it is idempotent.
func (l *coreLocks) release() {
	if l == nil {
		return
	}
	for _, f := range l.files {
		unlock(f)
		f.Close()
	}
	l.files = nil
}
