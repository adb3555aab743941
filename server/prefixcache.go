package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"loadgen/loadgen/bounded"
)

// resetClient is the HTTP client of ResetPrefixCache.
var resetClient = &http.Client{Timeout: time.Minute}

// ResetPrefixCache asks the server to drop its prefix cache (POST
// /reset_prefix_cache), so that one load phase does not warm the next.
// vLLM serves it only in dev mode (VLLM_SERVER_DEV_MODE=1 in the server's
// environment); a 404 or 405 returns supported=false and no error, which
// the report should mention.
func ResetPrefixCache(ctx context.Context, baseURL string) (supported bool, err error) {
	url := strings.TrimRight(baseURL, "/") + "/reset_prefix_cache"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return false, fmt.Errorf("reset prefix cache: %w", err)
	}
	resp, err := resetClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("reset prefix cache: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return false, nil
	default:
		return true, fmt.Errorf("reset prefix cache: %s: %s", resp.Status, bounded.Quote(resp.Body, 512))
	}
}
