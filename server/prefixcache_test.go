package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestResetPrefixCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		supported bool
		wantErr   bool
	}{
		// vLLM in dev mode.
		{"dev mode", http.StatusOK, true, false},
		// Without VLLM_SERVER_DEV_MODE the route does not exist.
		{"not served", http.StatusNotFound, false, false},
		// A server that has the path but not for POST.
		{"wrong method", http.StatusMethodNotAllowed, false, false},
		// The route exists and failed: say so.
		{"failed", http.StatusInternalServerError, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotMethod, gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotMethod, gotPath = r.Method, r.URL.Path
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			supported, err := ResetPrefixCache(context.Background(), srv.URL+"/")
			if supported != tc.supported || (err != nil) != tc.wantErr {
				t.Errorf("ResetPrefixCache = %t, %v; want %t, error %t", supported, err, tc.supported, tc.wantErr)
			}
			if gotMethod != http.MethodPost || gotPath != "/reset_prefix_cache" {
				t.Errorf("request = %s %s, want POST /reset_prefix_cache", gotMethod, gotPath)
			}
		})
	}
}
