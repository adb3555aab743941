package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"loadgen/loadgen/k8s"
	"loadgen/loadgen/schema"
	"loadgen/loadgen/testkit"
	"loadgen/server/servertest"
	"loadgen/server/sim"
)

// readManifests reads the YAML documents of a manifests file strictly into their
// types and returns the ConfigMap (nil if none) and the Job.
func readManifests(t *testing.T, path string) (*corev1.ConfigMap, *batchv1.Job) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cm *corev1.ConfigMap
	var job *batchv1.Job
	for _, doc := range strings.Split(string(b), "---\n")[1:] {
		if strings.Contains(doc, "\nkind: ConfigMap\n") {
			cm = &corev1.ConfigMap{}
			if err := yaml.UnmarshalStrict([]byte(doc), cm); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			continue
		}
		job = &batchv1.Job{}
		if err := yaml.UnmarshalStrict([]byte(doc), job); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if job == nil {
		t.Fatalf("%s holds no Job", path)
	}
	return cm, job
}

// configMapDir writes the ConfigMap's files where the Job's pods would
// find them, in a directory that stands for the ConfigMap's mount.
func configMapDir(t *testing.T, cm *corev1.ConfigMap, job *batchv1.Job) string {
	t.Helper()
	dir := t.TempDir()
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		for _, it := range v.ConfigMap.Items {
			p := filepath.Join(dir, it.Path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(cm.Data[it.Key]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// asPod rewrites a pod's arguments for this machine: its index, the
// results claim's mount and the ConfigMap's mount become local paths.
func asPod(args []string, index int, results, profileDir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "$("+k8s.IndexEnv+")", strconv.Itoa(index))
		a = strings.Replace(a, k8s.ResultsMount, results, 1)
		out[i] = strings.Replace(a, k8s.ProfileMount, profileDir, 1)
	}
	return out
}

// TestK8sSweepOnTheSimulator writes the manifests of a simulated sweep in
// two shards, runs each pod's command line here (index, claim and
// ConfigMap mapped to local directories), then the merge Job's, and
// checks the merged sweep: every configuration ok, report --check clean.
// A merge of shards of different profiles is refused with exit 2.
func TestK8sSweepOnTheSimulator(t *testing.T) {
	t.Parallel()
	profile := servertest.WriteProfile(t, "four", fourConfigs)
	kdir := filepath.Join(t.TempDir(), "k8s")
	r := runCLI(t, append([]string{"k8s", "--image", "registry.example/loadgen:test", "--namespace", "bench",
		"--shards", "2", "--out", kdir, profile}, simArgs...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "kubectl apply -f "+filepath.Join(kdir, "job.yaml")) {
		t.Fatalf("k8s: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cm, job := readManifests(t, filepath.Join(kdir, "job.yaml"))
	if cm == nil || *job.Spec.Completions != 2 || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("job.yaml: configmap %v, completions %v, mode %v", cm != nil, job.Spec.Completions, job.Spec.CompletionMode)
	}
	profileDir := configMapDir(t, cm, job)
	results := t.TempDir()
	ctr := job.Spec.Template.Spec.Containers[0]
	for i := range 2 {
		args := asPod(ctr.Args, i, results, profileDir)
		if r := runChild(t, args...); r.code != exitOK {
			t.Fatalf("pod %d: loadgen %s: exit %d\n%s", i, strings.Join(args, " "), r.code, r.stderr)
		}
	}
	_, mergeJob := readManifests(t, filepath.Join(kdir, "merge.yaml"))
	args := asPod(mergeJob.Spec.Template.Spec.Containers[0].Args, 0, results, profileDir)
	if r := runCLI(t, args...); r.code != exitOK || !strings.Contains(r.stdout, "4 configuration(s)") {
		t.Fatalf("merge job: loadgen %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	merged := filepath.Join(results, job.Name, "merged")
	m, err := schema.ReadManifest(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Configs) != 4 || m.Status != schema.SweepCompleted || len(m.MergedFrom) != 2 {
		t.Errorf("merged manifest: %d configs, %s, merged from %d", len(m.Configs), m.Status, len(m.MergedFrom))
	}
	if r := runCLI(t, "report", "--check", merged); r.code != exitOK {
		t.Errorf("report --check on the merged sweep: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "compare", merged, testkit.CopyDir(t, merged)); r.code != exitOK {
		t.Errorf("compare on the merged sweep: exit %d\n%s", r.code, r.stderr)
	}

	// Shards of another profile do not mix.
	other := servertest.WriteProfile(t, "other", strings.Replace(fourConfigs, "rate: 20", "rate: 10", 1))
	otherShard := filepath.Join(t.TempDir(), "other")
	if r := runChild(t, append([]string{"sweep", "--shard", "1/2", "--out", otherShard, "--only", "cache_on-bucketing_on,cache_off-bucketing_on", other}, simArgs...)...); r.code != exitOK {
		t.Fatalf("other shard: exit %d\n%s", r.code, r.stderr)
	}
	r = runCLI(t, "merge", filepath.Join(t.TempDir(), "mixed"), filepath.Join(results, job.Name, "shard-0"), otherShard)
	if r.code != exitUsage || !strings.Contains(r.stderr, "ran different profiles") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("merging shards of two profiles: exit %d, stderr %q; want 2 and one line naming the profiles", r.code, r.stderr)
	}
}

// latencySim serves the simulator in this process, with its calibrated
// latencies 20× faster: a server that both clients of a test load at once.
func latencySim(t *testing.T) *httptest.Server {
	t.Helper()
	opts, err := sim.ParseArgs([]string{"/models/Qwen3-Reranker-0.6B", "--served-model-name", "qwen3-reranker",
		"--max-model-len", "2048", "--max-num-seqs", "8", "--no-enable-prefix-caching",
		"--additional-config", `{"override_neuron_config":{"on_device_sampling_config":null}}`}, []string{"LOADGEN_SIM_SPEED=20"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// splitProfile adds a phase split across two clients to fourConfigs.
const splitProfile = fourConfigs + `  - name: split
    arrival: poisson
    rate: 40
    queries: 40
    seed: 9
    clients: 2
`

// TestK8sClientsOnTheSimulator writes the manifests that split a phase
// across client pods against a server's URL, runs the pods' command lines
// here at once (index, claim and ConfigMap mapped to local directories),
// then the merge Job's: one merged phase of the whole rate.
func TestK8sClientsOnTheSimulator(t *testing.T) {
	t.Parallel()
	srv := latencySim(t)
	profile := servertest.WriteProfile(t, "split", splitProfile)
	kdir := filepath.Join(t.TempDir(), "k8s")
	r := runCLI(t, "k8s", "--image", "registry.example/loadgen:test", "--url", srv.URL, "--phase", "split", "--out", kdir, profile)
	if r.code != exitOK {
		t.Fatalf("k8s: exit %d\n%s", r.code, r.stderr)
	}
	cm, job := readManifests(t, filepath.Join(kdir, "job.yaml"))
	if *job.Spec.Completions != 2 || *job.Spec.Parallelism != 2 || len(job.Spec.Template.Spec.Containers[0].Resources.Limits) != 0 {
		t.Fatalf("clients Job: completions %d parallelism %d limits %v; want 2 pods at once (the phase's clients), no device",
			*job.Spec.Completions, *job.Spec.Parallelism, job.Spec.Template.Spec.Containers[0].Resources.Limits)
	}
	profileDir := configMapDir(t, cm, job)
	results := t.TempDir()
	var pods []*child
	for i := range 2 {
		pods = append(pods, startChild(t, asPod(job.Spec.Template.Spec.Containers[0].Args, i, results, profileDir)...))
	}
	for i, c := range pods {
		if r := c.wait(t, 2*time.Minute); r.code != exitOK {
			t.Fatalf("pod %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	_, mergeJob := readManifests(t, filepath.Join(kdir, "merge.yaml"))
	if r := runCLI(t, asPod(mergeJob.Spec.Template.Spec.Containers[0].Args, 0, results, profileDir)...); r.code != exitOK || !strings.Contains(r.stdout, "1 phase(s) merged") {
		t.Fatalf("merge job: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(results, job.Name, "merged", schema.PhaseFile("cache_on-bucketing_on", "split")), &res)
	if res.QueriesCompleted != 40 || res.RequestRate != 40 || len(res.Clients) != 2 {
		t.Errorf("merged phase: %d queries at %v q/s from %d clients; want 40 at 40 from 2", res.QueriesCompleted, res.RequestRate, len(res.Clients))
	}
}

// TestRunClientsMerge splits one phase of a profile across two
// `loadgen run --client i/2` processes that load one server at once, then
// merges their results: the totals add up, the merged percentiles are
// those of the union of the two request logs within HDR precision, and the
// merged directory passes report --check. A client that the phase cannot
// be split into is refused with exit 2.
func TestRunClientsMerge(t *testing.T) {
	t.Parallel()
	srv := latencySim(t)
	profile := servertest.WriteProfile(t, "split", splitProfile)
	dir := t.TempDir()
	var clients []*child
	for i := range 2 {
		clients = append(clients, startChild(t, "run", "--url", srv.URL, "--profile", profile, "--phase", "split",
			"--client", strconv.Itoa(i)+"/2", "--requests-log", "--out", filepath.Join(dir, "client-"+strconv.Itoa(i))))
	}
	for i, c := range clients {
		if r := c.wait(t, 2*time.Minute); r.code != exitOK {
			t.Fatalf("client %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	merged := filepath.Join(dir, "merged")
	r := runCLI(t, "merge", merged, filepath.Join(dir, "client-1"), filepath.Join(dir, "client-0"))
	if r.code != exitOK || !strings.Contains(r.stdout, "1 phase(s) merged from client shares") {
		t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "report", "--check", merged); r.code != exitOK {
		t.Errorf("report --check: exit %d\n%s", r.code, r.stderr)
	}
	const config = "cache_on-bucketing_on"
	var res schema.PhaseResult
	testkit.ReadJSON(t, filepath.Join(merged, schema.PhaseFile(config, "split")), &res)
	raw := servertest.ReadRequestLogs(t, filepath.Join(merged, config, "split.client-0.requests.jsonl"), filepath.Join(merged, config, "split.client-1.requests.jsonl"))
	if res.QueriesCompleted != 40 || res.Completed != raw.Requests || len(raw.Queries) != 40 || res.RequestRate != 40 || len(res.Clients) != 2 {
		t.Errorf("merged: %d queries, %d requests (logs: %d requests, %d distinct queries), rate %v, %d clients; want 40 queries at 40 q/s from 2 clients",
			res.QueriesCompleted, res.Completed, raw.Requests, len(raw.Queries), res.RequestRate, len(res.Clients))
	}
	servertest.CheckLatency(t, res, raw)
	r = runCLI(t, "run", "--url", srv.URL, "--profile", profile, "--phase", "split", "--client", "0/3", "--out", filepath.Join(dir, "x"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "phase split is split across 2 clients") {
		t.Errorf("--client 0/3 of a phase of 2 clients: exit %d\n%s", r.code, r.stderr)
	}
}
