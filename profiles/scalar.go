package profiles

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"loadgen/loadgen/schema"
)

// Duration is a time.Duration written as a Go duration string ("90s",
// "5m", "1h30m") in YAML and JSON.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders the duration as time.Duration does ("5m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

func (d *Duration) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == nullTag {
		dec.typeErr(n, path, "want a duration like \"90s\" or \"5m\", got %s", describe(n))
		return
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if _, e := strconv.ParseFloat(n.Value, 64); e == nil {
			hint = fmt.Sprintf(" (a bare number has no unit: write \"%ss\" for seconds)", n.Value)
		}
		dec.typeErr(n, path, "want a duration like \"90s\" or \"5m\", got %q%s", n.Value, hint)
		return
	}
	if v < 0 {
		dec.typeErr(n, path, "must not be negative, got %s", n.Value)
		return
	}
	*d = Duration(v)
}

// Rate is an arrival rate in queries per second; +Inf means every arrival
// is due at once. It is schema.Rate (written as a number or
// "inf" in JSON); in YAML it reads a number or inf (see decodeRate).
type Rate = schema.Rate

// InfRate is the infinite rate.
var InfRate = schema.Inf

// decodeRate reads a rate: a number, or inf (as ParseRate).
func decodeRate(dec *decoder, n *yaml.Node, path string, r *Rate) {
	if n.Kind == yaml.ScalarNode {
		switch {
		case isInfWord(n.Value):
			*r = InfRate
			return
		case n.ShortTag() == intTag || n.ShortTag() == floatTag:
			var f float64
			if err := n.Decode(&f); err == nil && rateNumber(f) {
				*r = Rate(f)
				return
			}
		}
	}
	dec.typeErr(n, path, "want queries per second (a number) or inf, got %s", describe(n))
}

// ParseRate reads a rate as `loadgen run --rate` takes it: a number of
// queries per second, or inf (also .inf, +inf, any case). Whether the rate
// suits the phase (positive, not with sync, …) is ResolvePhase's to say.
func ParseRate(s string) (Rate, error) {
	if isInfWord(s) {
		return InfRate, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !rateNumber(f) {
		return 0, fmt.Errorf("want queries per second (a number) or inf, got %q", s)
	}
	return Rate(f), nil
}

// isInfWord reports whether s spells the infinite rate.
func isInfWord(s string) bool {
	switch strings.ToLower(s) {
	case "inf", ".inf", "+inf", "+.inf":
		return true
	}
	return false
}

// rateNumber reports whether f can be a rate as written: finite and not
// NaN (a negative rate is written, and refused by ResolvePhase).
func rateNumber(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Command is a command line given either as one string, split at spaces
// ("vllm serve"), or as a list of words (["python3", "-m", "vllm..."]).
type Command []string

func (c *Command) decodeNode(dec *decoder, n *yaml.Node, path string) {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == strTag:
		*c = strings.Fields(n.Value)
	case n.Kind == yaml.SequenceNode:
		var words []string
		dec.decodeValue(n, path, &words)
		*c = words
	default:
		dec.typeErr(n, path, "want a command as a string or a list of words, got %s", describe(n))
		return
	}
	if len(*c) == 0 {
		dec.typeErr(n, path, "must not be empty")
	}
}

// CoreSet is a NEURON_RT_VISIBLE_CORES value: "0-1", "2", "0,1" or
// "0-3,8-11"; a YAML integer is taken as one core.
type CoreSet string

func (c *CoreSet) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == nullTag || n.ShortTag() == boolTag {
		dec.typeErr(n, path, "want cores like \"0-1\", \"2\" or \"0,1\", got %s", describe(n))
		return
	}
	if _, err := countCores(n.Value); err != nil {
		dec.typeErr(n, path, "%v", err)
		return
	}
	*c = CoreSet(n.Value)
}

// Count returns how many NeuronCores the set names (0 for an empty set).
func (c CoreSet) Count() int {
	n, _ := countCores(string(c))
	return n
}

// IDs returns the cores the set names, in the order written (nil for an
// empty or invalid set).
func (c CoreSet) IDs() []int {
	ids, _ := parseCores(string(c))
	return ids
}

// countCores parses a NEURON_RT_VISIBLE_CORES value and counts its cores.
func countCores(s string) (int, error) {
	ids, err := parseCores(s)
	return len(ids), err
}

// parseCores parses a NEURON_RT_VISIBLE_CORES value into its cores.
func parseCores(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	bad := func() ([]int, error) {
		return nil, fmt.Errorf("want cores like \"0-1\", \"2\" or \"0,1\", got %q", s)
	}
	seen := map[int]bool{}
	var ids []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return bad()
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return bad()
			}
		}
		if b-a > 1024 {
			return bad()
		}
		for i := a; i <= b; i++ {
			if seen[i] {
				return nil, fmt.Errorf("core %d is listed twice in %q", i, s)
			}
			seen[i] = true
			ids = append(ids, i)
		}
	}
	return ids, nil
}
