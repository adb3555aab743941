package loadgen

import (
	"errors"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	"loadgen/loadgen/k8s"
	"loadgen/profiles"
)

func kubePodOf(t *testing.T, m *k8s.Manifests) *batchv1.Job {
	t.Helper()
	job, ok := m.Apply[len(m.Apply)-1].(*batchv1.Job)
	if !ok {
		t.Fatalf("the last object is a %T, not a Job", m.Apply[len(m.Apply)-1])
	}
	return job
}

func TestKubeSweep(t *testing.T) {
	p, err := profiles.LoadShipped(profiles.DefaultShipped)
	if err != nil {
		t.Fatal(err)
	}
	pod := k8s.Pod{Namespace: "bench", Image: "img", ResultsClaim: "results"}

	// On Neuron: TP 2 is one device, and the profile's fixed cores are
	// said to override the device plugin's.
	m, warns, err := KubeSweep(Options{Profile: p}, Kube{Pod: pod})
	if err != nil {
		t.Fatal(err)
	}
	job := kubePodOf(t, m)
	c := job.Spec.Template.Spec.Containers[0]
	if q := c.Resources.Limits[k8s.ResourceNeuron]; q.Value() != 1 || *job.Spec.Completions != 4 || job.Name != "loadgen-rerank" {
		t.Errorf("job %s: %d shards, neuron limit %v; want loadgen-rerank, one shard per config (4), one device", job.Name, *job.Spec.Completions, c.Resources.Limits)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `server.neuron_cores "0-1" overrides the NEURON_RT_VISIBLE_CORES`) {
		t.Errorf("warnings %q", warns)
	}
	// The grace period covers the drain, the server's stop grace and the report.
	if g := *job.Spec.Template.Spec.TerminationGracePeriodSeconds; g != 10+30+30 {
		t.Errorf("grace period %d s, want 70", g)
	}

	// Simulated: no device; the pods repeat the simulator's settings and --only.
	m, warns, err = KubeSweep(Options{Profile: p, Simulate: true, Sim: SimOptions{Speed: 5}, Only: []string{"cache_on-bucketing_on", "cache_off-bucketing_on"}}, Kube{Pod: pod, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	c = kubePodOf(t, m).Spec.Template.Spec.Containers[0]
	want := []string{"sweep", "--shard", "$(JOB_COMPLETION_INDEX)/2", "--out", "/results/loadgen-rerank/shard-$(JOB_COMPLETION_INDEX)", "--continue",
		"--simulate", "--sim-speed", "5", "--sim-startup-speed", "60", "--sim-seed", "0", "--only", "cache_on-bucketing_on,cache_off-bucketing_on", "shipped:rerank.yaml"}
	if !slices.Equal(c.Args, want) || len(c.Resources.Limits) != 0 || len(warns) != 0 {
		t.Errorf("simulated pod: args %q, limits %v, warnings %q;\nwant args %q and no device", c.Args, c.Resources.Limits, warns, want)
	}

	// More shards than configurations, a phase that cannot be split: bad input.
	if _, _, err := KubeSweep(Options{Profile: p, Only: []string{"cache_on-bucketing_on"}}, Kube{Pod: pod, Shards: 2}); !errors.Is(err, ErrBadInput) {
		t.Errorf("two shards of one configuration: %v", err)
	}
	if _, _, err := KubeClients(Options{Profile: p}, Kube{Pod: pod}, KubeLoad{URL: "http://x", Phase: "sync"}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "one query at a time") {
		t.Errorf("clients of the sync phase: %v", err)
	}
	// A share of capacity needs the sweep's inf phase: it cannot run alone.
	if _, _, err := KubeClients(Options{Profile: p}, Kube{Pod: pod}, KubeLoad{URL: "http://x", Phase: "poisson-75pct"}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "a share of the capacity phase inf-c4 measures") {
		t.Errorf("clients of poisson-75pct: %v", err)
	}
	m, _, err = KubeClients(Options{Profile: p}, Kube{Pod: pod}, KubeLoad{URL: "http://x", Phase: "inf-c4", Clients: 4})
	if err != nil || *kubePodOf(t, m).Spec.Completions != 4 {
		t.Errorf("four clients of inf-c4: %v", err)
	}
}
