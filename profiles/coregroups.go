package profiles

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// CoreGroups is server.neuron_cores: one NEURON_RT_VISIBLE_CORES value
// ("0-1"), or a list of core groups (["0-1", "2-3", …]). With more than
// one group the sweep runs up to that many configurations at once, each on
// a free group with its own port (Config.Place): listing groups is how a
// sweep opts in to concurrency.
type CoreGroups []CoreSet

func (g *CoreGroups) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		var c CoreSet
		c.decodeNode(dec, n, path)
		if c != "" {
			*g = CoreGroups{c}
		}
		return
	}
	if len(n.Content) == 0 {
		dec.typeErr(n, path, "an empty list of core groups: list groups like [\"0-1\", \"2-3\"], or leave neuron_cores out")
		return
	}
	out := make(CoreGroups, 0, len(n.Content))
	owner := map[int]string{}
	for i, item := range n.Content {
		var c CoreSet
		at := indexPath(path, i)
		c.decodeNode(dec, item, at)
		if c == "" {
			return
		}
		for _, id := range c.IDs() {
			if prev, ok := owner[id]; ok {
				dec.typeErr(item, at, "core %d is in group %q and in group %q: the groups must not share cores (two servers cannot hold one core)", id, prev, c)
				return
			}
			owner[id] = string(c)
		}
		out = append(out, c)
	}
	*g = out
}

// MarshalJSON writes one group as a string, as a single value always was
// (so the hash of a profile with one group is what it was), and several
// as a list.
func (g CoreGroups) MarshalJSON() ([]byte, error) {
	if len(g) == 1 {
		return json.Marshal(string(g[0]))
	}
	return json.Marshal([]CoreSet(g))
}

// UnmarshalJSON reads what MarshalJSON writes.
func (g *CoreGroups) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*g = CoreGroups{CoreSet(one)}
		return nil
	}
	var many []CoreSet
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("neuron_cores: %w", err)
	}
	*g = many
	return nil
}

// String renders the groups as a profile writes them.
func (g CoreGroups) String() string {
	if len(g) == 1 {
		return string(g[0])
	}
	parts := make([]string, len(g))
	for i, c := range g {
		parts[i] = fmt.Sprintf("%q", string(c))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// First is the first group ("" when none is set): where a sweep of one
// group runs every configuration.
func (g CoreGroups) First() CoreSet {
	if len(g) == 0 {
		return ""
	}
	return g[0]
}

// IDs lists every core of every group, in order.
func (g CoreGroups) IDs() []int {
	var ids []int
	for _, c := range g {
		ids = append(ids, c.IDs()...)
	}
	slices.Sort(ids)
	return ids
}

// Measure modes of a sweep on several core groups (server.measure).
const (
	// MeasureConcurrent runs every group's configuration whole at once:
	// startup, compile and measurement.
	MeasureConcurrent = "concurrent"
	// MeasureSerial starts the servers at once but measures them one at a
	// time: the next configuration compiles while the current one is
	// measured, and is measured once it is ready and the previous one has
	// stopped.
	MeasureSerial = "serial"
)
