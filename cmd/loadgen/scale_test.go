package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"loadgen/loadgen/k8s"
	"loadgen/loadgen/schema"
	"loadgen/server/servertest"
)

// podArgs reads the YAML documents of a manifests file strictly into their
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
	// The ConfigMap's files, where the pod would find them.
	profileDir := t.TempDir()
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		for _, it := range v.ConfigMap.Items {
			p := filepath.Join(profileDir, it.Path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(cm.Data[it.Key]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
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
	if r := runCLI(t, "compare", merged, copyDir(t, merged)); r.code != exitOK {
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
