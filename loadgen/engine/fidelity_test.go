package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"loadgen/loadgen/schema"
	"loadgen/workload"
)

// The fidelity benchmarks print the engine's fidelity and speed figures
// (the README's "Measured figures"); run them once each:
//
//	go test -run '^$' -bench Fidelity -benchtime 1x ./loadgen/engine
//
// The capacity and memory figures use a FastHandler server in a child
// process (this test binary, re-executed), so that CPU and memory are the
// client's alone.

// TestMain lets the test binary serve FastHandler for the benchmarks.
func TestMain(m *testing.M) {
	if os.Getenv("LOADGEN_FAST_SERVER") == "1" {
		ctx, cancel := context.WithCancel(context.Background())
		url, stop, err := serveFast(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(url)
		_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
		cancel()
		stop()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fastServerProcess starts the child server and returns its URL.
func fastServerProcess(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOADGEN_FAST_SERVER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // our own child, by its handle
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func BenchmarkFidelityAccuracy(b *testing.B) {
	for b.Loop() {
		f, err := MeasureAccuracy(context.Background(), 1000, 10000)
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + f.String())
		for _, r := range f.Rows {
			if r.Percentile == 99 {
				b.ReportMetric(r.MeasuredMs-r.TruthMs, r.Metric+"-p99-diff-ms")
			}
		}
		if !f.OK() {
			b.Error("accuracy outside 1% + 0.5 ms")
		}
	}
}

// BenchmarkFidelityBiasVsVegeta measures the latency bias of loadgen and
// of vegeta (when on PATH) against the same server with exactly known
// delays, in one run: constant 1000 requests/s for 10 s each, the same
// request body; loadgen's E2E and vegeta's latency (to the end of the
// response) against the server's own E2E. Run it with
//
//	go test -run '^$' -bench BiasVsVegeta -benchtime 1x -v ./loadgen/engine
func BenchmarkFidelityBiasVsVegeta(b *testing.B) {
	vegeta, err := exec.LookPath("vegeta")
	if err != nil {
		b.Skip("vegeta is not on PATH (go install github.com/tsenart/vegeta/v12@v12.13.0)")
	}
	srv, err := StartTruthServer(TruthDelaysDefault)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	dir := b.TempDir()
	body := dir + "/body.json"
	targets := dir + "/targets.txt"
	if err := os.WriteFile(body, truthRequest.Body, 0o644); err != nil {
		b.Fatal(err)
	}
	target := "POST " + srv.URL + DefaultEndpoint + "\nContent-Type: application/json\nAccept: text/event-stream\n@" + body + "\n"
	if err := os.WriteFile(targets, []byte(target), 0o644); err != nil {
		b.Fatal(err)
	}
	const rate, requests = 1000, 10000
	for b.Loop() {
		ph := Phase{Name: "bias", Arrival: schema.ArrivalConstant, Rate: rate, Queries: requests, Warmup: 20}
		f, err := measureAccuracy(context.Background(), srv, ph)
		if err != nil {
			b.Fatal(err)
		}
		srv.Reset()
		attack := exec.Command(vegeta, "attack", "-rate", fmt.Sprintf("%d/s", rate), "-duration", fmt.Sprintf("%ds", requests/rate),
			"-targets", targets, "-output", dir+"/results.bin")
		attack.Stderr = os.Stderr
		if err := attack.Run(); err != nil {
			b.Fatal(err)
		}
		out, err := exec.Command(vegeta, "report", "-type", "json", dir+"/results.bin").Output()
		if err != nil {
			b.Fatal(err)
		}
		var rep struct {
			Requests  int     `json:"requests"`
			Success   float64 `json:"success"`
			Latencies struct {
				P50 float64 `json:"50th"`
				P90 float64 `json:"90th"`
				P99 float64 `json:"99th"`
			} `json:"latencies"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			b.Fatal(err)
		}
		_, e2e := srv.Truth()
		var lines strings.Builder
		fmt.Fprintf(&lines, "E2E bias vs the server's own stamps, constant %d/s, %d requests each (vegeta: %d, success %.3f)\n", rate, requests, rep.Requests, rep.Success)
		fmt.Fprintf(&lines, "pct   truth ms   loadgen ms (bias)     vegeta truth ms   vegeta ms (bias)\n")
		for _, p := range []struct {
			pct float64
			v   float64
		}{{50, rep.Latencies.P50}, {90, rep.Latencies.P90}, {99, rep.Latencies.P99}} {
			var lg AccuracyRow
			for _, r := range f.Rows {
				if r.Metric == schema.MetricE2EL && r.Percentile == p.pct {
					lg = r
				}
			}
			vt := float64(e2e.ValueAtPercentile(p.pct)) / 1e3
			fmt.Fprintf(&lines, "p%-4g %8.3f   %8.3f (%+.3f)     %8.3f         %8.3f (%+.3f)\n", p.pct, lg.TruthMs, lg.MeasuredMs,
				lg.MeasuredMs-lg.TruthMs, vt, p.v/1e6, p.v/1e6-vt)
			if p.pct == 99 {
				b.ReportMetric(lg.MeasuredMs-lg.TruthMs, "loadgen-p99-bias-ms")
				b.ReportMetric(p.v/1e6-vt, "vegeta-p99-bias-ms")
			}
		}
		b.Log("\n" + lines.String())
	}
}

func BenchmarkFidelitySchedule(b *testing.B) {
	for b.Loop() {
		for _, ph := range []Phase{
			{Name: "poisson", Arrival: schema.ArrivalPoisson, Rate: 2000, Queries: 20000, Seed: 1},
			{Name: "gamma", Arrival: schema.ArrivalGamma, Rate: 2000, Burstiness: 0.5, Queries: 20000, Seed: 1},
			{Name: "constant", Arrival: schema.ArrivalConstant, Rate: 2000, Queries: 20000, Seed: 1},
		} {
			f, err := MeasureSchedule(context.Background(), "", ph)
			if err != nil {
				b.Fatal(err)
			}
			b.Log(f.String())
			if ph.Arrival == schema.ArrivalPoisson {
				b.ReportMetric(f.LagP99Ms, "poisson-lag-p99-ms")
				b.ReportMetric(f.RateError*100, "poisson-rate-err-%")
			}
			if !f.OK() {
				b.Errorf("%s: schedule targets missed", ph.Arrival)
			}
		}
	}
}

// capacityRequests is the size of the capacity run.
const capacityRequests = 100000

func BenchmarkFidelityCapacity(b *testing.B) {
	url := fastServerProcess(b)
	for b.Loop() {
		f, err := MeasureCapacity(context.Background(), url, 32, capacityRequests)
		if err != nil {
			b.Fatal(err)
		}
		b.Log(f.String())
		b.ReportMetric(f.PerSec, "req/s")
		b.ReportMetric(f.CPUPerRequestUs, "cpu-µs/req")
		b.ReportMetric(f.AllocsPerRequest, "allocs/req")
	}
}

func BenchmarkFidelityMemory(b *testing.B) {
	url := fastServerProcess(b)
	for b.Loop() {
		f, err := MeasureMemory(context.Background(), url, 32, 1000000)
		if err != nil {
			b.Fatal(err)
		}
		b.Log(f.String())
		if n := len(f.Points); n >= 2 {
			b.ReportMetric(f.Points[n-1].RSSMB-f.Points[0].RSSMB, "rss-growth-MB")
		}
	}
}

// memConn is a connection to an in-memory server that answers every
// request (one Write) with the same response.
type memConn struct {
	resp []byte
	r    bytes.Reader
}

// memDial returns a dialer of memConns answering with an SSE body.
func memDial(body []byte) func(context.Context, string, string) (net.Conn, error) {
	resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	return func(context.Context, string, string) (net.Conn, error) { return &memConn{resp: resp}, nil }
}

func (c *memConn) Write(p []byte) (int, error)      { c.r.Reset(c.resp); return len(p), nil }
func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkClientDo measures the client's own cost per request (request
// head, response head, SSE reading, chunk scanning, stamps) over an
// in-memory connection: the allocation budget of the hot path, without the
// network.
func BenchmarkClientDo(b *testing.B) {
	body := []byte(tokenChunk + usageChunk(12, 1) + doneEvent)
	c, err := newClient(Phase{}, &Options{BaseURL: "http://127.0.0.1:1", Dial: memDial(body)})
	if err != nil {
		b.Fatal(err)
	}
	req := &workload.Request{Body: SyntheticBody, Prompts: 1}
	now := func() time.Duration { return 0 }
	b.ReportAllocs()
	for b.Loop() {
		r := getResult()
		c.do(context.Background(), req, r, now)
		if r.Failed() {
			b.Fatal(r.Err)
		}
		putResult(r)
	}
}

// scoredBody is a reranker request's stream as FastHandler sends it: eight
// choice chunks, each with the first token's top 20 logprobs (logprobs:
// 20), then usage and [DONE].
func scoredBody() []byte {
	return (&fastServer{streams: map[fastKey][]byte{}}).stream(fastKey{prompts: 8, logprobs: 20})
}

// BenchmarkClientDoScored is BenchmarkClientDo for a scored reranker
// request: eight choices, each scored from its top logprobs.
func BenchmarkClientDoScored(b *testing.B) {
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	c, err := newClient(Phase{}, &Options{BaseURL: "http://127.0.0.1:1", Scorer: &scorer, Dial: memDial(scoredBody())})
	if err != nil {
		b.Fatal(err)
	}
	req := &workload.Request{Body: SyntheticBody, Prompts: 8}
	now := func() time.Duration { return 0 }
	b.ReportAllocs()
	for b.Loop() {
		r := getResult()
		r.Prompts = 8
		c.do(context.Background(), req, r, now)
		if r.Failed() || len(r.Scores) != 8 {
			b.Fatal(r.Err, r.Scores)
		}
		putResult(r)
	}
}

func BenchmarkChunkParse(b *testing.B) {
	data := []byte(evTok0)
	var c chunk
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := c.parse(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSSEReader(b *testing.B) {
	stream := []byte(sse(evTok0, evTok0, evTok0, evUsage, evDone))
	s := newSSEReader(nil, DefaultMaxEventBytes)
	rd := bytes.NewReader(stream)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		rd.Reset(stream)
		s.reset(rd, DefaultMaxEventBytes)
		for {
			if _, err := s.next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkChunkParseScored parses one scored reranker chunk (20 top
// logprobs) with a scorer.
func BenchmarkChunkParseScored(b *testing.B) {
	data := []byte(logprobsEv(3, `{"yes":-0.6886,"no":-0.7815,"tok0":-3.25,"tok1":-4.25,"tok2":-5.25,"tok3":-6.25,"tok4":-7.25,`+
		`"tok5":-8.25,"tok6":-9.25,"tok7":-10.25,"tok8":-11.25,"tok9":-12.25,"tok10":-13.25,"tok11":-14.25,"tok12":-15.25,`+
		`"tok13":-16.25,"tok14":-17.25,"tok15":-18.25,"tok16":-19.25,"tok17":-20.25}`))
	scorer := workload.NewScorer(workload.Qwen3YesID, workload.Qwen3NoID)
	var c chunk
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := c.parse(data, &scorer); err != nil || !c.choices[0].scored {
			b.Fatal(err)
		}
	}
}
