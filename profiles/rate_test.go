package profiles

import (
	"encoding/json"
	"math"
	"testing"
)

// TestParseRateValue: run's --rate reads a share of capacity as a
// profile's rate: does.
func TestParseRateValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want RateValue
		ok   bool
	}{
		{"75%", ShareOf(0.75), true},           // a share of capacity
		{"2.5%", ShareOf(0.025), true},         // fractions of a percent
		{"2", QPS(2), true},                    // queries per second
		{"inf", RateValue{QPS: InfRate}, true}, // every query at once
		{"%", RateValue{}, false},              // no number
		{"seventy%", RateValue{}, false},       // not a number
		{"NaN%", RateValue{}, false},           // not finite
	}
	for _, tc := range tests {
		got, err := ParseRateValue(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseRateValue(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestRateValueJSON: a share is written as its percentage, an absolute
// rate as schema.Rate writes it (so a profile without shares hashes as
// before), and both read back.
func TestRateValueJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    RateValue
		json string
	}{
		{ShareOf(0.75), `"75%"`},
		{QPS(2), `2`},
		{RateValue{QPS: InfRate}, `"inf"`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.v, b, err, tc.json)
			continue
		}
		var back RateValue
		if err := json.Unmarshal(b, &back); err != nil || back != tc.v {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
	var p Percent
	if err := json.Unmarshal([]byte(`"5%"`), &p); err != nil || math.Abs(float64(p)-0.05) > 1e-12 || p.String() != "5%" {
		t.Errorf("Percent 5%% = %v (%s), %v", float64(p), p, err)
	}
	if err := json.Unmarshal([]byte(`0.05`), &p); err == nil {
		t.Error("Percent read a bare number")
	}
}

// FuzzParseRateValue: ParseRateValue never panics, and a rate it accepts
// renders to a string it reads back the same.
func FuzzParseRateValue(f *testing.F) {
	for _, s := range []string{"75%", "2", "inf", "%", "1e309%", "-5%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRateValue(s)
		if err != nil {
			return
		}
		if math.IsNaN(r.Share) || math.IsInf(r.Share, 0) {
			t.Fatalf("ParseRateValue(%q) = %v", s, r)
		}
		back, err := ParseRateValue(r.String())
		if err != nil || math.Abs(back.Share-r.Share) > 1e-9*math.Max(1, math.Abs(r.Share)) || back.QPS != r.QPS && !(math.IsNaN(float64(back.QPS)) && math.IsNaN(float64(r.QPS))) {
			t.Fatalf("ParseRateValue(%q) = %v; its string %q reads %v, %v", s, r, r.String(), back, err)
		}
	})
}
