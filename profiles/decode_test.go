package profiles

import (
	"encoding/json"
	"io/fs"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSuggest covers the "did you mean" heuristics.
func TestSuggest(t *testing.T) {
	known := fieldNames(reflect.TypeOf(Settings{}))
	tests := []struct{ in, want string }{
		// A typo within a few edits.
		{"max_model_lenght", "max_model_len"},
		// vLLM's flag spelling.
		{"max-num-seqs", "max_num_seqs"},
		// The vLLM name of the same thing.
		{"num_gpu_blocks_override", "pa_num_blocks"},
		// A shorter form of a known key.
		{"prefix_caching", "enable_prefix_caching"},
		// NxDI's key for a setting.
		{"sequence_parallel_enabled", "sequence_parallel"},
		// Nothing close.
		{"colour", ""},
	}
	for _, tc := range tests {
		if got := suggest(tc.in, known); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAnchorsAndMergeKeys: YAML anchors, aliases and << work as YAML says,
// explicit keys win over merged ones, and top-level x- keys may hold the
// anchors.
func TestAnchorsAndMergeKeys(t *testing.T) {
	pl := expand(t, mustParse(t, minimal+`base:
  max_model_len: 2048
x-small: &small
  max_num_seqs: 2
  enable_bucketing: false
x-large: &large
  max_num_seqs: 8
configs:
  - name: a
    <<: *small
    max_num_seqs: 4
  - name: b
    <<: [*large, *small]
  - name: c
    neuron_config: {lora_config: *large}
`))
	a, b, c := pl.Configs[0].Settings, pl.Configs[1].Settings, pl.Configs[2].Settings
	if a.NumSeqs() != 4 || a.Bucketing() {
		t.Errorf("a: explicit max_num_seqs must win over <<: %+v", a)
	}
	if b.NumSeqs() != 8 || b.Bucketing() {
		t.Errorf("b: the first merged mapping wins: %+v", b)
	}
	if m, ok := c.NeuronConfig["lora_config"].(map[string]any); !ok || m["max_num_seqs"] != int64(8) {
		t.Errorf("c: alias in a free map: %v", c.NeuronConfig)
	}
}

// TestAliasBomb: a billion-laughs document is refused quickly with one
// error, not expanded.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("base:\n  neuron_config:\n    bomb: *a9\n")
	start := time.Now()
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "nested too deeply or expands too many aliases") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d) // generous bound: the limit is 50k nodes
	}
}

// TestScalarJSON: durations and rates round-trip through JSON as the
// manifest writes them.
func TestScalarJSON(t *testing.T) {
	type doc struct {
		D Duration `json:"d"`
		R Rate     `json:"r"`
		I Rate     `json:"i"`
	}
	in := doc{Duration(90 * time.Second), 2.5, InfRate}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"1m30s","r":2.5,"i":"inf"}` {
		t.Errorf("JSON %s", b)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip %+v, %v", out, err)
	}
	if _, err := json.Marshal(Rate(math.NaN())); err == nil {
		t.Error("NaN rate marshalled")
	}
	for _, bad := range []string{`"fast"`, `true`} {
		var r Rate
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("rate %s accepted", bad)
		}
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("duration %s accepted", bad)
		}
	}
}

// TestCoreSet counts NEURON_RT_VISIBLE_CORES values and refuses bad ones.
func TestCoreSet(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0-1", 2, true},     // a range
		{"2", 1, true},       // one core
		{"0,1,4-7", 6, true}, // a list of ranges
		{"", 0, true},        // unset
		{"1-0", 0, false},    // reversed
		{"0,0", 0, false},    // repeated
		{"a", 0, false},      // not a number
		{"-1", 0, false},     // negative
	}
	for _, tc := range tests {
		n, err := countCores(tc.in)
		if n != tc.want || (err == nil) != tc.ok {
			t.Errorf("countCores(%q) = %d, %v; want %d, ok %v", tc.in, n, err, tc.want, tc.ok)
		}
	}
}

// TestCommandForms: the server command may be one string or a list.
func TestCommandForms(t *testing.T) {
	for _, cmd := range []string{`command: python3 -m vllm.entrypoints.openai.api_server`, `command: [python3, -m, vllm.entrypoints.openai.api_server]`} {
		p := mustParse(t, minimal+"base:\n  max_model_len: 2048\nserver:\n  "+cmd+"\n")
		if got := strings.Join(p.Server.Command, " "); got != "python3 -m vllm.entrypoints.openai.api_server" {
			t.Errorf("%s: command %q", cmd, got)
		}
	}
}

// TestTypeErrors: each kind of wrong value names what was expected and
// what was found, at the value's line.
func TestTypeErrors(t *testing.T) {
	tests := []struct{ extra, want string }{
		// A list where an integer belongs.
		{"base:\n  max_model_len: [2048]\n", "p.yaml:7: base.max_model_len: want an integer, got a list"},
		// A fraction is not an integer.
		{"base:\n  max_model_len: 2048.5\n", "p.yaml:7: base.max_model_len: want an integer, got 2048.5"},
		// An integer too large for int.
		{"base:\n  max_model_len: 99999999999999999999\n", "p.yaml:7: base.max_model_len: want an integer, got 99999999999999999999"},
		// null where a value is needed.
		{"base:\n  max_model_len: ~\n", "p.yaml:7: base.max_model_len: needs a value"},
		// A mapping where a string belongs.
		{"description: {a: 1}\nbase:\n  max_model_len: 2048\n", "p.yaml:6: description: want a string, got a mapping"},
		// NaN is not a usable number.
		{"base:\n  max_model_len: 2048\nload:\n  - arrival: gamma\n    rate: 1\n    burstiness: .nan\n    queries: 1\n", "p.yaml:11: load[0].burstiness: want a number, got .nan"},
		// NaN cannot go into the --additional-config JSON.
		{"base:\n  max_model_len: 2048\n  neuron_config: {x: .nan}\n", "p.yaml:8: base.neuron_config.x: .nan cannot be written as JSON"},
		// A list where a mapping belongs.
		{"server: [a]\nbase:\n  max_model_len: 2048\n", "p.yaml:6: server: want a mapping of keys to values, got a list"},
		// Keys must be words.
		{"base:\n  max_model_len: 2048\n  env: {[a]: b}\n", "p.yaml:8: base.env: keys must be plain words, got a list"},
		// << needs mappings.
		{"base:\n  <<: 3\n  max_model_len: 2048\n", "p.yaml:7: base: << wants a mapping or a list of mappings, got 3"},
		// The command cannot be empty.
		{"server:\n  command: \"\"\nbase:\n  max_model_len: 2048\n", "p.yaml:7: server.command: must not be empty"},
		// A negative duration.
		{"server:\n  stop_grace: -1s\nbase:\n  max_model_len: 2048\n", "p.yaml:7: server.stop_grace: must not be negative, got -1s"},
		// A long string is cut in the message.
		{"base:\n  max_model_len: " + strings.Repeat("x", 60) + "\n", "p.yaml:7: base.max_model_len: want an integer, got \"" + strings.Repeat("x", 40) + "…\""},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(minimal+tc.extra), "p.yaml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.extra, err, tc.want)
		}
	}
}

// TestShippedFS: the embedded FS holds the profiles at its root.
func TestShippedFS(t *testing.T) {
	for _, name := range ShippedNames() {
		if _, err := fs.Stat(Shipped(), name); err != nil {
			t.Error(err)
		}
	}
}
