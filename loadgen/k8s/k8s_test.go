package k8s

import (
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"loadgen/loadgen/testkit"
)

// decodeStrict splits YAML documents and decodes each strictly (unknown
// and duplicate keys are errors) into the typed struct of its kind.
func decodeStrict(t *testing.T, b []byte) []runtime.Object {
	t.Helper()
	var out []runtime.Object
	for i, doc := range strings.Split(string(b), "---\n") {
		if i == 0 {
			continue // the comment header
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj runtime.Object
		switch head.Kind {
		case "Job":
			obj = &batchv1.Job{}
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		default:
			t.Fatalf("document %d: unexpected kind %q", i, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): strict decode: %v\n%s", i, head.Kind, err, doc)
		}
		out = append(out, obj)
	}
	return out
}

// roundTrip encodes objs, decodes them strictly, checks they are the same
// objects, and compares the YAML with the golden file.
func roundTrip(t *testing.T, golden string, header []string, objs []runtime.Object) []byte {
	t.Helper()
	b, err := Encode(header, objs...)
	if err != nil {
		t.Fatal(err)
	}
	back := decodeStrict(t, b)
	if len(back) != len(objs) {
		t.Fatalf("%d objects decoded, %d encoded", len(back), len(objs))
	}
	for i := range objs {
		if !equality.Semantic.DeepEqual(objs[i], back[i]) {
			t.Errorf("object %d (%T) changed in the round trip:\n%s", i, objs[i], b)
		}
	}
	testkit.Golden(t, filepath.Join("testdata", golden), b)
	return b
}

func testPod() Pod {
	return Pod{Namespace: "bench", Image: "registry.example/loadgen:1", ResultsClaim: "loadgen-results", GracePeriod: 70}
}

func TestSweepRoundTrip(t *testing.T) {
	tp2, _, err := NeuronFor(2, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		golden string
		sweep  Sweep
	}{
		// The shipped profile, simulated: no ConfigMap, no device.
		{"shipped-sim", "sweep-shipped-sim.yaml", Sweep{Name: "loadgen-rerank", Pod: testPod(),
			Profile: Profile{Shipped: "shipped:rerank.yaml"}, Shards: 4, Args: []string{"--simulate"}}},
		// A profile file with its dataset below it, TP-2 on one device, the
		// model and the compiled artifacts on claims, two pods at a time.
		{"file-tp2", "sweep-file-tp2.yaml", Sweep{Name: "loadgen-buckets", Pod: func() Pod {
			p := testPod()
			p.NodeSelector = map[string]string{"node.kubernetes.io/instance-type": "inf2.xlarge"}
			p.Capabilities = []string{"IPC_LOCK"}
			return p
		}(),
			Profile: Profile{File: File{Path: "/home/u/profiles/buckets.yaml", Data: []byte("name: buckets\n")},
				Dataset: &File{Path: "data/q.jsonl", Data: []byte("{\"query\":\"q\"}\n")}},
			Shards: 6, Parallelism: 2, Neuron: tp2,
			ModelClaim: "models", ModelPath: "/models/Qwen3-Reranker-0.6B",
			ArtifactsClaim: "neuron-cache", ArtifactsPath: "/var/tmp/loadgen/compiled-artifacts"}},
		// A gzipped dataset outside the profile's directory: binaryData,
		// mounted at its own directory.
		{"abs-dataset", "sweep-abs-dataset.yaml", Sweep{Name: "loadgen-gz", Pod: testPod(),
			Profile: Profile{File: File{Path: "p.yaml", Data: []byte("name: gz\n")},
				Dataset: &File{Path: "/data/sets/q.csv.gz", Data: []byte{0x1f, 0x8b, 0x08, 0xff}}},
			Shards: 1, Neuron: Neuron{ResourceNeuronCore, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.sweep.Objects()
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, tt.golden, []string{"apply first"}, m.Apply)
			roundTrip(t, strings.TrimSuffix(tt.golden, ".yaml")+"-merge.yaml", []string{"apply when the Job has finished"}, m.Merge)
		})
	}
}

func TestClientsRoundTrip(t *testing.T) {
	c := Clients{Name: "loadgen-poisson", Pod: testPod(), Profile: Profile{Shipped: "shipped:rerank.yaml"},
		URL: "http://vllm.bench.svc:8000", Phase: "poisson-2", Clients: 3, Args: []string{"--requests-log"}}
	m, err := c.Objects()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Notes) == 0 {
		t.Error("the clients Job says nothing about when its pods start")
	}
	roundTrip(t, "clients.yaml", nil, m.Apply)
	roundTrip(t, "clients-merge.yaml", nil, m.Merge)
}
