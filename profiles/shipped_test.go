package profiles

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestShipped loads and expands every shipped profile: each must be valid,
// warning-free and able to open its dataset.
func TestShipped(t *testing.T) {
	names := ShippedNames()
	if !slices.Contains(names, DefaultShipped) || len(names) < 2 {
		t.Fatalf("ShippedNames() = %v, want %s and at least one more", names, DefaultShipped)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := loadShippedForTest(t, name)
			if p.Path != "shipped:"+name {
				t.Errorf("Path = %q", p.Path)
			}
			pl := expand(t, p)
			if len(pl.Configs) == 0 {
				t.Fatal("no configs")
			}
			if len(pl.Warnings) > 0 {
				t.Errorf("plan warnings: %q", pl.Warnings)
			}
			for _, c := range pl.Configs {
				if len(c.Warnings) > 0 {
					t.Errorf("config %s warnings: %q", c.Name, c.Warnings)
				}
				if len(c.Server.Argv) == 0 || c.ArtifactsDir == "" {
					t.Errorf("config %s: no argv or artifacts dir", c.Name)
				}
			}
			if p.Workload.IsSynthetic() {
				return
			}
			r, err := p.Workload.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			if err != nil || len(b) == 0 {
				t.Errorf("dataset %s: %d bytes, %v", p.Workload.Dataset, len(b), err)
			}
		})
	}
}

// TestRerankShape pins the shape of rerank.yaml and its long form: the
// offline benchmark's four configs and workload, a sync phase first, an
// inf phase with a cap for the capacity, then a search for the capacity at
// the SLO bounded by it and seeded by the sync phase, and open-loop phases
// at shares of that capacity.
func TestRerankShape(t *testing.T) {
	for _, name := range []string{"rerank.yaml", "rerank-long.yaml"} {
		t.Run(name, func(t *testing.T) { rerankShape(t, name) })
	}
}

func rerankShape(t *testing.T, name string) {
	p := loadShippedForTest(t, name)
	pl := expand(t, p)
	var names []string
	for _, c := range pl.Configs {
		names = append(names, c.Name)
		s := c.Settings
		if s.ModelLen() != 2048 || *s.BlockSize != 32 || s.NumSeqs() != 4 || *s.MaxNumBatchedTokens != 256 {
			t.Errorf("%s: settings %+v differ from the offline base_config", c.Name, s)
		}
		if s.PrefixCaching() && s.NumBlocks() != 512 {
			t.Errorf("%s: pa_num_blocks %d, want the offline 512", c.Name, s.NumBlocks())
		}
	}
	want := []string{"cache_on-bucketing_on", "cache_on-bucketing_off", "cache_off-bucketing_on", "cache_off-bucketing_off"}
	if !slices.Equal(names, want) {
		t.Errorf("configs %v, want %v", names, want)
	}
	w := p.Workload
	if w.SearchNum != 20 || w.TopN != 6 || w.BatchSize != 8 || w.MaxLength != 1500 || w.Instruction != DefaultInstruction {
		t.Errorf("workload %+v differs from the offline run's", w)
	}
	if p.TensorParallelSize != 2 || p.Model != "/models/Qwen3-Reranker-0.6B" {
		t.Errorf("model %s TP %d", p.Model, p.TensorParallelSize)
	}
	var arrivals []string
	for _, ph := range p.Load {
		arrivals = append(arrivals, ph.Arrival)
		if ph.Arrival == ArrivalInf && ph.MaxConcurrency == 0 {
			t.Errorf("phase %s: inf without a cap", ph.Name)
		}
	}
	if arrivals[0] != ArrivalSync || !p.Load[0].OnePass() {
		t.Errorf("first phase %+v, want a sync pass over the dataset", p.Load[0])
	}
	if len(p.Load) < 4 || p.Load[1].Arrival != ArrivalInf {
		t.Fatalf("arrivals %v, want sync, inf, a search and shares of capacity", arrivals)
	}
	search, shares := 0, 0
	for _, ph := range p.Load[2:] {
		switch {
		case ph.Search != nil:
			search++
			if ph.Capacity != p.Load[1].Name || ph.Search.Unloaded != p.Load[0].Name || !ph.SaturationStop || ph.Search.Max == 0 {
				t.Errorf("search %s: upper bound from %q, unloaded from %q, saturation stop %v, max %s", ph.Name,
					ph.Capacity, ph.Search.Unloaded, ph.SaturationStop, ph.Search.Max)
			}
		case ph.Rate.Relative():
			shares++
			if ph.Capacity != p.Load[1].Name {
				t.Errorf("phase %s: a share of %q", ph.Name, ph.Capacity)
			}
		default:
			t.Errorf("phase %s is neither a search nor a share of capacity", ph.Name)
		}
	}
	if search != 1 || shares == 0 {
		t.Errorf("%d searches, %d shares of capacity; want one search and shares", search, shares)
	}
}

// TestShippedOnDisk loads the shipped profiles from a directory, as
// `loadgen sweep profiles/rerank.yaml` does: the dataset path is resolved
// against the profile's directory.
func TestShippedOnDisk(t *testing.T) {
	dir := t.TempDir()
	fsys := shippedFS(t)
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ShippedNames() {
		p, err := Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if p.Workload.IsSynthetic() {
			continue
		}
		if want := filepath.Join(dir, "data"); filepath.Dir(p.Workload.Dataset) != want {
			t.Errorf("%s: dataset %s, want it under %s", name, p.Workload.Dataset, want)
		}
		r, err := p.Workload.Open()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
}

// TestLoadShipped checks name handling, and that the default profile loads
// from the binary once the sample dataset is in the tree (before that, the
// error names the missing embedded file).
func TestLoadShipped(t *testing.T) {
	for _, bad := range []string{"nope", "../rerank", "data/insurance"} {
		if _, err := LoadShipped(bad); err == nil || !strings.Contains(err.Error(), "shipped profiles are generate.yaml, rerank-buckets.yaml, rerank-long.yaml, rerank.yaml") {
			t.Errorf("LoadShipped(%q) = %v, want an error listing the shipped profiles", bad, err)
		}
	}
	p, err := LoadShipped("rerank")
	if err != nil {
		t.Fatal(err)
	}
	if p.Workload.Dataset != "shipped:data/insurance.csv" {
		t.Errorf("Dataset = %q", p.Workload.Dataset)
	}
	r, err := p.Workload.Open()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// TestOpenWithoutDataset: a synthetic workload has nothing to open.
func TestOpenWithoutDataset(t *testing.T) {
	p := loadShippedForTest(t, "generate.yaml")
	if _, err := p.Workload.Open(); err == nil {
		t.Error("Open of a synthetic workload succeeded")
	}
}

// TestReadmeExample: the rerank.yaml shown in README.md, condensed, is the
// same profile as the shipped file (same resolved content, same hash).
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\nname: rerank\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no rerank.yaml block")
	}
	fsys := shippedFS(t).(fstest.MapFS)
	fsys["readme.yaml"] = &fstest.MapFile{Data: []byte("name: rerank\n" + block)}
	readme, err := loadFS(fsys, "readme.yaml", "shipped:readme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readme.Hash(), loadShippedForTest(t, "rerank.yaml").Hash(); got != want {
		t.Errorf("README's rerank.yaml differs from profiles/rerank.yaml (hash %s vs %s)", got, want)
	}
}
