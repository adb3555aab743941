package engine

import (
	"context"
	"net/http/httptest"
	"testing"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// ctxSource is a testSource that fails with ctx's error once ctx is done,
// as workload.RerankSource does.
type ctxSource struct{ testSource }

func (s *ctxSource) Next(ctx context.Context) (workload.Item, error) {
	if err := ctx.Err(); err != nil {
		return workload.Item{}, err
	}
	return s.testSource.Next(ctx)
}

// TestRunInterruptedAtStart cancels ctx before the phase starts, so that
// the prefetcher sees the cancellation first: its context error, or its
// early close, must not turn the interrupted phase into a failed ("error",
// "workload: context canceled") or completed-but-short one. The race is
// decided differently on every run; a hundred runs per arrival find any
// path that gets it wrong.
func TestRunInterruptedAtStart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(FastHandler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ph := range []Phase{
		{Name: "open", Arrival: schema.ArrivalPoisson, Rate: 400, Queries: 20, Seed: 1},
		{Name: "closed", Arrival: schema.ArrivalSync, Queries: 20},
		// 10^12 arrivals: normalising the schedule takes hours, and must
		// not stand between the interrupt and the result.
		{Name: "huge", Arrival: schema.ArrivalPoisson, Rate: 400, Queries: 1e12, Seed: 1},
	} {
		for range 100 {
			res, err := Run(ctx, ph, &ctxSource{testSource{reqs: 2}}, Options{BaseURL: srv.URL, Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			if res.EndReason != schema.EndInterrupted || len(res.Warnings) > 0 {
				t.Fatalf("%s: end %q, warnings %q; want interrupted and no warning", ph.Name, res.EndReason, res.Warnings)
			}
		}
	}
}
