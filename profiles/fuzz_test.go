package profiles

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; an
// accepted profile must expand, dry-run and hash deterministically, and
// its phases must resolve again to themselves (what pre-flight checks); a
// refused one must come back as *Error values naming the file.
func FuzzParse(f *testing.F) {
	for _, name := range ShippedNames() {
		b, err := fs.ReadFile(shipped, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimal + "base: {max_model_len: 2048}\nmatrix: {max_num_seqs: [1, 2], name: '{max_num_seqs}'}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The dataset paths of the seeds are relative to testdata.
		p, err := Parse(data, "testdata/fuzz.yaml")
		if err != nil {
			for _, e := range leafErrors(err) {
				var pe *Error
				if !errors.As(e, &pe) || pe.File != "testdata/fuzz.yaml" {
					t.Fatalf("%v (%T) is not an *Error naming the file", e, e)
				}
			}
			return
		}
		pl, err := p.expand(ExpandOptions{}, false)
		if err != nil {
			t.Fatalf("Parse accepted a profile that Expand refuses: %v", err)
		}
		if err := pl.DryRun(io.Discard); err != nil {
			t.Fatal(err)
		}
		if h1, h2 := p.Hash(), p.Hash(); h1 != h2 {
			t.Fatal("Hash is not deterministic")
		}
		env := PhaseEnv{SLO: p.SLO, Synthetic: p.Workload.IsSynthetic()}
		for _, ph := range p.Load {
			if again, probs := ResolvePhase(writtenOf(ph), env, ProfileKeys); len(probs) > 0 || !reflect.DeepEqual(again, ph) {
				t.Fatalf("phase %s resolves again to %+v, %+v", ph.Name, again, probs)
			}
		}
		for _, c := range pl.Configs {
			if err := checkName(c.Name); err != nil {
				t.Fatalf("config name: %v", err)
			}
		}
	})
}
