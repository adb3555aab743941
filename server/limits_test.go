package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"loadgen/loadgen/bounded"
)

// endlessBody answers with a body that starts with head and never ends
// (until the client goes).
func endlessBody(status int, head string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(head))
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// TestEndlessBodies: every response body loadgen reads outside the load
// itself is bounded: a probe, a /metrics scrape and a prefix-cache reset
// against a server that answers with an endless body end in an error that
// names the request and the limit.
func TestEndlessBodies(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /v1/models", endlessBody(http.StatusOK, `{"object":"list","data":[{"id":"`))
	mux.HandleFunc("GET /metrics", endlessBody(http.StatusOK, "# HELP x\n"))
	mux.HandleFunc("POST /reset_prefix_cache", endlessBody(http.StatusInternalServerError, ""))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()

	// The probe: the models list fails the probe, and the next one will
	// try again (the server may still be starting).
	p, err := new(Owner).Start(ctx, Config{Name: "remote", URL: srv.URL, ServedModel: "m"})
	if err != nil {
		t.Fatal(err)
	}
	ready, state, err := p.probe(ctx)
	if ready || err != nil || !strings.Contains(state, "the response body of GET /v1/models is larger than 1 MiB") {
		t.Errorf("probe: ready %v, state %q, err %v; want a failed probe naming the limit", ready, state, err)
	}
	// The scrape.
	_, err = Scrape(ctx, nil, srv.URL)
	if !errors.Is(err, bounded.ErrTooLarge) || !strings.Contains(err.Error(), "the response body of GET /metrics is larger than 16 MiB") {
		t.Errorf("Scrape: %v, want the metrics body limit", err)
	}
	// The reset quotes a bounded part of the error body.
	_, err = ResetPrefixCache(ctx, srv.URL)
	if err == nil || len(err.Error()) > 1024 || !strings.HasSuffix(err.Error(), "xxx…") {
		t.Errorf("ResetPrefixCache: %.200v, want a short quote of the error body", err)
	}
}
