package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"loadgen/loadgen"
	"loadgen/loadgen/k8s"
	"loadgen/loadgen/schema"
)

func k8sCommand() *cli.Command {
	return &cli.Command{
		Name:      "k8s",
		Usage:     "write the Kubernetes manifests that run a sweep as an Indexed Job (one pod per shard) and merge it",
		ArgsUsage: "[PROFILE]   (default: the shipped profiles/rerank.yaml)",
		Description: "Writes DIR/job.yaml (the profile's ConfigMap and the Indexed Job: pod i runs\n" +
			"`loadgen sweep --shard i/N`) and DIR/merge.yaml (the Job that runs `loadgen merge` on the shards'\n" +
			"results once the sweep Job has finished), and prints the kubectl commands. With --url and --phase it\n" +
			"splits one phase's load across --clients pods of `loadgen run --client i/N` against that server\n" +
			"instead. Nothing is sent to a cluster.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "image", Usage: "container `IMAGE` holding loadgen (and vllm with the Neuron stack, unless --simulate)"},
			&cli.StringFlag{Name: "namespace", Value: "default", Usage: "`NAMESPACE` of every object"},
			&cli.StringFlag{Name: "name", Usage: "`NAME` of the Jobs and their results directory", DefaultText: "loadgen-<profile>"},
			&cli.StringFlag{Name: "results-claim", Value: "loadgen-results", Usage: "PersistentVolumeClaim `NAME` for the results, mounted by every pod (ReadWriteMany, e.g. EFS)"},
			&cli.IntFlag{Name: "shards", Usage: "sweep pods, each a share of the configurations", DefaultText: "one per configuration"},
			&cli.IntFlag{Name: "parallelism", Usage: "sweep pods running at once", DefaultText: "all"},
			&cli.StringFlag{Name: "model-claim", Usage: "PersistentVolumeClaim `NAME` holding the model, mounted read-only at the profile's model path", DefaultText: "the image holds it"},
			&cli.StringFlag{Name: "artifacts-claim", Usage: "PersistentVolumeClaim `NAME` for the compiled artifacts (server.compiled_artifacts), kept across runs", DefaultText: "compiled in each pod"},
			&cli.StringFlag{Name: "scheduler-name", Usage: "scheduler `NAME` (the Neuron scheduler extension, e.g. my-scheduler, for servers of more than one device)"},
			&cli.StringSliceFlag{Name: "node-selector", Usage: "`KEY=VALUE` label the nodes must have (repeatable), e.g. node.kubernetes.io/instance-type=inf2.xlarge"},
			&cli.StringSliceFlag{Name: "capability", Usage: "Linux `CAPABILITY` added to the container (repeatable), e.g. IPC_LOCK"},
			&cli.StringFlag{Name: "loadgen", Value: "loadgen", Usage: "the loadgen `PROGRAM` in the image"},
			&cli.BoolFlag{Name: "simulate", Usage: "the pods run the simulator: no Neuron device (every output says SIMULATED)"},
			&cli.StringFlag{Name: "only", Usage: "run only these configurations: comma-separated config `NAMES` of the profile"},
			&cli.BoolFlag{Name: "requests-log", Usage: "the pods also write every request to <config>/<phase>.requests.jsonl"},
			&cli.StringFlag{Name: "url", Usage: "with --phase: the server's base `URL`, reachable from the pods; the Job splits that phase's load instead of running the sweep"},
			&cli.StringFlag{Name: "phase", Usage: "with --url: the profile's phase `NAME` whose load the client pods split"},
			&cli.StringFlag{Name: "config", Usage: "with --url: the profile's configuration `NAME` the server runs", DefaultText: "the first"},
			&cli.IntFlag{Name: "clients", Usage: "with --url: client pods sharing the phase", DefaultText: "the phase's clients, else 2"},
			&cli.StringFlag{Name: "out", Usage: "write the manifests to `DIR`", DefaultText: "./<name>"},
		}, simFlags()...),
		Action: k8sAction,
	}
}

func k8sAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return usagef("k8s: one profile at a time (got %d arguments)", c.NArg())
	}
	if c.String("image") == "" {
		return usagef("k8s: --image IMAGE is required: the container image the pods run (loadgen, and vllm with the Neuron stack unless --simulate)")
	}
	p, err := loadProfile(c.Args().First())
	if err != nil {
		return asUsage(err)
	}
	selector := map[string]string{}
	for _, kv := range c.StringSlice("node-selector") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--node-selector %q: want KEY=VALUE", kv)
		}
		selector[k] = v
	}
	o := loadgen.Options{Profile: p, Simulate: c.Bool("simulate"), Sim: simOptions(c), RequestsLog: c.Bool("requests-log")}
	if c.IsSet("only") {
		if o.Only, err = splitList("only", c.String("only"), nil); err != nil {
			return err
		}
	}
	kc := loadgen.Kube{
		Name: c.String("name"),
		Pod: k8s.Pod{Namespace: c.String("namespace"), Image: c.String("image"), Loadgen: c.String("loadgen"),
			ResultsClaim: c.String("results-claim"), NodeSelector: selector, Capabilities: c.StringSlice("capability"),
			SchedulerName: c.String("scheduler-name")},
		Shards: c.Int("shards"), Parallelism: c.Int("parallelism"),
		ModelClaim: c.String("model-claim"), ArtifactsClaim: c.String("artifacts-claim"),
	}
	var m *k8s.Manifests
	var warns []string
	if c.IsSet("url") || c.IsSet("phase") {
		if !c.IsSet("url") || !c.IsSet("phase") {
			return usagef("k8s: --url and --phase go together: the client pods split that phase's load against that server")
		}
		m, warns, err = loadgen.KubeClients(o, kc, loadgen.KubeLoad{URL: c.String("url"), Phase: c.String("phase"),
			Config: c.String("config"), Clients: c.Int("clients")})
	} else {
		m, warns, err = loadgen.KubeSweep(o, kc)
	}
	if err != nil {
		return asUsageIf(err)
	}
	return writeKube(c, m, warns)
}

// writeKube writes job.yaml and merge.yaml and says how to use them.
func writeKube(c *cli.Context, m *k8s.Manifests, warns []string) error {
	dir := c.String("out")
	if dir == "" {
		dir = m.Name
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	header := []string{"written by loadgen k8s " + version + ": kubectl apply -f this file, then merge.yaml once the Job has finished"}
	for _, n := range append(append([]string{}, m.Notes...), warns...) {
		header = append(header, "note: "+n)
	}
	job, err := k8s.Encode(header, m.Apply...)
	if err != nil {
		return err
	}
	merge, err := k8s.Encode([]string{"apply once Job " + m.Name + " has finished (complete, or failed with some indexes): it merges the results it finds"}, m.Merge...)
	if err != nil {
		return err
	}
	jobFile, mergeFile := filepath.Join(dir, "job.yaml"), filepath.Join(dir, "merge.yaml")
	if err := schema.WriteFileAtomic(jobFile, job); err != nil {
		return err
	}
	if err := schema.WriteFileAtomic(mergeFile, merge); err != nil {
		return err
	}
	for _, w := range warns {
		fmt.Fprintf(c.App.ErrWriter, "loadgen: k8s: warning: %s\n", w)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "wrote %s and %s\n\n", jobFile, mergeFile)
	fmt.Fprintf(w, "  kubectl apply -f %s\n", jobFile)
	fmt.Fprintf(w, "  kubectl -n %s get job %s -w    # until it is complete, or failed\n", m.Namespace, m.Name)
	fmt.Fprintf(w, "  kubectl apply -f %s\n", mergeFile)
	fmt.Fprintf(w, "  kubectl -n %s logs -f job/%s%s\n\n", m.Namespace, m.Name, k8s.MergeSuffix)
	fmt.Fprintf(w, "the merged results: %s on the claim %s (`loadgen report`, `compare` and `sweep --resume` work on it)\n",
		k8s.MergedDir(m.Name), c.String("results-claim"))
	return nil
}
