package profiles

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"loadgen/loadgen/testkit"
)

// TestDryRunGolden pins the dry-run text of rerank.yaml: the commands of
// its four configs exactly as a user would copy them.
func TestDryRunGolden(t *testing.T) {
	var b bytes.Buffer
	if err := expand(t, loadShippedForTest(t, "rerank.yaml")).DryRun(&b); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join("testdata", "rerank.dryrun.golden"), b.Bytes())
}

// TestDryRunWarningsAndRemote: warnings are printed under their config and
// a remote server is named instead of a command.
func TestDryRunWarningsAndRemote(t *testing.T) {
	var b bytes.Buffer
	p := mustParse(t, minimal+"base:\n  max_model_len: 2048\n  max_num_seqs: 4\n  pa_num_blocks: 8\n")
	if err := expand(t, p).DryRun(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# warning: p.yaml: server: neuron_cores is not set",
		"--no-enable-prefix-caching \\\n",
		"# warning: p.yaml:9: base.pa_num_blocks: config base: is 8, but without prefix caching",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	p = mustParse(t, minimal+"base:\n  max_model_len: 2048\nserver:\n  url: https://rr.example:8443/\n")
	if err := expand(t, p).DryRun(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# remote server https://rr.example:8443/: nothing is launched\n") || strings.Contains(b.String(), "vllm serve") {
		t.Errorf("remote dry run:\n%s", b.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDryRunWriteError: a failing writer is reported, not ignored.
func TestDryRunWriteError(t *testing.T) {
	err := expand(t, loadShippedForTest(t, "rerank.yaml")).DryRun(failWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("DryRun to a failing writer: %v", err)
	}
}
