package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxErrorText bounds error messages kept in results.
const maxErrorText = 300

// errorMessage extracts the message of a vLLM error body: the nested
// {"error":{"message":…}} of vLLM ≥ 0.10.1, the flat {"message":…} of older
// versions, or {"error":"…"} (e.g. 401 Unauthorized). Anything else is
// returned as trimmed text.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message *string         `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		if len(v.Error) > 0 && string(v.Error) != "null" {
			var s string
			if json.Unmarshal(v.Error, &s) == nil {
				return clip(s)
			}
			var o struct {
				Message *string `json:"message"`
			}
			if json.Unmarshal(v.Error, &o) == nil && o.Message != nil {
				return clip(*o.Message)
			}
			return clip(string(v.Error))
		}
		if v.Message != nil {
			return clip(*v.Message)
		}
	}
	return clip(strings.TrimSpace(string(body)))
}

// clip shortens s to maxErrorText bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	n := maxErrorText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// statusKind maps a non-200 status to an error kind.
func statusKind(code int) string {
	switch {
	case code >= 400 && code < 500:
		return KindHTTP4xx
	case code >= 500 && code < 600:
		return KindHTTP5xx
	}
	return KindOther
}

// classify maps an error of a request whose context is ctx to a kind and a
// message. before says whether it happened before a response arrived
// (connection trouble) or while reading the stream.
func classify(ctx context.Context, err error, timeout time.Duration, before bool, chunks int) (kind, msg string) {
	where := "before a response"
	if !before {
		where = fmt.Sprintf("after %d choice chunks", chunks)
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return KindTimeout, fmt.Sprintf("request timeout (%v) %s", timeout, where)
		}
		return KindCanceled, fmt.Sprintf("aborted %s: %v", where, context.Cause(ctx))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout, clip(fmt.Sprintf("%s: %v", where, err))
	}
	if before {
		var oe *net.OpError
		if errors.As(err, &oe) || errors.Is(err, syscall.ECONNREFUSED) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) ||
			errors.Is(err, io.ErrUnexpectedEOF) {
			return KindConnect, clip(err.Error())
		}
		return KindOther, clip(err.Error())
	}
	return KindStream, clip(fmt.Sprintf("connection dropped %s: %v", where, err))
}

// LogprobIndexError is the error message vLLM 0.11 gives a completion
// request that asked for logprobs while vllm-neuron samples on device: the
// plugin returns no logprob tensors, vLLM keeps an empty list and indexes
// it (IndexError). Streamed, it arrives as an error event; otherwise as
// HTTP 500. source: vllm-project/vllm v0.11.0
// vllm/entrypoints/openai/serving_completion.py L625 (the text and its
// sources are kept with the stack's other facts in
// server/neuron.MsgLogprobIndexError; a test keeps the two equal).
const LogprobIndexError = "list index out of range"

// OnDeviceSamplingHint says what to do about LogprobIndexError.
const OnDeviceSamplingHint = "on-device sampling is on: set on_device_sampling_config: null"

// withHint adds what to do to the message of a failed request when the
// engine knows the cause: a stream error event or an HTTP 5xx whose
// message is LogprobIndexError, on a request that asked for logprobs.
func (r *Result) withHint(kind, msg string) string {
	if (kind != KindStream && kind != KindHTTP5xx) || !strings.HasSuffix(msg, LogprobIndexError) || !r.askedLogprobs() {
		return msg
	}
	return msg + " (" + OnDeviceSamplingHint + ")"
}

// askedLogprobs reports whether the request's body asked for logprobs.
func (r *Result) askedLogprobs() bool {
	if r.q == nil || r.Request < 0 || r.Request >= len(r.q.item.Requests) {
		return false
	}
	var body struct {
		Logprobs *int `json:"logprobs"`
	}
	return json.Unmarshal(r.q.item.Requests[r.Request].Body, &body) == nil && body.Logprobs != nil
}
