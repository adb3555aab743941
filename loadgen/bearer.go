package loadgen

import "net/http"

// withBearer returns next, sending key as "Authorization: Bearer <key>"
// on every request when key is set. It is for the sweep's out-of-band calls
// (tokenize, metrics); the load itself carries the key in the engine's
// request template, which costs no copy per request.
func withBearer(key string, next http.RoundTripper) http.RoundTripper {
	if key == "" {
		return next
	}
	return bearer{key: key, next: next}
}

// bearer adds the API key to requests.
type bearer struct {
	key  string
	next http.RoundTripper
}

// RoundTrip sends a copy of req with the Authorization header set (a
// RoundTripper must not change the request it is given).
func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(req)
}

// CloseIdleConnections passes http.Client.CloseIdleConnections through.
func (b bearer) CloseIdleConnections() {
	if c, ok := b.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
