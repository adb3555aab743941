package k8s

import (
	"strings"
	"testing"
)

func TestNeuronFor(t *testing.T) {
	tests := []struct {
		tp        int
		scheduler string
		want      Neuron
		warn, err string
	}{
		{1, "", Neuron{ResourceNeuronCore, 1}, "", ""},                // one core
		{2, "", Neuron{ResourceNeuron, 1}, "", ""},                    // one whole device: no extension needed
		{8, "", Neuron{ResourceNeuron, 4}, "scheduler extension", ""}, // adjacent devices need the extension
		{8, "my-scheduler", Neuron{ResourceNeuron, 4}, "", ""},        // … which was given
		{24, "my-scheduler", Neuron{ResourceNeuron, 12}, "", ""},      // inf2.48xlarge: all twelve
		{3, "", Neuron{}, "", "one NeuronCore or whole devices"},      // odd TP above 1
		{0, "", Neuron{}, "", "one NeuronCore or whole devices"},      // nonsense
	}
	for _, tt := range tests {
		got, warn, err := NeuronFor(tt.tp, tt.scheduler)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("TP %d: error %v, want one containing %q", tt.tp, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("TP %d: %v, %v; want %v", tt.tp, got, err, tt.want)
		}
		if (tt.warn == "") != (warn == "") || !strings.Contains(warn, tt.warn) {
			t.Errorf("TP %d: warning %q, want one containing %q", tt.tp, warn, tt.warn)
		}
	}
}

func TestNameFor(t *testing.T) {
	tests := []struct{ profile, want string }{
		{"rerank", "loadgen-rerank"},                                            // plain
		{"Rerank_Buckets.v2", "loadgen-rerank-buckets-v2"},                      // case, underscores, dots
		{"a--b__", "loadgen-a-b"},                                               // runs collapse, no trailing dash
		{strings.Repeat("x", 80), "loadgen-" + strings.Repeat("x", 32)},         // cut to 40
		{strings.Repeat("x", 31) + "_yy", "loadgen-" + strings.Repeat("x", 31)}, // a cut that ends on a dash
	}
	for _, tt := range tests {
		got := NameFor(tt.profile)
		if got != tt.want {
			t.Errorf("NameFor(%q) = %q, want %q", tt.profile, got, tt.want)
		}
		if err := CheckName(got); err != nil {
			t.Errorf("NameFor(%q) = %q: %v", tt.profile, got, err)
		}
	}
}

func TestRefused(t *testing.T) {
	ok := Sweep{Name: "loadgen-x", Pod: testPod(), Profile: Profile{Shipped: "shipped:rerank.yaml"}, Shards: 1}
	tests := []struct {
		name string
		edit func(s *Sweep)
		want string
	}{
		{"bad name", func(s *Sweep) { s.Name = "Loadgen_X" }, "RFC 1123"},
		{"long name", func(s *Sweep) { s.Name = strings.Repeat("a", 41) }, "at most 40"},
		{"no image", func(s *Sweep) { s.Pod.Image = "" }, "an image is required"},
		{"bad namespace", func(s *Sweep) { s.Pod.Namespace = "a.b" }, "namespace"},
		{"no claim", func(s *Sweep) { s.Pod.ResultsClaim = "" }, "results claim is required"},
		{"bad selector", func(s *Sweep) { s.Pod.NodeSelector = map[string]string{"a b": "c"} }, "node selector"},
		{"no shards", func(s *Sweep) { s.Shards = 0 }, "shards"},
		{"no profile", func(s *Sweep) { s.Profile = Profile{} }, "no profile"},
		{"model claim without path", func(s *Sweep) { s.ModelClaim = "m" }, "model's path"},
		{"dataset above the profile", func(s *Sweep) {
			s.Profile = Profile{File: File{Path: "p.yaml"}, Dataset: &File{Path: "../d.csv"}}
		}, "below the profile's directory"},
		{"too large for a ConfigMap", func(s *Sweep) {
			s.Profile = Profile{File: File{Path: "p.yaml"}, Dataset: &File{Path: "d.csv", Data: make([]byte, 1<<20+1)}}
		}, "at most 1048576"},
	}
	for _, tt := range tests {
		s := ok
		tt.edit(&s)
		_, err := s.Objects()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	c := Clients{Name: "loadgen-x", Pod: testPod(), Profile: Profile{Shipped: "shipped:rerank.yaml"}, URL: "http://x", Phase: "p", Clients: 2}
	for _, edit := range []struct {
		name string
		f    func(c *Clients)
		want string
	}{
		{"no url", func(c *Clients) { c.URL = "" }, "URL is required"},    // nothing to load
		{"no phase", func(c *Clients) { c.Phase = "" }, "phase to split"}, // which phase?
		{"no clients", func(c *Clients) { c.Clients = 0 }, "clients"},     // nobody sends
	} {
		cc := c
		edit.f(&cc)
		if _, err := cc.Objects(); err == nil || !strings.Contains(err.Error(), edit.want) {
			t.Errorf("%s: error %v, want one containing %q", edit.name, err, edit.want)
		}
	}
}
