package engine

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// defaultIdleConns is the idle pool per host when the phase has no
// concurrency cap: an open-loop phase may hold this many requests in flight
// and still reuse every connection.
const defaultIdleConns = 4096

// NewTransport returns a net/http HTTP/1.1 transport for the calls beside
// the load (tokenize, metrics, readiness), tuned like the load's own
// (wire):
// keep-alive with at least maxConns idle connections per host (so a phase at
// its concurrency cap never closes and re-dials connections), no HTTP/2 (one
// stream per connection, as vLLM's uvicorn serves it, and no surprise
// multiplexing through a TLS proxy), no compression (SSE must arrive as
// sent), no proxy for loopback hosts, and bounded dial and TLS handshake
// times. Response time is bounded per request, not here. maxConns ≤ 0
// means no cap.
func NewTransport(maxConns int) *http.Transport {
	idle := maxConns
	if idle <= 0 {
		idle = defaultIdleConns
	}
	return &http.Transport{
		Proxy: proxyUnlessLoopback,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     false,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 0,
		DisableCompression:    true,
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        16 << 10,
	}
}

// proxyUnlessLoopback uses the environment's proxy settings except for
// loopback hosts, which are always reached directly.
func proxyUnlessLoopback(req *http.Request) (*url.URL, error) {
	host := req.URL.Hostname()
	if host == "localhost" {
		return nil, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil, nil
	}
	return http.ProxyFromEnvironment(req)
}
