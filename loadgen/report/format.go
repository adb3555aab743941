package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"loadgen/loadgen/schema"
)

// dash stands for a value that does not exist.
const dash = "—"

// fmtF formats an optional number with a fixed number of decimals.
func fmtF(v *float64, decimals int) string {
	if v == nil {
		return dash
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

// fmtPct formats a fraction (0..1) as a percentage.
func fmtPct(v *float64) string {
	if v == nil {
		return dash
	}
	return strconv.FormatFloat(100**v, 'f', 1, 64) + "%"
}

// fmtRate formats a target rate: "sync" for the closed loop, "inf", or
// the number to 4 significant digits (a relative rate's is computed).
func fmtRate(arrival string, r *schema.Rate) string {
	switch {
	case arrival == "sync":
		return "sync"
	case r == nil:
		return dash
	case r.IsInf():
		return r.String()
	default:
		return strconv.FormatFloat(float64(*r), 'g', 4, 64)
	}
}

// fmtOnOff formats an optional boolean setting.
func fmtOnOff(b *bool) string {
	switch {
	case b == nil:
		return dash
	case *b:
		return "on"
	default:
		return "off"
	}
}

// fmtTime formats a timestamp in UTC, to the second.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fmtErrors formats failed requests with their kinds, most frequent first.
func fmtErrors(n *int, kinds map[string]int) string {
	if n == nil {
		return dash
	}
	if len(kinds) == 0 {
		return strconv.Itoa(*n)
	}
	ks := make([]string, 0, len(kinds))
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if kinds[ks[i]] != kinds[ks[j]] {
			return kinds[ks[i]] > kinds[ks[j]]
		}
		return ks[i] < ks[j]
	})
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s×%d", k, kinds[k])
	}
	return fmt.Sprintf("%d (%s)", *n, strings.Join(parts, ", "))
}

// orDash returns s, or a dash when it is empty.
func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

// pct formats a relative change in percent with its sign.
func pct(v float64) string {
	return fmt.Sprintf("%+.1f%%", v)
}
