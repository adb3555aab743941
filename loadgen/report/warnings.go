package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"loadgen/loadgen/schema"
)

// warning is one caveat; config is "" for sweep-wide ones. A note is
// informational and puts no number in doubt.
type warning struct {
	config string
	text   string
	note   bool
}

// warnings collects, config by config and phase by phase, what a reader
// must know before trusting the numbers, and the informational notes.
func (s *Sweep) warnings() (warnings, notes []string) {
	warnings, notes = []string{}, []string{}
	for _, w := range s.warningList() {
		if w.note {
			notes = append(notes, w.text)
		} else {
			warnings = append(warnings, w.text)
		}
	}
	return warnings, notes
}

func (s *Sweep) warningList() []warning {
	var ws []warning
	for _, p := range s.Problems {
		ws = append(ws, warning{text: "results: " + p})
	}
	if s.manifest().Simulated != s.Simulated() {
		ws = append(ws, warning{text: "the manifest says the run was not simulated, but some phase results say they were: treating the whole sweep as SIMULATED"})
	}
	if st := s.manifest().Stack; st != nil {
		line := fmt.Sprintf("vllm-neuron stack %s (%s)", st.Name, st.Source)
		if len(st.Versions) > 0 {
			var vs []string
			for k, v := range st.Versions {
				vs = append(vs, k+" "+v)
			}
			sort.Strings(vs)
			line += ": " + strings.Join(vs, ", ")
		}
		ws = append(ws, warning{text: line, note: true})
		for _, n := range st.Notes {
			ws = append(ws, warning{text: "stack: " + n})
		}
	}
	ws = append(ws, s.scaleWarnings()...)
	for i := range s.Configs {
		ws = append(ws, configWarnings(&s.Configs[i])...)
	}
	return ws
}

// scaleWarnings say how the sweep was spread: phases measured beside other
// configurations on other core groups (they may interfere), and the
// directories a merge joined.
func (s *Sweep) scaleWarnings() []warning {
	var ws []warning
	beside, total := 0, 0
	for i := range s.Configs {
		for _, r := range s.Configs[i].Results() {
			total++
			if len(r.ConcurrentWith) > 0 {
				beside++
			}
		}
	}
	if beside > 0 {
		ws = append(ws, warning{text: fmt.Sprintf("%d of %d phase results were measured while other configurations ran on other core groups "+
			"(server.neuron_cores lists groups): they share the host's CPUs (the load client, vLLM's CPU sampling, compiles), so concurrent "+
			"results may interfere; each result names them (concurrent_with); server.measure: serial measures one configuration at a time", beside, total)})
	}
	if parts := s.manifest().MergedFrom; len(parts) > 0 {
		hosts := map[string]bool{}
		for _, p := range parts {
			hosts[p.Host.Hostname] = true
		}
		ws = append(ws, warning{note: true, text: fmt.Sprintf("merged from %d result directories on %d host(s) (manifest.json: merged_from)", len(parts), len(hosts))})
	}
	return ws
}

func configWarnings(c *ConfigResult) []warning {
	var ws []warning
	add := func(format string, args ...any) {
		ws = append(ws, warning{config: c.Name, text: fmt.Sprintf("config %s: ", c.Name) + fmt.Sprintf(format, args...)})
	}
	if !c.passed() && c.Status.Status != schema.StatusPending {
		msg := orUnknown(c.Status.Status)
		if fc := c.FailureClass(); fc != "" {
			msg += " (" + fc + ")"
		}
		if r := c.FailureReason(); r != "" {
			msg += ": " + r
		}
		add("%s", msg)
	}
	if c.Startup != nil {
		for _, f := range c.Startup.Findings {
			switch {
			case f.Fatal:
			case f.Class == schema.FailureInvalidConfig:
				add("invalid-config finding: %s (log: %q)", f.Message, f.Line)
			case f.Class.IsNote():
				ws = append(ws, warning{config: c.Name, text: fmt.Sprintf("config %s: startup note: %s", c.Name, f.Message), note: true})
			default:
				add("startup note %s: %s", f.Class, f.Message)
			}
		}
	}
	for _, o := range c.Status.Overrides {
		ws = append(ws, warning{config: c.Name, text: fmt.Sprintf("config %s: %s", c.Name, o), note: true})
	}
	switch c.Status.PrefixCacheReset {
	case schema.ResetUnsupported:
		add("the server refused to reset its prefix cache between phases, so each phase after the first started with a warm cache")
	case schema.ResetFailed:
		add("resetting the prefix cache failed (transient error or the server was gone), so a phase may have started with a warm cache")
	}
	var missing []string
	for _, p := range c.Phases {
		if p.Result == nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", p.Name, orUnknown(p.Status)))
			continue
		}
		for _, t := range phaseWarnings(c, p) {
			add("phase %s: %s", p.Name, t)
		}
		for _, t := range phaseNotes(c, p) {
			ws = append(ws, warning{config: c.Name, text: fmt.Sprintf("config %s: phase %s: %s", c.Name, p.Name, t), note: true})
		}
	}
	if len(missing) > 0 {
		add("no results for phase %s", strings.Join(missing, ", "))
	}
	return ws
}

// phaseWarnings are the caveats of one phase result. A search's trials
// end early and fail by design: their verdicts are the search's record,
// and only what the engine itself warned of is repeated.
func phaseWarnings(c *ConfigResult, p *Phase) []string {
	r := p.Result
	if p.trial() {
		return r.Warnings
	}
	var ws []string
	switch {
	case r.EndReason == schema.EndSaturated:
		ws = append(ws, saturationWarning(r))
	case r.EndReason != "" && r.EndReason != "completed" && r.EndReason != "duration":
		ws = append(ws, fmt.Sprintf("ended early (%s)", r.EndReason))
	}
	if r.Failed > 0 {
		ws = append(ws, fmt.Sprintf("%d of %d requests failed (%s)", r.Failed, r.Failed+r.Completed, errorKinds(r.Errors)))
	}
	if q := r.Quality; q != nil && q.MissingYes+q.MissingNo > 0 {
		ws = append(ws, fmt.Sprintf("logprobs missing: %d of %d scored documents lacked \"yes\", %d lacked \"no\"; "+
			"their scores use logprob -10 (vllm-neuron returns logprobs only with on_device_sampling_config: null)",
			q.MissingYes, q.ScoredDocuments, q.MissingNo))
	}
	if r.LateArrivals > 0 && !isInf(r) { // at rate inf, waiting for the cap is the point
		ws = append(ws, fmt.Sprintf("%d arrivals were sent more than %g ms late (concurrency cap reached or client stalled); "+
			"see schedule lag and response time", r.LateArrivals, r.LateThresholdMs))
	}
	pc := c.Settings.Bool(KeyPrefixCaching)
	cacheOff := pc != nil && !*pc
	switch {
	case r.DatasetCycles == 0, cacheOff: // with caching off, a note (phaseNotes)
	case pc != nil && *pc:
		hit := ""
		if sm := r.ServerMetrics; sm != nil && sm.PrefixCacheHitRate != nil {
			hit = fmt.Sprintf(" (prefix-cache hit rate %.1f%%)", 100**sm.PrefixCacheHitRate)
		}
		ws = append(ws, fmt.Sprintf("the dataset wrapped %s with prefix caching on, so repeated prompts hit the cache%s "+
			"and flatter its latency", times(r.DatasetCycles), hit))
	default:
		ws = append(ws, fmt.Sprintf("dataset wrapped %s: prompts repeated (prefix caching not recorded: if it was on, "+
			"repeats hit the cache)", times(r.DatasetCycles)))
	}
	// The sweep resets the cache after the warmup; without that reset what
	// the warmup cached (the shared instruction prefix, and its prompts
	// once the dataset wraps) can be hit by the measured part.
	if r.WarmupQueries > 0 && c.Status.PrefixCacheReset != schema.ResetOK && !cacheOff {
		ws = append(ws, fmt.Sprintf("the prefix cache was not reset after the %d warmup queries (%s), so warmup prompts "+
			"may have warmed the cache for the measured part", r.WarmupQueries, resetWhy(c.Status.PrefixCacheReset)))
	}
	if isOpenLoop(r) && r.Saturation == nil && r.AchievedRate < (1-rateTolerance(r))*float64(r.RequestRate) {
		ws = append(ws, fmt.Sprintf("achieved rate %.2f queries/s is below the target %s by more than the schedule's randomness explains "+
			"(dispatcher or client saturated?)", r.AchievedRate, r.RequestRate))
	}
	if len(r.ConcurrentWith) > 0 {
		ws = append(ws, fmt.Sprintf("ran on cores %s beside %s on other core groups: the numbers may include their interference",
			orUnknown(r.NeuronCores), strings.Join(r.ConcurrentWith, ", ")))
	}
	ws = append(ws, r.Warnings...)
	return ws
}

// phaseNotes are the informational notes of one phase result.
func phaseNotes(c *ConfigResult, p *Phase) []string {
	r := p.Result
	if pc := c.Settings.Bool(KeyPrefixCaching); r.DatasetCycles > 0 && pc != nil && !*pc {
		return []string{fmt.Sprintf("dataset wrapped %s: prompts repeated", times(r.DatasetCycles))}
	}
	return nil
}

// times renders a repeat count: "1 time", "3 times".
func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}

// resetWhy says why the prefix cache was not reset, from the config's
// reset status.
func resetWhy(status string) string {
	switch status {
	case "":
		return "no reset was attempted"
	case schema.ResetUnsupported:
		return "refused by the server"
	case schema.ResetFailed:
		return "the reset failed"
	}
	return "reset status " + status
}

// rateTolerance is how far below its target an open-loop phase's achieved
// rate may fall before it is worth a warning: 5%, or for a random schedule
// three standard deviations of the rate estimated from n arrivals, which
// for gamma gaps of shape k (Poisson: k = 1) is 1/√(n·k).
func rateTolerance(r *schema.PhaseResult) float64 {
	tol := 0.05
	if r.Arrival == "constant" {
		return tol
	}
	k := r.Burstiness
	if k <= 0 {
		k = 1
	}
	if n := float64(r.QueriesCompleted + r.QueriesFailed); n > 0 {
		tol = math.Max(tol, 3/math.Sqrt(n*k))
	}
	return tol
}

// errorKinds renders error counts as "kind×n: sample; …", most frequent
// first.
func errorKinds(errs map[string]schema.ErrorCount) string {
	kinds := make([]string, 0, len(errs))
	for k := range errs {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if errs[kinds[i]].Count != errs[kinds[j]].Count {
			return errs[kinds[i]].Count > errs[kinds[j]].Count
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s×%d", k, errs[k].Count)
		if s := errs[k].Sample; s != "" {
			parts[i] += ": " + s
		}
	}
	if len(parts) == 0 {
		return "no error kinds recorded"
	}
	return strings.Join(parts, "; ")
}
