package k8s

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

// Sweep is a sweep run as an Indexed Job: pod i runs
// `loadgen sweep --shard i/Shards` into its own results directory on the
// results claim, and the merge Job joins them.
type Sweep struct {
	// Name names the Job (see CheckName) and its results directory.
	Name    string
	Pod     Pod
	Profile Profile
	// Shards is the number of pods (completions), each a share of the
	// configurations; Parallelism how many run at once (0: all).
	Shards, Parallelism int
	// Neuron is what one server takes (NeuronFor); zero for a simulated
	// sweep, which needs no device.
	Neuron Neuron
	// ModelClaim, when set, is mounted read-only at ModelPath (the
	// profile's model directory); otherwise the image holds the model.
	ModelClaim, ModelPath string
	// ArtifactsClaim, when set, is mounted at ArtifactsPath (the profile's
	// server.compiled_artifacts), so compiled graphs outlive the pods.
	ArtifactsClaim, ArtifactsPath string
	// Args are more `loadgen sweep` arguments (--simulate, --only NAMES…).
	Args []string
}

// Manifests are the objects of one Job: Apply first, and Merge once the
// Job has finished.
type Manifests struct {
	// Name and Namespace are the Job's.
	Name, Namespace string
	Apply           []runtime.Object
	Merge           []runtime.Object
	// Notes say what the objects assume and what to watch for.
	Notes []string
}

// Kinds of part directories: a sweep's shards, a phase's clients.
const (
	partShard  = "shard"
	partClient = "client"
)

// PartDir is the results directory of shard (or client) i of the Job
// named name, as the pods see it; the merged results go to MergedDir.
func PartDir(name, kind string, i int) string { return partDir(name, kind, strconv.Itoa(i)) }

func partDir(name, kind, index string) string { return resultsDir(name, kind+"-"+index) }

// MergedDir is where the merge Job writes the merged results.
func MergedDir(name string) string { return resultsDir(name, "merged") }

// Objects builds the sweep's ConfigMap and Indexed Job, and the merge Job.
func (s Sweep) Objects() (*Manifests, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("kubernetes sweep: %w", err)
	}
	const component = "sweep"
	args := []string{"sweep",
		"--shard", indexed + "/" + strconv.Itoa(s.Shards),
		"--out", partDir(s.Name, partShard, indexed),
		"--continue"}
	args = append(append(args, s.Args...), s.Profile.Arg())

	vols, mounts := s.Profile.volumes(s.Name)
	if s.Neuron.Count > 0 && s.Neuron.Resource == ResourceNeuron {
		v, m := shmVolume()
		vols, mounts = append(vols, v), append(mounts, m)
	}
	if s.ModelClaim != "" {
		v, m := claimVolume("model", s.ModelClaim, s.ModelPath, true)
		vols, mounts = append(vols, v), append(mounts, m)
	}
	if s.ArtifactsClaim != "" {
		v, m := claimVolume("artifacts", s.ArtifactsClaim, s.ArtifactsPath, false)
		vols, mounts = append(vols, v), append(mounts, m)
	}
	c := s.Pod.container(args, mounts)
	c.Env = indexEnv()
	if s.Neuron.Count > 0 {
		n := resource.MustParse(strconv.FormatInt(s.Neuron.Count, 10))
		// Extended resources are requested as limits; the request follows.
		c.Resources.Limits = corev1.ResourceList{s.Neuron.Resource: n}
	}
	spec := s.Pod.podSpec(c, vols)
	if s.Neuron.Count > 0 {
		spec.Tolerations = []corev1.Toleration{{Key: NeuronTaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	job := s.Pod.job(s.Name, s.Name, component, spec)
	parallel := s.Parallelism
	if parallel <= 0 || parallel > s.Shards {
		parallel = s.Shards
	}
	job.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	job.Spec.Completions = ptr(int32(s.Shards))
	job.Spec.Parallelism = ptr(int32(parallel))
	// One retry per shard, which continues its results directory; a shard
	// refused as bad input fails at once; a pod evicted or preempted does
	// not count against it. A replacement starts only once the pod it
	// replaces has terminated and let go of its NeuronCores.
	job.Spec.BackoffLimitPerIndex = ptr(int32(1))
	job.Spec.PodFailurePolicy = failurePolicy()
	job.Spec.PodReplacementPolicy = ptr(batchv1.Failed)

	m := &Manifests{Name: s.Name, Namespace: s.Pod.Namespace}
	if cm := s.Profile.configMap(s.Pod, s.Name, component); cm != nil {
		m.Apply = append(m.Apply, cm)
	}
	m.Apply = append(m.Apply, job)
	m.Merge = []runtime.Object{s.Pod.mergeJob(s.Name, partShard, s.Shards)}
	return m, nil
}

func (s Sweep) check() error {
	if err := CheckName(s.Name); err != nil {
		return err
	}
	if err := s.Pod.check(); err != nil {
		return err
	}
	if err := s.Profile.check(); err != nil {
		return err
	}
	switch {
	case s.Shards < 1:
		return fmt.Errorf("shards: want at least 1, got %d", s.Shards)
	case s.ModelClaim != "" && s.ModelPath == "":
		return fmt.Errorf("a model claim needs the model's path")
	case s.ArtifactsClaim != "" && s.ArtifactsPath == "":
		return fmt.Errorf("an artifacts claim needs the compiled artifacts' path")
	}
	return nil
}

// failurePolicy fails an index at once on bad input and ignores
// disruptions (eviction, preemption): the replacement pod continues.
func failurePolicy() *batchv1.PodFailurePolicy {
	return &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{
			Action:          batchv1.PodFailurePolicyActionIgnore,
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
		},
		{
			Action: batchv1.PodFailurePolicyActionFailIndex,
			OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				ContainerName: ptr(ContainerName),
				Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
				Values:        []int32{ExitBadInput},
			},
		},
	}}
}
