package sim

import "testing"

// BenchmarkDecodeCompletion measures decoding the request the wrk figure
// is measured with (benchBody), the simulator's one hot-path body.
func BenchmarkDecodeCompletion(b *testing.B) {
	body := []byte(benchBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var req completionRequest // as parseCompletion does
		if err := decodeCompletion(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
