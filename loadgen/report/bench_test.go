package report

import "testing"

// BenchmarkLoadAndRender measures `loadgen report DIR` on the simulated
// fixture: load 4 configs × 4 phases, read the .hlog files, write every
// output.
func BenchmarkLoadAndRender(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		s, err := Load(simDir)
		if err != nil {
			b.Fatal(err)
		}
		if err := Render(dir, s); err != nil {
			b.Fatal(err)
		}
	}
}
