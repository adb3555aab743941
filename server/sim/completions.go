package sim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"loadgen/server/neuron"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// choice is the handler's view of one prompt's output.
type choice struct {
	s        *seq
	textLen  int        // characters of text streamed so far (text_offset)
	toks     []genToken // kept for non-stream responses
	lastAt   time.Time
	itl      []float64
	written  time.Time
	complete bool // its last token arrived
	done     bool // recorded
	dist     []candidate
}

// token produces the output token at position pos of c.
func (s *Server) token(c *choice, p *params, pos int) genToken {
	info := c.s.info
	dist := info.first
	if pos > 0 {
		c.dist = laterDist(c.dist, info.hash, pos)
		dist = c.dist
	}
	allowed := p.allowed
	if s.cfg.Neuron.OnDeviceSampling {
		allowed = nil // on-device sampling ignores allowed_token_ids
	}
	u := unit(info.hash ^ p.seed ^ uint64(s.opts.SimSeed)*0x9e37 ^ uint64(pos)<<40)
	c0 := pick(dist, p.temperature, allowed, u)
	text, _ := theVocab.piece(c0.id)
	if c0.id >= TokEndOfText {
		text = "" // skip_special_tokens
	}
	return genToken{id: c0.id, text: text, lp: c0.lp, lpTxt: c0.txt, top: dist}
}

// withLogprobs reports whether responses carry logprobs (requested).
func (s *Server) withLogprobs(p *params) bool { return p.logprobs >= 0 }

// logprobsFail reports whether the request fails when its first token is
// rendered: it asked for logprobs while the plugin samples on device,
// which returns none, and vLLM 0.11 then indexes an empty list
// (neuron.MsgLogprobIndexError).
func (s *Server) logprobsFail(p *params) bool {
	return p.logprobs >= 0 && s.cfg.Neuron.OnDeviceSampling
}

// Error types vLLM 0.11 gives the logprobs failure: a stream's error event
// is built by create_streaming_error_response (default "BadRequestError",
// 400; serving_engine.py L454–464), a non-streamed request fails through
// api_server's HTTPException(500) handler (api_server.py L648–655,
// L1512–1518).
const (
	streamErrorType = "BadRequestError"
	http500Type     = "Internal Server Error"
)

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	bp := bufPool.Get().(*[]byte)
	defer func() { *bp = (*bp)[:0]; bufPool.Put(bp) }()
	body, err := readBody(r.Body, (*bp)[:0])
	*bp = body
	s.stats.add(func(st *Stats) { st.Requests++ })
	if err != nil {
		s.fail(w, &apiError{status: http.StatusBadRequest, typ: "Bad Request", message: "error reading body: " + err.Error()})
		return
	}
	p, aerr := s.parseCompletion(body)
	if aerr != nil {
		s.fail(w, aerr)
		return
	}
	if !s.alive() {
		s.fail(w, &apiError{status: http.StatusInternalServerError, typ: "InternalServerError", message: EngineDeadMessage})
		return
	}
	if n := s.arrivals.Add(1); s.opts.CrashAfter > 0 && n > int64(s.opts.CrashAfter) {
		s.countFault("crash")
		s.die("RuntimeError: simulated engine crash after " + strconv.Itoa(s.opts.CrashAfter) + " requests (--sim-crash-after)")
		s.fail(w, &apiError{status: http.StatusInternalServerError, typ: "InternalServerError", message: EngineDeadMessage})
		return
	}
	f := s.drawFaults()
	if f.err {
		s.countFault("error")
		s.fail(w, &apiError{status: http.StatusInternalServerError, typ: "InternalServerError",
			message: "simulated fault: internal server error (--sim-error-rate)"})
		return
	}
	if f.slow > 1 {
		s.countFault("slow")
	}
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = p.requestIDField
	}
	if id == "" {
		id = s.nextID()
	}
	req := newRequest(id)
	req.seqs = make([]*seq, len(p.prompts))
	choices := make([]choice, len(p.prompts))
	for i, pr := range p.prompts {
		sq := &seq{req: req, index: i, info: pr.info, nPrompt: len(pr.ids), maxTokens: p.maxTokens, arrived: arrived, slow: f.slow}
		if s.eng.cache != nil {
			sq.hashes = blockHashes(pr.ids, s.cfg.BlockSize)
		}
		req.seqs[i] = sq
		choices[i].s = sq
	}
	s.eng.submit(req)
	if p.stream {
		s.streamResponse(w, r, req, &p, choices, f)
	} else {
		s.fullResponse(w, r, req, &p, choices, f)
	}
}

func readBody(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// fail writes an error response and counts the request as failed.
func (s *Server) fail(w http.ResponseWriter, e *apiError) {
	s.stats.add(func(st *Stats) { st.Failed++ })
	writeError(w, e)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(appendErrorBody(make([]byte, 0, 256), e.typ, e.message, e.status))
}

// finishSeq records a sequence whose last token the handler consumed.
func (s *Server) finishSeq(c *choice) {
	c.done = true
	s.met.observeSeq(c.s, s.opts.PrefixCaching, c.itl)
	s.stats.seq(c.s, c.written)
}

// abortSeq records a sequence the engine dropped because the request was
// closed (client gone, stream error or drop).
func (s *Server) abortSeq(sq *seq) {
	s.met.observeSeq(sq, s.opts.PrefixCaching, nil)
	s.stats.seq(sq, time.Time{})
}

// closeRequest stops the request's remaining sequences and accounts for
// the finished sequences whose events were not consumed: leftover (the
// rest of the batch being processed) and those still queued.
func (s *Server) closeRequest(req *request, choices []choice, leftover []event) {
	account := func(evs []event) {
		for _, ev := range evs {
			if ev.kind == evToken && ev.finish && !choices[ev.seq].done {
				s.finishSeq(&choices[ev.seq])
			}
		}
	}
	account(leftover)
	account(req.close(nil))
}

// drop closes the connection abruptly (fault injection).
func (s *Server) drop(w http.ResponseWriter) {
	s.countFault("drop")
	s.stats.add(func(st *Stats) { st.Dropped++ })
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // not hijackable (HTTP/2): abort the response
	}
	conn.Close()
}

func (s *Server) streamResponse(w http.ResponseWriter, r *http.Request, req *request, p *params, choices []choice, f faults) {
	h := w.Header()
	h["Content-Type"] = []string{"text/event-stream; charset=utf-8"}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if !s.eng.zero && flusher != nil {
		flusher.Flush() // vLLM sends the 200 before generation starts
	}
	created := time.Now().Unix()
	bp := bufPool.Get().(*[]byte)
	out := (*bp)[:0]
	defer func() { *bp = out[:0]; bufPool.Put(bp) }()
	total := len(choices) * p.maxTokens
	faultAt := int(f.errAt * float64(total))
	chunk := 0
	remaining := len(choices)
	logprobs := s.withLogprobs(p)
	var evs []event
	var firsts, dones []*choice
	completion := 0
	// flushOut writes what is pending and stamps and records the sequences
	// whose first or last token it carried.
	flushOut := func(flush bool) {
		w.Write(out)
		out = out[:0]
		if flush && flusher != nil {
			flusher.Flush()
		}
		now := time.Now()
		for _, c := range firsts {
			c.written = now
		}
		for _, c := range dones {
			s.finishSeq(c)
		}
		firsts, dones = firsts[:0], dones[:0]
	}
	for remaining > 0 {
		select {
		case <-req.notify:
		case <-r.Context().Done():
			s.stats.add(func(st *Stats) { st.Cancelled++ })
			s.closeRequest(req, choices, nil)
			return
		}
		evs = req.take(evs)
		for i, ev := range evs {
			if ev.kind == evError {
				out = append(out, "data: "...)
				out = appendErrorBody(out, "BadRequestError", ev.err, http.StatusBadRequest)
				out = append(out, "\n\ndata: [DONE]\n\n"...)
				flushOut(false)
				s.stats.add(func(st *Stats) { st.Failed++ })
				s.closeRequest(req, choices, evs[i:])
				return
			}
			if chunk == faultAt && (f.streamErr || f.drop) {
				flushOut(false)
				s.closeRequest(req, choices, evs[i:])
				if f.drop {
					s.drop(w)
					return
				}
				s.countFault("stream_error")
				out = append(out, "data: "...)
				out = appendErrorBody(out, "InternalServerError", "simulated fault: error inside the stream (--sim-stream-error-rate)", http.StatusInternalServerError)
				out = append(out, "\n\ndata: [DONE]\n\n"...)
				w.Write(out)
				s.stats.add(func(st *Stats) { st.Failed++ })
				return
			}
			if s.logprobsFail(p) {
				out = append(out, "data: "...)
				out = appendErrorBody(out, streamErrorType, neuron.MsgLogprobIndexError, http.StatusBadRequest)
				out = append(out, "\n\ndata: [DONE]\n\n"...)
				flushOut(false)
				s.stats.add(func(st *Stats) { st.Failed++ })
				s.closeRequest(req, choices, evs[i:])
				return
			}
			chunk++
			c := &choices[ev.seq]
			tok := s.token(c, p, ev.pos)
			out = append(out, "data: "...)
			out = s.appendHead(out, req.id, created)
			out = append(out, `{"index":`...)
			out = strconv.AppendInt(out, int64(ev.seq), 10)
			out = append(out, `,"text":`...)
			out = appendJSONString(out, tok.text)
			out = append(out, `,"logprobs":`...)
			if logprobs {
				out = appendLogprobs(out, []genToken{tok}, c.textLen, p.logprobs, p.tokenIDs)
			} else {
				out = append(out, "null"...)
			}
			c.textLen += len(tok.text)
			if ev.finish {
				out = append(out, `,"finish_reason":"length","stop_reason":null}],"usage":`...)
			} else {
				out = append(out, `,"finish_reason":null,"stop_reason":null}],"usage":`...)
			}
			completion++
			if p.continuous {
				out = appendUsage(out, c.s.nPrompt, ev.pos+1, false)
			} else {
				out = append(out, "null"...)
			}
			out = append(out, "}\n\n"...)
			if ev.pos > 0 {
				c.itl = append(c.itl, ev.at.Sub(c.lastAt).Seconds())
			} else {
				firsts = append(firsts, c)
			}
			c.lastAt = ev.at
			if ev.finish {
				remaining--
				dones = append(dones, c)
			}
		}
		if remaining > 0 {
			flushOut(true)
		}
	}
	if p.includeUsage {
		prompt := 0
		for i := range choices {
			prompt += choices[i].s.nPrompt
		}
		out = append(out, "data: "...)
		out = s.appendHead(out, req.id, created)
		out = append(out, `],"usage":`...)
		out = appendUsage(out, prompt, completion, false)
		out = append(out, "}\n\n"...)
	}
	out = append(out, "data: [DONE]\n\n"...)
	flushOut(false)
	s.stats.add(func(st *Stats) { st.OK++ })
}

func (s *Server) fullResponse(w http.ResponseWriter, r *http.Request, req *request, p *params, choices []choice, f faults) {
	remaining := len(choices)
	var evs []event
	for remaining > 0 {
		select {
		case <-req.notify:
		case <-r.Context().Done():
			s.stats.add(func(st *Stats) { st.Cancelled++ })
			s.closeRequest(req, choices, nil)
			return
		}
		evs = req.take(evs)
		for i, ev := range evs {
			if ev.kind == evError {
				for j := range choices {
					if choices[j].complete && !choices[j].done {
						s.finishSeq(&choices[j])
					}
				}
				s.closeRequest(req, choices, evs[i:])
				s.fail(w, &apiError{status: http.StatusInternalServerError, typ: "InternalServerError", message: ev.err})
				return
			}
			c := &choices[ev.seq]
			c.toks = append(c.toks, s.token(c, p, ev.pos))
			if ev.pos > 0 {
				c.itl = append(c.itl, ev.at.Sub(c.lastAt).Seconds())
			}
			c.lastAt = ev.at
			if ev.finish {
				c.complete = true
				remaining--
			}
		}
	}
	if f.drop {
		s.closeRequest(req, choices, nil)
		for i := range choices {
			s.finishSeq(&choices[i])
		}
		s.drop(w)
		return
	}
	if s.logprobsFail(p) {
		s.closeRequest(req, choices, nil)
		for i := range choices {
			s.finishSeq(&choices[i])
		}
		s.fail(w, &apiError{status: http.StatusInternalServerError, typ: http500Type, message: neuron.MsgLogprobIndexError})
		return
	}
	created := time.Now().Unix()
	bp := bufPool.Get().(*[]byte)
	out := (*bp)[:0]
	defer func() { *bp = out[:0]; bufPool.Put(bp) }()
	out = s.appendHead(out, req.id, created)
	prompt, completion := 0, 0
	logprobs := s.withLogprobs(p)
	for i := range choices {
		c := &choices[i]
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		var text bytes.Buffer
		for _, t := range c.toks {
			text.WriteString(t.text)
		}
		out = append(out, `,"text":`...)
		out = appendJSONString(out, text.String())
		out = append(out, `,"logprobs":`...)
		if logprobs {
			out = appendLogprobs(out, c.toks, 0, p.logprobs, p.tokenIDs)
		} else {
			out = append(out, "null"...)
		}
		out = append(out, `,"finish_reason":"length","stop_reason":null,"prompt_logprobs":null}`...)
		prompt += c.s.nPrompt
		completion += len(c.toks)
	}
	out = append(out, `],"service_tier":null,"system_fingerprint":null,"usage":`...)
	out = appendUsage(out, prompt, completion, true)
	out = append(out, `,"kv_transfer_params":null}`...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
	now := time.Now()
	for i := range choices {
		choices[i].written = now
		s.finishSeq(&choices[i])
	}
	s.stats.add(func(st *Stats) { st.OK++ })
}
