package engine

import (
	"net/http"
	"net/url"
	"testing"
)

func TestNewTransport(t *testing.T) {
	t.Parallel()
	tr := NewTransport(32)
	if tr.MaxIdleConnsPerHost != 32 || tr.MaxIdleConns < 32 {
		t.Errorf("idle conns %d/%d, want ≥ 32 per host", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
	if tr.ForceAttemptHTTP2 || tr.TLSNextProto == nil || len(tr.TLSNextProto) != 0 {
		t.Error("HTTP/2 is not disabled")
	}
	if !tr.DisableCompression || tr.DisableKeepAlives {
		t.Error("want keep-alive and no compression")
	}
	if NewTransport(0).MaxIdleConnsPerHost != defaultIdleConns {
		t.Error("no cap should keep a large idle pool")
	}
}

func TestProxyUnlessLoopback(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	for _, tc := range []struct {
		host  string
		proxy bool
	}{
		{"127.0.0.1:8000", false}, // loopback IPv4
		{"[::1]:8000", false},     // loopback IPv6
		{"localhost:8000", false}, // by name
	} {
		u, err := proxyUnlessLoopback(&http.Request{URL: &url.URL{Scheme: "http", Host: tc.host}})
		if err != nil || (u != nil) != tc.proxy {
			t.Errorf("%s: proxy %v, %v; want proxy %v", tc.host, u, err, tc.proxy)
		}
	}
}
