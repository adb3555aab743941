package profiles

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// shortNames are the prefixes of generated config names, per setting.
var shortNames = map[string]string{
	"max_model_len":            "len",
	"block_size":               "block",
	"max_num_seqs":             "seqs",
	"max_num_batched_tokens":   "batched",
	"pa_num_blocks":            "blocks",
	"enable_prefix_caching":    "cache",
	"enable_bucketing":         "bucketing",
	"context_encoding_buckets": "cte",
	"prefix_buckets":           "pfx",
	"token_generation_buckets": "tkg",
	"kv_cache_quant":           "kvquant",
	"sequence_parallel":        "sp",
	"flash_decoding":           "flashdec",
	"skip_warmup":              "skipwarmup",
	"neuron_config":            "nc",
	"additional_config":        "ac",
	"vllm_args":                "args",
	"env":                      "env",
}

func (m *Matrix) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "want a mapping of setting → list of values, got %s", describe(n))
		return
	}
	st := reflect.TypeOf(Settings{})
	fields := yamlFields(st)
	known := append([]string{"name"}, fieldNames(st)...)
	keys := 0
	for _, kv := range d.pairs(n, path) {
		k := kv[0].Value
		if k != "name" {
			keys++
		}
		kp := joinPath(path, k)
		if k == "name" {
			d.p.lines[kp] = kv[0].Line
			d.decodeValue(kv[1], kp, &m.Name)
			continue
		}
		idx, ok := fields[k]
		if !ok {
			d.unknown(kv[0], path, k, known)
			continue
		}
		d.p.lines[kp] = kv[0].Line
		seq := d.enter(kv[1], kp)
		if seq == nil {
			continue
		}
		if seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
			d.typeErr(seq, kp, "want a list of the values to try, e.g. [true, false], got %s", describe(seq))
			continue
		}
		ax := Axis{Key: k}
		for i, el := range seq.Content {
			ep := indexPath(kp, i)
			d.p.lines[ep] = el.Line
			var s Settings
			fv := reflect.ValueOf(&s).Elem().FieldByIndex(idx)
			d.decode(el, ep, fv)
			if fv.IsNil() {
				if el.ShortTag() == nullTag {
					d.typeErr(el, ep, "needs a value")
				}
				continue
			}
			ax.settings = append(ax.settings, s)
			ax.Values = append(ax.Values, plainValue(fv))
			ax.labels = append(ax.labels, label(fv, i))
			ax.lines = append(ax.lines, el.Line)
		}
		m.Axes = append(m.Axes, ax)
	}
	if keys == 0 {
		d.p.errorAt(n.Line, path, "names no setting to vary: add e.g. enable_bucketing: [true, false]")
	}
}

// plainValue returns a settings field's value for JSON (pointers followed).
func plainValue(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		return v.Elem().Interface()
	}
	return v.Interface()
}

// label renders a matrix value for a config name: on/off, a number, a
// bucket list joined with "_", or the 1-based position for maps and
// argument lists.
func label(v reflect.Value, i int) string {
	switch x := plainValue(v).(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case int:
		return strconv.Itoa(x)
	case []int:
		return joinInts(x, "_")
	}
	return strconv.Itoa(i + 1)
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// matrixSpecs expands the matrix into named settings, first axis
// outermost. Names come from the template or the default scheme.
func (p *Profile) matrixSpecs(pr *problems) []spec {
	m := p.Matrix
	if m == nil || len(m.Axes) == 0 {
		return nil
	}
	axes := map[string]bool{}
	for _, ax := range m.Axes {
		axes[ax.Key] = true
		if len(ax.settings) == 0 {
			return nil // its values were invalid; already reported
		}
	}
	if m.Name != "" {
		for _, ph := range placeholder.FindAllStringSubmatch(m.Name, -1) {
			if !axes[ph[1]] {
				pr.errorf("matrix.name", "{%s} is not a key of the matrix (%s)", ph[1], strings.Join(sortedKeys(axes), ", "))
				return nil
			}
		}
	}
	var out []spec
	idx := make([]int, len(m.Axes))
	for {
		s := p.Base.clone()
		from := baseOrigins(p.Base)
		parts := make([]string, len(m.Axes))
		labels := map[string]string{}
		for a, ax := range m.Axes {
			i := idx[a]
			s = s.merge(ax.settings[i], "", nil)
			from[ax.Key] = indexPath(joinPath("matrix", ax.Key), i)
			labels[ax.Key] = ax.labels[i]
			parts[a] = defaultPart(ax.Key, ax.settings[i], ax.labels[i])
		}
		name := strings.Join(parts, "-")
		if m.Name != "" {
			name = placeholder.ReplaceAllStringFunc(m.Name, func(ph string) string {
				return labels[ph[1:len(ph)-1]]
			})
		}
		out = append(out, spec{name: name, path: "matrix", settings: s, from: from})
		// Advance the odometer, last axis fastest.
		a := len(idx) - 1
		for ; a >= 0; a-- {
			if idx[a]++; idx[a] < len(m.Axes[a].settings) {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			return out
		}
		if len(out) > maxConfigs {
			pr.errorf("matrix", "generates more than %d configurations: vary fewer settings", maxConfigs)
			return nil
		}
	}
}

// maxConfigs bounds a sweep's configurations (each may compile for tens of
// minutes on Neuron).
const maxConfigs = 1000

// defaultPart is one axis' part of a default config name.
func defaultPart(key string, s Settings, lbl string) string {
	short := shortNames[key]
	if v := reflect.ValueOf(s).FieldByName(fieldByKey(key)); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Bool {
		return short + "_" + lbl
	}
	return short + lbl
}

// fieldByKey returns the Go field name of a Settings yaml key.
func fieldByKey(key string) string {
	t := reflect.TypeOf(Settings{})
	idx := yamlFields(t)[key]
	if idx == nil {
		return ""
	}
	return t.FieldByIndex(idx).Name
}

// baseOrigins maps each setting base writes to its key path.
func baseOrigins(base Settings) map[string]string {
	from := map[string]string{}
	Settings{}.merge(base, "base", from)
	return from
}
