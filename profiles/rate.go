package profiles

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// RateValue is a rate as a phase writes it: queries per second (a number,
// or inf), or a share of the configuration's capacity ("75%"), which an
// earlier rate-inf phase of the profile measures at run time. In YAML and
// JSON it is the number, "inf" or the percentage string.
type RateValue struct {
	// QPS is the rate in queries per second (+Inf for inf); 0 with Share.
	QPS Rate
	// Share is the share of capacity (0.75 for "75%"); 0 with QPS.
	Share float64
}

// QPS is an absolute rate of v queries per second.
func QPS(v float64) RateValue { return RateValue{QPS: Rate(v)} }

// ShareOf is a rate of share (0.75: 75%) of the configuration's capacity.
func ShareOf(share float64) RateValue { return RateValue{Share: share} }

// IsZero reports whether no rate is set.
func (r RateValue) IsZero() bool { return r.QPS == 0 && r.Share == 0 }

// Relative reports whether the rate is a share of capacity.
func (r RateValue) Relative() bool { return r.Share != 0 }

// IsInf reports whether the rate is inf.
func (r RateValue) IsInf() bool { return r.QPS.IsInf() }

// Of returns the rate in queries/s given the configuration's capacity
// (which only a relative rate uses).
func (r RateValue) Of(capacity float64) Rate {
	if r.Relative() {
		return Rate(r.Share * capacity)
	}
	return r.QPS
}

// divided is 1/n of the rate: a client's share of it, of what the
// rate means (queries/s, or a share of capacity).
func (r RateValue) divided(n float64) RateValue {
	return RateValue{QPS: r.QPS / Rate(n), Share: r.Share / n}
}

// String renders the rate as written: "75%", "2" or "inf".
func (r RateValue) String() string {
	if r.Relative() {
		return FormatPercent(r.Share)
	}
	return r.QPS.String()
}

// label renders the rate for a phase name: "75pct", "2" or "inf".
func (r RateValue) label() string {
	if r.Relative() {
		return strings.TrimSuffix(FormatPercent(r.Share), "%") + "pct"
	}
	return r.QPS.String()
}

// FormatPercent renders a share as a percentage ("75%", "2.5%").
func FormatPercent(share float64) string {
	return strconv.FormatFloat(math.Round(share*1e8)/1e6, 'g', -1, 64) + "%"
}

// MarshalJSON writes the percentage string, or the rate as schema.Rate
// writes it.
func (r RateValue) MarshalJSON() ([]byte, error) {
	if r.Relative() {
		return json.Marshal(r.String())
	}
	return json.Marshal(r.QPS)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *RateValue) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil && strings.HasSuffix(s, "%") {
		share, err := parsePercent(s)
		if err != nil {
			return fmt.Errorf("rate: %w", err)
		}
		*r = ShareOf(share)
		return nil
	}
	var q Rate
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*r = RateValue{QPS: q}
	return nil
}

func (r *RateValue) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && strings.HasSuffix(n.Value, "%") {
		share, err := parsePercent(n.Value)
		if err != nil {
			dec.typeErr(n, path, "%v", err)
			return
		}
		*r = ShareOf(share)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == strTag && !isInfWord(n.Value) {
		dec.typeErr(n, path, "want queries per second (a number), inf, or a share of the capacity an earlier inf phase measured (75%%), got %s", describe(n))
		return
	}
	decodeRate(dec, n, path, &r.QPS)
}

// ParseRateValue reads a rate as `loadgen run --rate` takes it: a number of
// queries per second, inf, or a percentage of capacity ("75%").
func ParseRateValue(s string) (RateValue, error) {
	if strings.HasSuffix(s, "%") {
		share, err := parsePercent(s)
		return ShareOf(share), err
	}
	q, err := ParseRate(s)
	return RateValue{QPS: q}, err
}

// parsePercent reads "75%" as 0.75: a finite number followed by %.
func parsePercent(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a percentage like 75%%, got %q", s)
	}
	return f / 100, nil
}

// Percent is a share written as a percentage ("5%"), held as a fraction
// (0.05). In YAML and JSON it is the percentage string.
type Percent float64

// String renders the share as a percentage.
func (p Percent) String() string { return FormatPercent(float64(p)) }

// MarshalJSON writes the percentage string.
func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// UnmarshalJSON reads a percentage string.
func (p *Percent) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("percentage: want a string like \"5%%\": %w", err)
	}
	f, err := parsePercent(s)
	if err != nil {
		return err
	}
	*p = Percent(f)
	return nil
}

func (p *Percent) decodeNode(dec *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode || !strings.HasSuffix(n.Value, "%") {
		hint := ""
		if n.Kind == yaml.ScalarNode && (n.ShortTag() == intTag || n.ShortTag() == floatTag) {
			hint = fmt.Sprintf(" (write %s%%)", n.Value)
		}
		dec.typeErr(n, path, "want a percentage like 5%%, got %s%s", describe(n), hint)
		return
	}
	f, err := parsePercent(n.Value)
	if err != nil {
		dec.typeErr(n, path, "%v", err)
		return
	}
	*p = Percent(f)
}
