package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"loadgen/loadgen/schema"
)

// writePhaseTable prints a phase result compactly for a terminal.
func writePhaseTable(w io.Writer, r *schema.PhaseResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Simulated {
		fmt.Fprintln(tw, "SIMULATED — measured against loadgen's simulator, not Inferentia2")
	}
	fmt.Fprintf(tw, "phase %s (%s, target %s q/s)\tconfig %s\tended: %s\n", r.Phase, r.Arrival, r.RequestRate, r.Config, r.EndReason)
	fmt.Fprintf(tw, "queries\t%d ok, %d failed\tquery throughput %.3f q/s, achieved arrival rate %.3f q/s\n",
		r.QueriesCompleted, r.QueriesFailed, r.QueryThroughput, r.AchievedRate)
	fmt.Fprintf(tw, "requests\t%d ok, %d failed\t%.2f req/s over %.2f s, late arrivals %d\n",
		r.Completed, r.Failed, r.RequestThroughput, r.Duration, r.LateArrivals)
	fmt.Fprintln(tw, "\nmetric (ms)\tmean\tp50\tp90\tp99\tmax")
	for _, m := range schema.Metrics {
		s, ok := r.Latency[m]
		if !ok || s.Count == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", m, s.Mean, s.P50, s.P90, s.P99, s.Max)
	}
	if r.QueryGoodput != nil {
		fmt.Fprintf(tw, "\ngoodput\t%.3f queries/s within the SLO\n", *r.QueryGoodput)
	}
	if len(r.Errors) > 0 {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		fmt.Fprintln(tw)
		for _, k := range kinds {
			e := r.Errors[k]
			fmt.Fprintf(tw, "errors %s\t%d\te.g. %s\n", k, e.Count, e.Sample)
		}
	}
	if q := r.Quality; q != nil && q.NDCG != nil {
		fmt.Fprintf(tw, "\nranking\tNDCG@%d %.3f, MRR %.3f over %d labelled queries\n", q.TopN, *q.NDCG, deref(q.MRR), q.LabelledQueries)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", strings.ReplaceAll(wn, "\t", " "))
	}
	return tw.Flush()
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
