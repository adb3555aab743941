package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"loadgen/loadgen/bounded"
	"loadgen/loadgen/schema"
)

// Readiness polling: the first probe goes out at once, then the gap
// doubles from probeFirst up to probeMax, so a cached start is noticed
// within a fraction of a second while a 30-minute compile sees one cheap
// probe a second.
const (
	probeFirst    = 50 * time.Millisecond
	probeMax      = time.Second
	probeTimeout  = 5 * time.Second
	progressEvery = time.Second
)

// MaxProbeBody bounds each response body of a readiness probe (GET
// /health, /v1/models, /version): vLLM's are a few hundred bytes, and a
// server that answers with an endless body fails the probe instead of
// growing loadgen's memory. It is fixed (README.md, "Limits").
const MaxProbeBody = 1 << 20

// Progress is what WaitReady reports while the server starts, about once
// a second and whenever the startup phase changes.
type Progress struct {
	// Elapsed is the time since launch.
	Elapsed time.Duration
	// Phase is the startup phase recognised from the log (PhaseLoading,
	// PhaseCompiling, …) and PhaseElapsed the time spent in it so far.
	Phase        string
	PhaseElapsed time.Duration
	// LastLine is the last line the server logged.
	LastLine string
	// Probe is the outcome of the last readiness probe, e.g.
	// "connection refused (still starting)".
	Probe string
}

// WaitReady waits until the server answers GET /health with 200 and GET
// /v1/models lists Config.ServedModel (then it also reads GET /version).
// It races the probes against the process exiting, Config.ReadyTimeout
// (counted from launch) and ctx, and calls progress (if not nil) about
// once a second and on every phase change. The error is an *Error whose
// class is the failure recognised from the log (or FailureExited,
// FailureReadyTimeout, FailureModelMissing, FailureInterrupted) and which
// carries the last log lines. WaitReady never stops the server: call Stop
// after an error too.
func (p *Process) WaitReady(ctx context.Context, progress func(Progress)) error {
	p.mu.Lock()
	ready := p.ready
	p.mu.Unlock()
	if ready {
		return nil
	}
	timeout := time.NewTimer(time.Until(p.started.Add(p.cfg.ReadyTimeout)))
	defer timeout.Stop()
	ticker := time.NewTicker(progressEvery)
	defer ticker.Stop()
	probeAt := time.NewTimer(0)
	defer probeAt.Stop()
	gap := probeFirst
	lastProbe := "not probed yet"
	// fatal fires fatalGrace after the log showed a fatal line, in case the
	// server does not exit by itself.
	var fatal <-chan time.Time
	var fatalTimer *time.Timer
	defer func() {
		if fatalTimer != nil {
			fatalTimer.Stop()
		}
	}()

	report := func() {
		if progress == nil {
			return
		}
		phase, since := p.watch.phase()
		now := time.Now()
		progress(Progress{Elapsed: now.Sub(p.started), Phase: phase, PhaseElapsed: now.Sub(since),
			LastLine: p.watch.lastLine(), Probe: lastProbe})
	}
	armFatal := func() {
		if _, ok := p.watch.cause(); ok && fatalTimer == nil {
			fatalTimer = time.NewTimer(p.fatalGrace)
			fatal = fatalTimer.C
		}
	}
	armFatal() // the line may have come before WaitReady was called
	report()
	for {
		select {
		case <-ctx.Done():
			phase, _ := p.watch.phase()
			return p.fail(schema.FailureInterrupted, fmt.Sprintf("interrupted while waiting for the server to become ready (phase %s after %s)", phase, p.elapsed()), ctx.Err())
		case <-p.exited:
			return p.exitError()
		case <-timeout.C:
			return p.timeoutError(lastProbe)
		case <-fatal:
			if p.hasExited() {
				return p.exitError()
			}
			cause, _ := p.watch.cause()
			return p.fail(cause.Class, fmt.Sprintf("%s (the server logged this but was still running %s later)", cause.Message, p.fatalGrace), nil)
		case <-p.watch.changed:
			armFatal()
			report()
		case <-ticker.C:
			report()
		case <-probeAt.C:
			ok, state, err := p.probe(ctx)
			if err != nil {
				return err
			}
			lastProbe = state
			if ok {
				return nil
			}
			probeAt.Reset(gap)
			gap = min(2*gap, probeMax)
		}
	}
}

// elapsed is the time since launch, rounded for messages.
func (p *Process) elapsed() time.Duration {
	return time.Since(p.started).Round(time.Second)
}

// fail records class and reason as the process's failure and returns the
// matching *Error.
func (p *Process) fail(class schema.FailureClass, reason string, err error) error {
	p.mu.Lock()
	p.failClass, p.failReason = class, reason
	p.mu.Unlock()
	return &Error{Class: class, Reason: reason, Err: err, LastLines: p.watch.lastLines(errorTailLines)}
}

// exitError is WaitReady's error when the child exited before ready.
func (p *Process) exitError() error {
	<-p.settled
	if p.stopping.Load() {
		return p.fail(schema.FailureInterrupted, "the server was stopped while loadgen waited for it to become ready", nil)
	}
	class, reason := p.Failure()
	return &Error{Class: class, Reason: reason, LastLines: p.watch.lastLines(errorTailLines)}
}

// timeoutError is WaitReady's error when Config.ReadyTimeout passed.
func (p *Process) timeoutError(lastProbe string) error {
	if p.remote {
		return p.fail(schema.FailureReadyTimeout, fmt.Sprintf("%s was not ready after %s (last probe: %s); check the URL and that the server is up", p.baseURL, p.cfg.ReadyTimeout, lastProbe), nil)
	}
	phase, since := p.watch.phase()
	return p.fail(schema.FailureReadyTimeout, fmt.Sprintf("not ready after %s (phase %s for the last %s; last probe: %s); raise server.ready_timeout if server.log still shows progress",
		p.cfg.ReadyTimeout, phase, time.Since(since).Round(time.Second), lastProbe), nil)
}

// probe checks readiness once. It returns ready, the outcome to show, and
// an *Error when waiting longer cannot help (model not listed, refused
// credentials).
func (p *Process) probe(ctx context.Context) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	status, _, err := p.get(ctx, "/health")
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return false, "connection refused (still starting)", nil
	case err != nil:
		return false, clip(err.Error(), 120), nil
	case status != http.StatusOK:
		return false, fmt.Sprintf("GET /health: %d %s", status, http.StatusText(status)), nil
	}
	models, err := p.listModels(ctx)
	if status := apiStatus(err); status == http.StatusUnauthorized || status == http.StatusForbidden {
		return false, "", p.fail(schema.FailureBadArguments, fmt.Sprintf("GET /v1/models answered %d %s; give loadgen the API key the server expects (--api-key, or server.api_key_env for a server it launches)", status, http.StatusText(status)), err)
	}
	if err != nil {
		return false, "GET /v1/models: " + clip(err.Error(), 120), nil
	}
	if p.cfg.ServedModel != "" && !slices.Contains(models, p.cfg.ServedModel) {
		return false, "", p.fail(schema.FailureModelMissing, fmt.Sprintf("GET /v1/models lists [%s], not %q; make server.served_model_name match the model name requests use", strings.Join(models, " "), p.cfg.ServedModel), nil)
	}
	version := ""
	if status, body, err := p.get(ctx, "/version"); err == nil && status == http.StatusOK {
		var v struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(body, &v) == nil {
			version = v.Version
		}
	}
	now := time.Now()
	p.mu.Lock()
	p.ready, p.readyAt, p.version = true, now, version
	p.mu.Unlock()
	p.watch.markReady(now)
	return true, "ready", nil
}

// listModels returns the ids GET /v1/models lists. It is the one call
// made through go-openai: an OpenAI route whose typed errors (apiStatus)
// tell a refused API key from a server still starting. /health and
// /version are vLLM's own routes (get), and completions are built by hand
// (README.md, "go-openai").
func (p *Process) listModels(ctx context.Context) ([]string, error) {
	c := openai.DefaultConfig(p.cfg.APIKey)
	c.BaseURL = p.baseURL + "/v1"
	c.HTTPClient = p.client
	list, err := openai.NewClientWithConfig(c).ListModels(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list.Models))
	for _, m := range list.Models {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// apiStatus returns the HTTP status a go-openai error carries, or 0. A
// RequestError may wrap an empty APIError (vLLM's 401 body is not in
// OpenAI's shape), so it is asked first.
func apiStatus(err error) int {
	var re *openai.RequestError
	if errors.As(err, &re) && re.HTTPStatusCode != 0 {
		return re.HTTPStatusCode
	}
	var ae *openai.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatusCode
	}
	return 0
}

// get fetches path from the server (at most MaxProbeBody of body, as every
// probe response: newProbeClient).
func (p *Process) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if p.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// newProbeClient returns the HTTP client for readiness probes; per-request
// timeouts come from contexts. Every response body read through it, by
// get or by go-openai, is bounded by MaxProbeBody.
func newProbeClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: boundedBodies{base: t, max: MaxProbeBody}}
}

// boundedBodies bounds every response body read through it: past max
// bytes, reading it fails with a *bounded.Error naming the request.
type boundedBodies struct {
	base *http.Transport
	max  int64
}

// RoundTrip implements http.RoundTripper.
func (b boundedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = bodyLimit(req, b.max).ReadCloser(resp.Body)
	return resp, nil
}

// CloseIdleConnections closes the transport's idle connections (what
// http.Client.CloseIdleConnections calls).
func (b boundedBodies) CloseIdleConnections() { b.base.CloseIdleConnections() }

// bodyLimit is the limit of the response body of req.
func bodyLimit(req *http.Request, max int64) bounded.Limit {
	return bounded.Limit{What: fmt.Sprintf("the response body of %s %s", req.Method, req.URL.Path), Max: max}
}
