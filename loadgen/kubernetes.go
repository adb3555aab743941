package loadgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"loadgen/loadgen/k8s"
	"loadgen/loadgen/schema"
	"loadgen/profiles"
)

// Kube says how a sweep (or one phase's clients) runs on Kubernetes; the
// profile and the sweep's options come from Options.
type Kube struct {
	// Name names the objects (default k8s.NameFor(profile name)).
	Name string
	// Pod holds the image, namespace, results claim and placement.
	Pod k8s.Pod
	// Shards is the number of sweep pods (default: one per configuration);
	// Parallelism how many run at once (default all).
	Shards, Parallelism int
	// ModelClaim holds the profile's model directory; ArtifactsClaim keeps
	// compiled graphs across runs.
	ModelClaim, ArtifactsClaim string
}

// KubeSweep builds the manifests of o's sweep as an Indexed Job, one pod
// per shard, and says what the user must know (warnings). It checks the
// plan as the pods will expand it, so that a profile a pod would refuse
// is refused here.
func KubeSweep(o Options, kc Kube) (*k8s.Manifests, []string, error) {
	plan, err := Plan(o)
	if err != nil {
		return nil, nil, err
	}
	p := plan.Profile
	kp, err := kubeProfile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	s := k8s.Sweep{Name: kubeName(kc.Name, p), Pod: kubePod(kc.Pod, p, o), Profile: kp,
		Shards: kc.Shards, Parallelism: kc.Parallelism, Args: kubeArgs(o)}
	if s.Shards == 0 {
		s.Shards = len(plan.Configs)
	}
	if s.Shards > len(plan.Configs) {
		return nil, nil, fmt.Errorf("%w: --shards %d: the sweep has %d configuration(s); more shards would idle", ErrBadInput, s.Shards, len(plan.Configs))
	}
	var warns []string
	if !o.Simulate {
		n, warn, err := k8s.NeuronFor(p.TensorParallelSize, kc.Pod.SchedulerName)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		s.Neuron = n
		if warn != "" {
			warns = append(warns, warn)
		}
		if len(p.Server.NeuronCores) > 0 {
			warns = append(warns, fmt.Sprintf("server.neuron_cores %q overrides the NEURON_RT_VISIBLE_CORES the Neuron device plugin sets for the cores it gave the pod: remove it from the profile the pods run", p.Server.NeuronCores))
		}
	}
	if kc.ModelClaim != "" {
		s.ModelClaim, s.ModelPath = kc.ModelClaim, p.Model
	}
	if kc.ArtifactsClaim != "" {
		s.ArtifactsClaim, s.ArtifactsPath = kc.ArtifactsClaim, p.Server.CompiledArtifacts
	}
	m, err := s.Objects()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return m, warns, nil
}

// kubeName is the objects' name: the one given, else the profile's.
func kubeName(name string, p *profiles.Profile) string {
	if name != "" {
		return name
	}
	return k8s.NameFor(p.Name)
}

// kubePod completes the pod settings: a pod stops within the drain, the
// server's stop grace and a margin for writing the report.
func kubePod(pod k8s.Pod, p *profiles.Profile, o Options) k8s.Pod {
	drain := o.Drain
	if drain == 0 {
		drain = DefaultDrain
	}
	grace := drain + p.Server.StopGrace.D() + kubeStopMargin
	pod.GracePeriod = int64(grace / time.Second)
	return pod
}

// kubeStopMargin is the part of a pod's grace period left for writing the
// partial results and the report after the server has stopped.
const kubeStopMargin = 30 * time.Second

// kubeArgs are the sweep options a pod must repeat to run the same sweep.
func kubeArgs(o Options) []string {
	var args []string
	if o.Simulate {
		s := o.Sim.withDefaults()
		args = append(args, "--simulate",
			"--sim-speed", strconv.FormatFloat(s.Speed, 'g', -1, 64),
			"--sim-startup-speed", strconv.FormatFloat(s.StartupSpeed, 'g', -1, 64),
			"--sim-seed", strconv.FormatInt(s.Seed, 10))
		if s.Stack != "" {
			args = append(args, "--sim-stack", s.Stack)
		}
	}
	if len(o.Only) > 0 {
		args = append(args, "--only", strings.Join(o.Only, ","))
	}
	if o.RequestsLog {
		args = append(args, "--requests-log")
	}
	return args
}

// kubeProfile is the profile as the pods get it: a shipped profile by
// name, a profile file with its dataset in the ConfigMap.
func kubeProfile(p *profiles.Profile) (k8s.Profile, error) {
	if strings.HasPrefix(p.Path, "shipped:") {
		return k8s.Profile{Shipped: p.Path}, nil
	}
	if p.Path == "" {
		return k8s.Profile{}, fmt.Errorf("the profile has no file to put in a ConfigMap")
	}
	data, err := os.ReadFile(p.Path)
	if err != nil {
		return k8s.Profile{}, fmt.Errorf("profile: %w", err)
	}
	kp := k8s.Profile{File: k8s.File{Path: p.Path, Data: data}}
	ds := p.Workload.Dataset
	if p.Workload.IsSynthetic() || ds == "" {
		return kp, nil
	}
	if strings.HasPrefix(ds, "shipped:") {
		return k8s.Profile{}, fmt.Errorf("dataset %s is built into loadgen but the profile is a file: name the shipped profile instead", ds)
	}
	b, err := os.ReadFile(ds)
	if err != nil {
		return k8s.Profile{}, fmt.Errorf("dataset: %w", err)
	}
	at := ds
	if rel, err := filepath.Rel(filepath.Dir(absPath(p.Path)), ds); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		at = rel
	}
	kp.Dataset = &k8s.File{Path: at, Data: b}
	return kp, nil
}

func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// KubeLoad is one phase's load split across client pods.
type KubeLoad struct {
	// URL is the server's base URL as the pods reach it.
	URL string
	// Phase names the profile's phase; Config the configuration the
	// server runs ("" for the first).
	Phase, Config string
	// Clients is the number of pods (0: 2).
	Clients int
}

// DefaultKubeClients is the number of client pods when none is given.
const DefaultKubeClients = 2

// KubeClients builds the manifests of one phase's load split across
// client pods, `loadgen run --client i/N` each, against a server at a URL.
func KubeClients(o Options, kc Kube, load KubeLoad) (*k8s.Manifests, []string, error) {
	p := o.Profile
	if p == nil {
		return nil, nil, fmt.Errorf("%w: no profile", ErrBadInput)
	}
	ph, ok := p.Phase(load.Phase)
	if !ok {
		var names []string
		for _, ph := range p.Load {
			names = append(names, ph.Name)
		}
		return nil, nil, fmt.Errorf("%w: --phase %q: the profile's phases are %s", ErrBadInput, load.Phase, strings.Join(names, ", "))
	}
	if err := ph.Alone(); err != nil {
		return nil, nil, fmt.Errorf("%w: --phase: %w", ErrBadInput, err)
	}
	n := load.Clients
	switch {
	case n == 0 && ph.Clients > 1:
		n = ph.Clients
	case n == 0:
		n = DefaultKubeClients
	case ph.Clients > 1 && n != ph.Clients:
		return nil, nil, fmt.Errorf("%w: --clients %d: phase %s is split across %d clients (its clients: %d)", ErrBadInput, n, ph.Name, ph.Clients, ph.Clients)
	}
	if _, err := profiles.SplitPhase(ph, schema.Part{Index: 0, Count: n}); err != nil {
		return nil, nil, fmt.Errorf("%w: --clients %d: %w", ErrBadInput, n, err)
	}
	kp, err := kubeProfile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	var args []string
	if o.RequestsLog {
		args = append(args, "--requests-log")
	}
	c := k8s.Clients{Name: kubeName(kc.Name, p), Pod: kubePod(kc.Pod, p, o), Profile: kp,
		URL: load.URL, Phase: load.Phase, Config: load.Config, Clients: n, Args: args}
	m, err := c.Objects()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return m, nil, nil
}
