package profiles

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML short tags the decoder looks at.
const (
	nullTag  = "!!null"
	boolTag  = "!!bool"
	intTag   = "!!int"
	floatTag = "!!float"
	strTag   = "!!str"
	mergeTag = "!!merge"
)

// Limits that keep a hostile document (deep nesting, alias bombs) from
// costing more than a fraction of a second.
const (
	maxDepth = 64
	maxNodes = 50_000
)

// decoder walks a yaml.v3 node tree into Go values by their yaml tags, as
// strictly as yaml.v3's KnownFields: unknown keys, duplicate keys and wrong
// types are errors. Unlike yaml.v3 it keeps going after an error, so that
// every problem is reported at once, and it records the line of every key
// it sees so that later checks can name file:line.
type decoder struct {
	p      *problems
	nodes  int
	depth  int
	tooBig bool
}

// nodeDecoder is implemented by types that decode themselves from a node.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// typeErr reports a value that cannot be decoded and marks its path, so
// that later checks do not report it again.
func (d *decoder) typeErr(n *yaml.Node, path, format string, args ...any) {
	d.p.bad[path] = true
	d.p.errorAt(n.Line, path, format, args...)
}

// decodeValue decodes n into the value ptr points to.
func (d *decoder) decodeValue(n *yaml.Node, path string, ptr any) {
	d.decode(n, path, reflect.ValueOf(ptr).Elem())
}

// enter follows aliases and accounts for the node; it returns nil when the
// limits are exceeded.
func (d *decoder) enter(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	d.nodes++
	if n == nil || n.Kind == yaml.AliasNode || d.nodes > maxNodes || d.depth > maxDepth {
		if !d.tooBig {
			d.tooBig = true
			line := 0
			if n != nil {
				line = n.Line
			}
			d.p.errorAt(line, path, "document is nested too deeply or expands too many aliases")
		}
		return nil
	}
	return n
}

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if n = d.enter(n, path); n == nil {
		return
	}
	d.depth++
	defer func() { d.depth-- }()

	if v.CanAddr() {
		if r, ok := v.Addr().Interface().(*Rate); ok {
			decodeRate(d, n, path, r)
			return
		}
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.ShortTag() == nullTag {
			switch v.Type().Elem().Kind() {
			case reflect.Struct, reflect.Map, reflect.Slice:
				return // an empty block counts as absent
			}
			d.typeErr(n, path, "needs a value")
			return
		}
		nv := reflect.New(v.Type().Elem())
		d.decode(n, path, nv.Elem())
		v.Set(nv)
	case reflect.Struct:
		d.structure(n, path, v)
	case reflect.Slice:
		if n.ShortTag() == nullTag {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.typeErr(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.p.lines[indexPath(path, i)] = c.Line
			d.decode(c, indexPath(path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if n.ShortTag() == nullTag {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.typeErr(n, path, "want a mapping of keys to values, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for _, kv := range d.pairs(n, path) {
			k := kv[0].Value
			kp := joinPath(path, k)
			d.p.lines[kp] = kv[0].Line
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(kv[1], kp, ev)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.Interface:
		if x := d.plain(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.scalar(n, path, v)
	}
}

// scalar decodes booleans, integers, floats and strings, strictly by tag.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == nullTag {
		d.typeErr(n, path, "want %s, got %s", kindName(v.Kind()), describe(n))
		return
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.Bool:
		if tag != boolTag {
			hint := ""
			switch strings.ToLower(n.Value) {
			case "yes", "on", "y":
				hint = " (write true)"
			case "no", "off", "n":
				hint = " (write false)"
			}
			d.typeErr(n, path, "want true or false, got %s%s", describe(n), hint)
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.typeErr(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		if tag != intTag || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.typeErr(n, path, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		if (tag != intTag && tag != floatTag) || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.typeErr(n, path, "want a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(n.Value)
	default:
		d.typeErr(n, path, "cannot be decoded into %s", v.Type())
	}
}

// structure decodes a mapping into a struct by the fields' yaml tags,
// including ",inline" embedded structs.
func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	if n.ShortTag() == nullTag {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, path, "want a mapping of keys to values, got %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	for _, kv := range d.pairs(n, path) {
		k := kv[0].Value
		kp := joinPath(path, k)
		if path == "" && strings.HasPrefix(k, "x-") {
			continue // extension keys hold YAML anchors, as in Compose files
		}
		idx, ok := fields[k]
		if !ok {
			d.unknown(kv[0], path, k, fieldNames(v.Type()))
			continue
		}
		d.p.lines[kp] = kv[0].Line
		d.decode(kv[1], kp, v.FieldByIndex(idx))
	}
}

// unknown reports an unknown key: where it belongs when it is a key of
// another section, else the closest known key, else the known keys.
func (d *decoder) unknown(k *yaml.Node, path, key string, known []string) {
	kp := joinPath(path, key)
	if home := keyHome(key); home != "" {
		d.p.errorAt(k.Line, kp, "unknown key here; it belongs under %s", home)
		return
	}
	if s := suggest(key, known); s != "" {
		d.p.errorAt(k.Line, kp, "unknown key; did you mean %s?", s)
		return
	}
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	d.p.errorAt(k.Line, kp, "unknown key; known keys %s: %s", where, strings.Join(known, ", "))
}

// pairs returns the key/value pairs of a mapping with "<<" merge keys
// expanded (explicit keys win) and reports duplicate and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	var out, merged [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == mergeTag {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.p.errorAt(k.Line, path, "keys must be plain words, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.p.errorAt(k.Line, joinPath(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, val})
	}
	for _, kv := range merged {
		if _, dup := seen[kv[0].Value]; !dup {
			seen[kv[0].Value] = kv[0].Line
			out = append(out, kv)
		}
	}
	return out
}

// mergePairs returns the pairs a "<<" value contributes: a mapping or a
// list of mappings (usually aliases).
func (d *decoder) mergePairs(v *yaml.Node, path string) [][2]*yaml.Node {
	if v = d.enter(v, path); v == nil {
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out [][2]*yaml.Node
		for _, c := range v.Content {
			if c = d.enter(c, path); c == nil {
				return out
			}
			if c.Kind != yaml.MappingNode {
				d.p.errorAt(c.Line, path, "<< wants a mapping or a list of mappings, got %s", describe(c))
				continue
			}
			out = append(out, d.pairs(c, path)...)
		}
		return out
	}
	d.p.errorAt(v.Line, path, "<< wants a mapping or a list of mappings, got %s", describe(v))
	return nil
}

// plain converts a node into JSON-compatible Go values (map[string]any,
// []any, string, int64, float64, bool, nil) for the free-form maps
// (neuron_config, extra_body, …).
func (d *decoder) plain(n *yaml.Node, path string) any {
	if n = d.enter(n, path); n == nil {
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, kv := range d.pairs(n, path) {
			kp := joinPath(path, kv[0].Value)
			d.p.lines[kp] = kv[0].Line
			m[kv[0].Value] = d.plain(kv[1], kp)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			s = append(s, d.plain(c, indexPath(path, i)))
		}
		return s
	}
	switch n.ShortTag() {
	case nullTag:
		return nil
	case boolTag:
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case intTag:
		var i int64
		if n.Decode(&i) == nil {
			return i
		}
	case floatTag:
		var f float64
		if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		d.typeErr(n, path, "%s cannot be written as JSON", describe(n))
		return nil
	}
	return n.Value
}

// yamlFields maps yaml key names to field index paths, descending into
// ",inline" struct fields.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, idx := range yamlFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

// fieldNames lists the yaml keys of a struct in declaration order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			out = append(out, fieldNames(f.Type)...)
			continue
		}
		out = append(out, name)
	}
	return out
}

// describe names a node's value for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case nullTag:
		return "nothing (null)"
	case strTag:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return v
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return fmt.Sprint(k)
}
