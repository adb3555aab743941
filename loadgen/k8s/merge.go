package k8s

import (
	batchv1 "k8s.io/api/batch/v1"
)

// MergeSuffix ends the name of a merge Job.
const MergeSuffix = "-merge"

// mergeJob joins the n part directories of the Job named name into
// MergedDir: `loadgen merge --allow-missing OUT PART...`. A part whose pod
// never wrote results is left out, and its configurations stay pending in
// the merged manifest, for `loadgen sweep --resume` to run.
func (p Pod) mergeJob(name, kind string, n int) *batchv1.Job {
	args := []string{"merge", "--allow-missing", MergedDir(name)}
	for i := range n {
		args = append(args, PartDir(name, kind, i))
	}
	// No device and no privilege: any node that mounts the claim.
	p.NodeSelector, p.SchedulerName, p.Capabilities = nil, "", nil
	job := p.job(name+MergeSuffix, name, "merge", p.podSpec(p.container(args, nil), nil))
	job.Spec.BackoffLimit = ptr(int32(1))
	return job
}
