package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OfflineResult is one result file of the offline benchmark (a Python
// script that ran vllm.LLM per configuration; see the README):
// `<name>.json` with "configuration" (its settings), "metrics"
// (avg/min/max/p50/p95/p99 time per query, total_queries, total_time,
// throughput_queries_per_sec) and optionally "raw_times" (seconds per query).
type OfflineResult struct {
	// Name is the file name without .json, as the offline script named
	// its configs (e.g. cache_OFF_bucketing_ON).
	Name string `json:"name"`
	Path string `json:"path"`
	// Configuration holds the settings the script recorded.
	Configuration Settings       `json:"configuration"`
	Metrics       OfflineMetrics `json:"metrics"`
	// RawTimes are the per-query seconds, when the file has them.
	RawTimes []float64 `json:"raw_times,omitempty"`
}

// OfflineMetrics are the offline script's metrics, in seconds. Min and max
// are nil when the file gives no value for them.
type OfflineMetrics struct {
	AvgTimePerQuery         float64  `json:"avg_time_per_query"`
	MinTimePerQuery         *float64 `json:"min_time_per_query"`
	MaxTimePerQuery         *float64 `json:"max_time_per_query"`
	P50Time                 float64  `json:"p50_time"`
	P95Time                 float64  `json:"p95_time"`
	P99Time                 float64  `json:"p99_time"`
	TotalQueries            int      `json:"total_queries"`
	TotalTime               float64  `json:"total_time"`
	ThroughputQueriesPerSec float64  `json:"throughput_queries_per_sec"`
}

// errNotOffline marks a JSON file that is not an offline result (the
// offline benchmark's own config file, say); LoadOffline skips those when
// it scans a directory.
var errNotOffline = errors.New("not an offline result: no \"metrics\" object")

// ParseOffline decodes one offline result file's content; name is the
// config name (the file name without .json).
func ParseOffline(name string, data []byte) (OfflineResult, error) {
	var raw struct {
		Configuration json.RawMessage `json:"configuration"`
		Metrics       *OfflineMetrics `json:"metrics"`
		RawTimes      []float64       `json:"raw_times"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Infinity")) {
			return OfflineResult{}, fmt.Errorf("%w (the file has NaN or Infinity, which JSON does not allow)", err)
		}
		return OfflineResult{}, err
	}
	if raw.Metrics == nil {
		return OfflineResult{}, errNotOffline
	}
	m := raw.Metrics
	if !(m.ThroughputQueriesPerSec > 0) || math.IsInf(m.ThroughputQueriesPerSec, 0) {
		return OfflineResult{}, fmt.Errorf("metrics.throughput_queries_per_sec: want a positive number, got %v", m.ThroughputQueriesPerSec)
	}
	set, err := ParseSettings(raw.Configuration)
	if err != nil {
		return OfflineResult{}, fmt.Errorf("configuration: %w", err)
	}
	return OfflineResult{Name: name, Configuration: set, Metrics: *m, RawTimes: raw.RawTimes}, nil
}

// LoadOffline reads offline result files. Each path is a file, or a
// directory whose *.json files are read in name order; in a directory,
// JSON files without a "metrics" object (the benchmark's own config file)
// are skipped. Two results with the same name are an error.
func LoadOffline(paths ...string) ([]OfflineResult, error) {
	var out []OfflineResult
	seen := map[string]string{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("offline results: %w", err)
		}
		files := []string{p}
		if fi.IsDir() {
			if files, err = filepath.Glob(filepath.Join(p, "*.json")); err != nil {
				return nil, fmt.Errorf("offline results %s: %w", p, err)
			}
			sort.Strings(files)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("offline results: %w", err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			r, err := ParseOffline(name, b)
			if errors.Is(err, errNotOffline) && fi.IsDir() {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("offline result %s: %w", f, err)
			}
			if prev, dup := seen[name]; dup {
				return nil, fmt.Errorf("offline results: %s and %s both name config %q", prev, f, name)
			}
			seen[name] = f
			r.Path = f
			out = append(out, r)
		}
		if fi.IsDir() && len(files) == 0 {
			return nil, fmt.Errorf("offline results: no *.json files in %s", p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("offline results: no result files in %s", strings.Join(paths, ", "))
	}
	return out, nil
}
