package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"loadgen/workload"
)

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400)
	tests := []struct{ in, want string }{
		{`{"error":{"message":"bad","type":"BadRequestError","code":400}}`, "bad"},        // vLLM ≥ 0.10.1
		{`{"object":"error","message":"flat","type":"NotFoundError","code":404}`, "flat"}, // vLLM ≤ 0.10.0
		{`{"error":"Unauthorized"}`, "Unauthorized"},                                      // API key middleware
		{`{"error":{"code":1}}`, `{"code":1}`},                                            // no message: raw
		{`{"detail":"x"}`, `{"detail":"x"}`},                                              // other JSON: as text
		{"  plain text\n", "plain text"},                                                  // not JSON
		{`{"message":"` + long + `"}`, strings.Repeat("é", 150) + "…"},                    // clipped on a rune boundary
	}
	for _, tc := range tests {
		if got := errorMessage([]byte(tc.in)); got != tc.want {
			t.Errorf("%.40s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	live := context.Background()
	dead, cancel := context.WithCancelCause(live)
	cancel(errServerGone)
	expired, cancel2 := context.WithTimeout(live, 0)
	defer cancel2()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		before bool
		kind   string
	}{
		{"refused", live, dial, true, KindConnect},                                   // nothing listens
		{"eof before response", live, io.EOF, true, KindConnect},                     // server closed the connection
		{"odd before response", live, errors.New("malformed HTTP"), true, KindOther}, // not a connection error
		{"cut stream", live, io.ErrUnexpectedEOF, false, KindStream},                 // dropped mid-stream
		{"deadline", expired, context.DeadlineExceeded, true, KindTimeout},           // request timeout
		{"aborted", dead, context.Canceled, false, KindCanceled},                     // loadgen aborted it
	}
	for _, tc := range tests {
		kind, msg := classify(tc.ctx, tc.err, 0, tc.before, 2)
		if kind != tc.kind || msg == "" {
			t.Errorf("%s: got %q %q, want %q", tc.name, kind, msg, tc.kind)
		}
	}
	if _, msg := classify(dead, context.Canceled, 0, false, 2); !strings.Contains(msg, "server exited") {
		t.Errorf("canceled message %q does not give the cause", msg)
	}
}

func TestWithHint(t *testing.T) {
	t.Parallel()
	item := func(body string) *queryState {
		return &queryState{item: workload.Item{Requests: []workload.Request{{Body: []byte(body)}}}}
	}
	rerank := item(`{"prompt":["a"],"max_tokens":1,"logprobs":20,"stream":true}`)
	plain := item(`{"prompt":["a"],"max_tokens":128,"stream":true}`)
	tests := []struct {
		name string
		q    *queryState
		kind string
		msg  string
		hint bool
	}{
		{"stream error event, logprobs asked", rerank, KindStream, "error event in stream: " + LogprobIndexError, true},
		{"HTTP 500, logprobs asked", rerank, KindHTTP5xx, "HTTP 500: " + LogprobIndexError, true},
		{"no logprobs asked: another cause", plain, KindHTTP5xx, "HTTP 500: " + LogprobIndexError, false},
		{"another message", rerank, KindHTTP5xx, "HTTP 500: engine dead", false},
		{"another kind", rerank, KindHTTP4xx, "HTTP 400: " + LogprobIndexError, false},
		{"no query (not dispatched)", nil, KindStream, "error event in stream: " + LogprobIndexError, false},
	}
	for _, tc := range tests {
		r := &Result{q: tc.q}
		r.fail(tc.kind, tc.msg)
		if got := strings.Contains(r.Err, OnDeviceSamplingHint); got != tc.hint || !strings.HasPrefix(r.Err, tc.msg) {
			t.Errorf("%s: Err %q, hint %v, want %v", tc.name, r.Err, got, tc.hint)
		}
	}
}
