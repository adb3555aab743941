package k8s

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// The Neuron device plugin's resources. It registers whole devices and
// single NeuronCores; the older "aws.amazon.com/neurondevice" is gone
// since Neuron 2.20.
// source: aws-neuron/aws-neuron-sdk deploy/includes/k8s-neuron-device-plugin.rst L3–6,
// about-neuron/announcements/neuron2.x/announce-no-support-device-version.rst L10–14
// @ 81ce03ae (SDK 2.32.0 docs)
const (
	// ResourceNeuron is one Neuron device with all its cores.
	ResourceNeuron corev1.ResourceName = "aws.amazon.com/neuron"
	// ResourceNeuronCore is one NeuronCore.
	ResourceNeuronCore corev1.ResourceName = "aws.amazon.com/neuroncore"
)

// CoresPerInf2Device is the number of NeuronCore-v2 on one Inferentia2
// device (chip).
// source: aws-neuron/aws-neuron-sdk about-neuron/arch/neuron-hardware/inferentia2.rst L6
// @ 81ce03ae (SDK 2.32.0 docs)
const CoresPerInf2Device = 2

// NeuronTaintKey is the taint key the device plugin's DaemonSet tolerates
// (NoSchedule), the convention for Neuron node groups; a pod tolerating it
// schedules on tainted and untainted Neuron nodes alike.
// source: aws-neuron/aws-neuron-sdk src/k8/k8s-neuron-device-plugin.yml L22–27
// @ 81ce03ae (SDK 2.32.0 docs)
const NeuronTaintKey = "aws.amazon.com/neuron"

// Neuron is the device plugin resource one server needs.
type Neuron struct {
	// Resource is ResourceNeuron or ResourceNeuronCore.
	Resource corev1.ResourceName
	// Count is how many of them.
	Count int64
}

// String renders the request as the pod spec writes it.
func (n Neuron) String() string { return fmt.Sprintf("%s: %d", n.Resource, n.Count) }

// NeuronFor is the resource a server of tensor parallelism tp needs on
// inf2, and a warning when the default scheduler cannot place it
// reliably. TP 1 takes one NeuronCore; an even TP takes tp/2 whole
// devices: TP-2 is one device, which needs no scheduler extension, where
// two single cores formally do. More than one device needs the Neuron
// scheduler extension (schedulerName), which allocates adjacent devices
// on the inf2 ring; the default scheduler only counts them.
// source: aws-neuron/aws-neuron-sdk deploy/infrastructure/scheduler.rst ("required for
// scheduling Pods that request more than one Neuron core or device resource"; inf2 ring:
// contiguous devices; "requesting one or all Neuron cores or devices is always valid")
// @ 3afa0fdf (SDK 2.32.0 docs)
func NeuronFor(tp int, schedulerName string) (Neuron, string, error) {
	switch {
	case tp == 1:
		return Neuron{ResourceNeuronCore, 1}, "", nil
	case tp < 1 || tp%CoresPerInf2Device != 0:
		return Neuron{}, "", fmt.Errorf("tensor_parallel_size %d: an inf2 server takes one NeuronCore or whole devices of %d cores", tp, CoresPerInf2Device)
	}
	n := Neuron{ResourceNeuron, int64(tp / CoresPerInf2Device)}
	warn := ""
	if n.Count > 1 && schedulerName == "" {
		warn = fmt.Sprintf("tensor_parallel_size %d requests %d Neuron devices: without the Neuron scheduler extension the default scheduler may hand out devices that are not adjacent; install it and pass --scheduler-name (e.g. my-scheduler)", tp, n.Count)
	}
	return n, warn, nil
}
