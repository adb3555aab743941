package k8s

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Clients is the load of one phase split across pods: pod i runs
// `loadgen run --url URL --phase PHASE --client i/Clients`, sending
// 1/Clients of the phase's rate with its own seed, and the merge Job
// joins the parts into one phase result. Nothing is launched: the server
// runs elsewhere, at URL.
type Clients struct {
	// Name names the Job (see CheckName) and its results directory.
	Name    string
	Pod     Pod
	Profile Profile
	// URL is the server's base URL, reachable from the pods.
	URL string
	// Phase is the profile's phase to split; Config the profile's
	// configuration the server runs ("" for the first).
	Phase, Config string
	// Clients is the number of pods; they all run at once.
	Clients int
	// Args are more `loadgen run` arguments (--requests-log, …).
	Args []string
}

// Objects builds the clients' ConfigMap and Indexed Job, and the merge
// Job.
func (c Clients) Objects() (*Manifests, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("kubernetes clients: %w", err)
	}
	const component = "clients"
	args := []string{"run", "--url", c.URL, "--profile", c.Profile.Arg(), "--phase", c.Phase}
	if c.Config != "" {
		args = append(args, "--config", c.Config)
	}
	args = append(args, "--client", indexed+"/"+strconv.Itoa(c.Clients), "--out", partDir(c.Name, partClient, indexed))
	args = append(args, c.Args...)

	vols, mounts := c.Profile.volumes(c.Name)
	ctr := c.Pod.container(args, mounts)
	ctr.Env = indexEnv()
	job := c.Pod.job(c.Name, c.Name, component, c.Pod.podSpec(ctr, vols))
	n := int32(c.Clients)
	job.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	job.Spec.Completions, job.Spec.Parallelism = ptr(n), ptr(n)
	// A client is part of one load at one time: a retry would send its
	// share later, beside nobody. A failed client is left out of the merge.
	job.Spec.BackoffLimitPerIndex = ptr(int32(0))
	job.Spec.PodReplacementPolicy = ptr(batchv1.Failed)

	m := &Manifests{Name: c.Name, Namespace: c.Pod.Namespace, Notes: []string{fmt.Sprintf(
		"the %d client pods start when the scheduler places them: the merged phase holds the full rate only while all of them run (each client's window is kept in the merged result)", c.Clients)}}
	if cm := c.Profile.configMap(c.Pod, c.Name, component); cm != nil {
		m.Apply = append(m.Apply, cm)
	}
	m.Apply = append(m.Apply, job)
	m.Merge = []runtime.Object{c.Pod.mergeJob(c.Name, partClient, c.Clients)}
	return m, nil
}

func (c Clients) check() error {
	if err := CheckName(c.Name); err != nil {
		return err
	}
	if err := c.Pod.check(); err != nil {
		return err
	}
	if err := c.Profile.check(); err != nil {
		return err
	}
	switch {
	case c.URL == "":
		return fmt.Errorf("a server URL is required")
	case c.Phase == "":
		return fmt.Errorf("the phase to split is required")
	case c.Clients < 1:
		return fmt.Errorf("clients: want at least 1, got %d", c.Clients)
	}
	return nil
}
