package k8s

import (
	"fmt"
	"path"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Pod holds what every pod of loadgen's Jobs shares.
type Pod struct {
	// Namespace of every object.
	Namespace string
	// Image holds the loadgen binary (and, for a sweep that launches
	// servers, vllm with the Neuron stack).
	Image string
	// Loadgen is the loadgen program in the image (default "loadgen", on
	// its PATH).
	Loadgen string
	// ResultsClaim is the PersistentVolumeClaim the results are written
	// to, mounted at ResultsMount in every pod; every pod of a Job and the
	// merge Job must be able to mount it (ReadWriteMany, e.g. EFS).
	ResultsClaim string
	// NodeSelector places the pods (e.g. node.kubernetes.io/instance-type:
	// inf2.xlarge).
	NodeSelector map[string]string
	// Capabilities are added to the container (e.g. IPC_LOCK); none by
	// default.
	Capabilities []string
	// SchedulerName selects a scheduler other than the default (the Neuron
	// scheduler extension, for servers of more than one device).
	SchedulerName string
	// GracePeriod is how long a pod may take to stop after SIGTERM, in
	// seconds: loadgen writes its partial results and stops its servers
	// (drain plus the server's stop grace). 0: Kubernetes' default.
	GracePeriod int64
}

// Where loadgen's pods mount what they read and write.
const (
	// ResultsMount is where the results claim is mounted.
	ResultsMount = "/results"
	// ProfileMount is where the profile's ConfigMap is mounted.
	ProfileMount = "/etc/loadgen/profile"
	// ShmMount is the shared-memory mount a tensor-parallel server uses.
	ShmMount = "/dev/shm"
)

// ContainerName is the name of the one container of every pod.
const ContainerName = "loadgen"

// IndexEnv is the variable holding a pod's completion index. The Job
// controller sets it in Indexed Jobs; the container declares it as well
// (from the index annotation), so that $(JOB_COMPLETION_INDEX) in the
// arguments is expanded from a variable the container spec defines.
const IndexEnv = "JOB_COMPLETION_INDEX"

// ExitBadInput is loadgen's exit status for bad input (profile, flags,
// results directory): a retry cannot help, so the index fails at once.
const ExitBadInput = 2

// MaxNameLength bounds the base name of the objects: pods are named
// <job>-<index>-<random> and the merge Job <name>-merge, all within a
// DNS-1123 label.
const MaxNameLength = 40

// CheckName says why name cannot name loadgen's objects ("" when it can).
func CheckName(name string) error {
	if len(name) > MaxNameLength {
		return fmt.Errorf("name %q: at most %d characters (pods are named <name>-<index>-<random>)", name, MaxNameLength)
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// NameFor derives an object name from a profile name: lower case, runs of
// characters a DNS label cannot hold become "-", prefixed with "loadgen-"
// and cut to MaxNameLength.
func NameFor(profile string) string {
	var b strings.Builder
	b.WriteString("loadgen-")
	dash := true
	for _, r := range strings.ToLower(profile) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	name := b.String()
	if len(name) > MaxNameLength {
		name = name[:MaxNameLength]
	}
	return strings.TrimRight(name, "-")
}

func (p Pod) check() error {
	var errs []string
	if p.Image == "" {
		errs = append(errs, "an image is required")
	}
	if p.Namespace == "" {
		errs = append(errs, "a namespace is required")
	} else if e := validation.IsDNS1123Label(p.Namespace); len(e) > 0 {
		errs = append(errs, fmt.Sprintf("namespace %q: %s", p.Namespace, strings.Join(e, "; ")))
	}
	if p.ResultsClaim == "" {
		errs = append(errs, "a results claim is required")
	} else if e := validation.IsDNS1123Subdomain(p.ResultsClaim); len(e) > 0 {
		errs = append(errs, fmt.Sprintf("results claim %q: %s", p.ResultsClaim, strings.Join(e, "; ")))
	}
	for k, v := range p.NodeSelector {
		if e := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(e) > 0 {
			errs = append(errs, fmt.Sprintf("node selector %s=%s: %s", k, v, strings.Join(e, "; ")))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (p Pod) program() string {
	if p.Loadgen == "" {
		return "loadgen"
	}
	return p.Loadgen
}

// labels are the labels of every object of a run and its pods.
func labels(instance, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "loadgen",
		"app.kubernetes.io/instance":  instance,
		"app.kubernetes.io/component": component,
	}
}

// resultsDir is a directory of the results claim, as a pod sees it.
func resultsDir(name, sub string) string { return path.Join(ResultsMount, name, sub) }

// indexed is the per-pod part of a path or argument: $(JOB_COMPLETION_INDEX).
const indexed = "$(" + IndexEnv + ")"

// container is the loadgen container running args (the subcommand first).
func (p Pod) container(args []string, mounts []corev1.VolumeMount) corev1.Container {
	c := corev1.Container{
		Name:         ContainerName,
		Image:        p.Image,
		Command:      []string{p.program()},
		Args:         args,
		VolumeMounts: append([]corev1.VolumeMount{{Name: "results", MountPath: ResultsMount}}, mounts...),
	}
	if len(p.Capabilities) > 0 {
		caps := make([]corev1.Capability, len(p.Capabilities))
		for i, c := range p.Capabilities {
			caps[i] = corev1.Capability(c)
		}
		c.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: caps}}
	}
	return c
}

// indexEnv declares JOB_COMPLETION_INDEX from the completion index
// annotation.
func indexEnv() []corev1.EnvVar {
	return []corev1.EnvVar{{
		Name: IndexEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation),
		}},
	}}
}

// podSpec is a pod running container c with the results claim and the
// extra volumes.
func (p Pod) podSpec(c corev1.Container, volumes []corev1.Volume) corev1.PodSpec {
	spec := corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{c},
		Volumes: append([]corev1.Volume{{Name: "results", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: p.ResultsClaim}}}}, volumes...),
		SchedulerName: p.SchedulerName,
	}
	if len(p.NodeSelector) > 0 {
		spec.NodeSelector = p.NodeSelector
	}
	if p.GracePeriod > 0 {
		g := p.GracePeriod
		spec.TerminationGracePeriodSeconds = &g
	}
	return spec
}

// meta is the metadata of object name, one of the objects of instance
// (the name of the run: every object of one run shares the instance label).
func (p Pod) meta(name, instance, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: labels(instance, component)}
}

// job is a Job named name whose pods run spec; the caller makes it
// indexed and sets its failure policy.
func (p Pod) job(name, instance, component string, spec corev1.PodSpec) *batchv1.Job {
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: p.meta(name, instance, component),
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels(instance, component)},
			Spec:       spec,
		}},
	}
}

// shmVolume is a memory-backed /dev/shm for tensor-parallel servers:
// vLLM's workers share tensors through it, and a container's default is
// 64 MiB. It counts against the container's memory.
// source: vllm-project/vllm docs/deployment/k8s.md @ 051f9b87 ("vLLM needs to access the
// host's shared memory for tensor parallel inference"; emptyDir medium Memory, 2Gi)
func shmVolume() (corev1.Volume, corev1.VolumeMount) {
	size := resource.MustParse("2Gi")
	return corev1.Volume{Name: "dshm", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}},
		corev1.VolumeMount{Name: "dshm", MountPath: ShmMount}
}

// claimVolume mounts a PersistentVolumeClaim at dir.
func claimVolume(name, claim, dir string, readOnly bool) (corev1.Volume, corev1.VolumeMount) {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: readOnly}}},
		corev1.VolumeMount{Name: name, MountPath: dir, ReadOnly: readOnly}
}

func ptr[T any](v T) *T { return &v }
