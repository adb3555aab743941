package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"loadgen/loadgen/schema"
)

// ErrUnreadable marks a results directory whose manifest exists but cannot
// be read (corrupt, or written by a newer loadgen): what is stored does not
// parse, which `loadgen report --check` reports with exit status 1.
var ErrUnreadable = errors.New("results cannot be read")

// checkFiles notes, for one configuration, what its records claim and its
// files do not hold: an .hlog that does not parse or whose counts disagree
// with the phase result (a damaged .hlog must not turn a plot into the
// JSON fallback unnoticed), a configuration that ran without
// startup.json. Load calls it; the histograms it reads are the ones
// Phase.Histograms returns.
func (s *Sweep) checkFiles(c *ConfigResult) {
	ran := c.Status.Status == schema.StatusOK
	for _, p := range c.Phases {
		if p.Result == nil {
			continue
		}
		ran = true
		if p.HlogPath == "" {
			continue // Check's to report: results copied without .hlog still render
		}
		hists, err := p.Histograms()
		if err != nil {
			s.problem("config %s phase %s: %v", c.Name, p.Name, err)
			continue
		}
		for _, m := range schema.Metrics {
			want := p.Result.Latency[m].Count
			var got int64
			if h := hists[m]; h != nil {
				got = h.TotalCount()
			}
			if got != want {
				s.problem("config %s phase %s: %s holds %d %s values, the phase result %d: the .hlog is damaged or not this phase's",
					c.Name, p.Name, filepath.Base(p.HlogPath), got, m, want)
				break
			}
		}
	}
	if ran && c.Startup == nil {
		s.problem("config %s: %s is missing", c.Name, schema.StartupFile(c.Name))
	}
}

// measured reports whether a phase result holds measured latencies, which
// its .hlog must hold too.
func measured(r *schema.PhaseResult) bool {
	for _, st := range r.Latency {
		if st.Count > 0 {
			return true
		}
	}
	return false
}

// Check reads everything the results directory holds that Load does not
// read whole — every scored phase's <phase>.scores.jsonl — and holds it to
// what the records claim: a phase result with measured latencies has its
// .hlog, a scored phase its scores. It returns every problem found, Load's
// included: what `loadgen report --check` reports. (Load itself accepts
// results without .hlog files, rendering their distributions from the
// JSON's percentiles, as the plots say.)
func (s *Sweep) Check() []string {
	problems := append([]string(nil), s.Problems...)
	for i := range s.Configs {
		c := &s.Configs[i]
		for _, p := range c.Phases {
			if p.Result == nil {
				continue
			}
			if p.HlogPath == "" && measured(p.Result) {
				problems = append(problems, fmt.Sprintf("config %s phase %s: %s.hlog is missing", c.Name, p.Name, p.Name))
			}
			if p.Result.Quality == nil {
				continue // no scores to write: not a rerank workload
			}
			path := filepath.Join(s.Dir, c.Name, p.Name+".scores.jsonl")
			if err := checkScores(path); err != nil {
				problems = append(problems, fmt.Sprintf("config %s phase %s: %v", c.Name, p.Name, err))
			}
		}
	}
	return problems
}

// scoreLine is what every line of scores.jsonl holds (workload.ScoreRecord).
type scoreLine struct {
	Query *int     `json:"query"`
	Doc   *int     `json:"doc"`
	Score *float64 `json:"score"`
	Rank  *int     `json:"rank"`
}

// checkScores reads a scores.jsonl whole: it must exist and every line must
// be a score record.
func checkScores(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is missing", filepath.Base(path))
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var rec scoreLine
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("%s:%d: not a score record: %v", path, line, err)
		}
		if rec.Query == nil || rec.Doc == nil || rec.Score == nil || rec.Rank == nil {
			return fmt.Errorf("%s:%d: not a score record: want query, doc, score and rank", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
