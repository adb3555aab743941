// Package k8s builds the Kubernetes objects that run loadgen on a cluster
// (EKS with the AWS Neuron device plugin): a sweep as an Indexed Job with
// one pod per shard (`loadgen sweep --shard I/N`), the load of one phase
// as an Indexed Job of `loadgen run --client I/N` pods against a URL, the
// ConfigMap that carries the profile and its dataset, and the Job that
// merges the pods' result directories (`loadgen merge`) once they are done.
//
// Every object is a typed struct of k8s.io/api (batch/v1, core/v1), so
// the schema is right by construction; Encode writes them as YAML
// documents for kubectl apply. The package only builds objects: it talks
// to no cluster.
//
// What a pod needs from the cluster: an image holding the loadgen binary
// (and vllm, unless the sweep is simulated), a PersistentVolumeClaim for
// the results that every pod can mount (ReadWriteMany, e.g. EFS), and for
// Neuron the device plugin (resources aws.amazon.com/neuron and
// aws.amazon.com/neuroncore) on the nodes.
package k8s
