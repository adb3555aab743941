package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// reqLog streams requests.jsonl: one JSON object per request, written as
// results arrive, so nothing per request stays in memory. Stamps are
// microseconds from the phase origin (started_at; warmup stamps are
// negative); a stamp that was never taken is null. Against the simulator
// every line also carries "simulated":true.
//
//	{"query":3,"cycle":0,"request":0,"warmup":false,"prompts":8,
//	 "scheduled_us":1200.0,"sent_us":1201.3,"first_token_us":25010.2,"end_us":25011.0,
//	 "ttft_ms":23.809,"e2el_ms":23.810,"status":200,"prompt_tokens":3312,
//	 "output_tokens":8,"chunks":8,"error_kind":"","error":""}
type reqLog struct {
	sim bool // add "simulated":true to every line
	bw  *bufio.Writer
	buf []byte
	err error
}

func newReqLog(w io.Writer, simulated bool) *reqLog {
	return &reqLog{sim: simulated, bw: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 512)}
}

// write appends one line for r; origin is the phase origin.
func (l *reqLog) write(r *Result, origin time.Duration) {
	if l.err != nil {
		return
	}
	b := l.buf[:0]
	b = append(b, `{"query":`...)
	b = strconv.AppendInt(b, int64(r.Query), 10)
	b = append(b, `,"cycle":`...)
	b = strconv.AppendInt(b, int64(r.Cycle), 10)
	b = append(b, `,"request":`...)
	b = strconv.AppendInt(b, int64(r.Request), 10)
	b = append(b, `,"warmup":`...)
	b = strconv.AppendBool(b, r.Warmup)
	b = append(b, `,"prompts":`...)
	b = strconv.AppendInt(b, int64(r.Prompts), 10)
	sent := !r.NotSent
	first := sent && r.Chunks > 0
	b = appendStamp(b, `,"scheduled_us":`, r.Scheduled-origin, true)
	b = appendStamp(b, `,"sent_us":`, r.Sent-origin, sent)
	b = appendStamp(b, `,"first_token_us":`, r.FirstToken-origin, first)
	b = appendStamp(b, `,"end_us":`, r.End-origin, sent)
	b = appendMs(b, `,"ttft_ms":`, r.TTFT(), first)
	b = appendMs(b, `,"e2el_ms":`, r.E2E(), first && !r.Failed())
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"prompt_tokens":`...)
	b = strconv.AppendInt(b, r.PromptTokens, 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, r.OutputTokens, 10)
	b = append(b, `,"chunks":`...)
	b = strconv.AppendInt(b, int64(r.Chunks), 10)
	b = append(b, `,"error_kind":"`...)
	b = append(b, r.Kind...) // a fixed identifier
	b = append(b, `","error":`...)
	if r.Err == "" {
		b = append(b, `""`...)
	} else {
		q, err := json.Marshal(r.Err)
		if err != nil {
			q = []byte(`"unencodable error text"`)
		}
		b = append(b, q...)
	}
	if l.sim {
		b = append(b, `,"simulated":true`...)
	}
	b = append(b, "}\n"...)
	l.buf = b
	if _, err := l.bw.Write(b); err != nil {
		l.err = fmt.Errorf("requests log: %w", err)
	}
}

func appendStamp(b []byte, key string, d time.Duration, ok bool) []byte {
	b = append(b, key...)
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(d)/1e3, 'f', 1, 64)
}

func appendMs(b []byte, key string, d time.Duration, ok bool) []byte {
	b = append(b, key...)
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(d)/1e6, 'f', 3, 64)
}

// flush writes out what is buffered and returns the first error.
func (l *reqLog) flush() error {
	if l.err == nil {
		if err := l.bw.Flush(); err != nil {
			l.err = fmt.Errorf("requests log: %w", err)
		}
	}
	return l.err
}
