package k8s

import (
	"bytes"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Encode writes objects as YAML documents for kubectl apply, each headed
// by "---", after comment lines (# …) holding header. Keys are sorted. A
// Job's empty status and a container's empty resources are left out:
// they are what the server fills in or what was not asked for.
func Encode(header []string, objects ...runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for _, h := range header {
		for _, line := range strings.Split(h, "\n") {
			fmt.Fprintf(&b, "# %s\n", line)
		}
	}
	for _, obj := range objects {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", obj, err)
		}
		unstructured.RemoveNestedField(u, "status")
		dropEmptyResources(u, "spec", "template", "spec", "containers")
		y, err := yaml.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", obj, err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}

// dropEmptyResources removes "resources: {}" from the containers at path.
func dropEmptyResources(u map[string]any, path ...string) {
	containers, ok, _ := unstructured.NestedSlice(u, path...)
	if !ok {
		return
	}
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok {
			if r, ok := m["resources"].(map[string]any); ok && len(r) == 0 {
				delete(m, "resources")
			}
		}
	}
	_ = unstructured.SetNestedSlice(u, containers, path...)
}
