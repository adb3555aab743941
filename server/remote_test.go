package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"loadgen/loadgen/schema"
)

// remoteServer is an httptest stand-in for a vLLM somebody else runs: it
// is unhealthy for `unhealthy` probes, lists model, and wants apiKey (if
// set) on /v1 routes, as vLLM's --api-key does.
func remoteServer(t *testing.T, model, apiKey string, unhealthy int32) *httptest.Server {
	t.Helper()
	var health atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if health.Add(1) <= unhealthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		if apiKey != "" && r.Header.Get("Authorization") != "Bearer "+apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"Unauthorized"}`)
			return
		}
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","owned_by":"vllm","root":"/m","parent":null}]}`, model)
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"version":"0.11.0"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRemote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		model     string
		serverKey string
		ourKey    string
		urlSuffix string
		class     schema.FailureClass
		want      string
	}{
		// Ready after a few 503s; the OpenAI-style "/v1" URL is accepted.
		{"ready", "qwen3-reranker", "", "", "/v1/", schema.FailureNone, ""},
		// The bearer token reaches /v1/models.
		{"api key", "qwen3-reranker", "s3cret", "s3cret", "", schema.FailureNone, ""},
		// Served under another name: waiting longer cannot help.
		{"model not listed", "other", "", "", "", schema.FailureModelMissing, `lists [other], not "qwen3-reranker"`},
		// A wrong key neither.
		{"unauthorized", "qwen3-reranker", "s3cret", "wrong", "", schema.FailureBadArguments, "401 Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := remoteServer(t, tc.model, tc.serverKey, 3)
			p, err := new(Owner).Start(context.Background(), Config{Name: "remote", URL: srv.URL + tc.urlSuffix, ServedModel: "qwen3-reranker", APIKey: tc.ourKey})
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if p.BaseURL() != srv.URL {
				t.Errorf("BaseURL = %q, want %q", p.BaseURL(), srv.URL)
			}
			err = p.WaitReady(context.Background(), nil)
			if ClassOf(err) != tc.class {
				t.Fatalf("WaitReady = %v, want class %q", err, tc.class)
			}
			if tc.class != schema.FailureNone {
				contains(t, "error", err.Error(), tc.want)
				return
			}
			st := p.Startup()
			if !st.Remote || !st.Ready || st.Version != "0.11.0" || st.PID != 0 || st.URL != srv.URL || len(st.Findings) != 0 {
				t.Errorf("startup = %+v", st)
			}
			if p.wd != nil || p.noWatchdog != nil {
				t.Errorf("remote server has a watchdog (%v)", p.noWatchdog)
			}
			if err := p.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			p.Kill()
			select {
			case <-p.Exited():
				t.Error("Exited() closed for a remote server")
			default:
			}
			// Stop launched nothing and stopped nothing: still serving.
			resp, err := http.Get(srv.URL + "/version")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
}

func TestRemote_timeout(t *testing.T) {
	t.Parallel()
	srv := remoteServer(t, "qwen3-reranker", "", 1<<30) // never healthy
	p, err := new(Owner).Start(context.Background(), Config{URL: srv.URL, ServedModel: "qwen3-reranker", ReadyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), nil)
	if ClassOf(err) != schema.FailureReadyTimeout {
		t.Fatalf("WaitReady = %v, want class %q", err, schema.FailureReadyTimeout)
	}
	contains(t, "error", err.Error(), srv.URL+" was not ready after 200ms (last probe: GET /health: 503 Service Unavailable)")
}
