package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
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
