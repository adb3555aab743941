package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testWire returns a wire to base (a URL with the completions path).
func testWire(t *testing.T, base string, proxy *url.URL, o *Options) *wire {
	t.Helper()
	u, err := url.Parse(base + DefaultEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil {
		o = &Options{}
	}
	w, err := newWire(u, http.Header{"Content-Type": {"application/json"}}, proxy, o, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.closeIdle)
	return w
}

// exchange sends body on w and reads the whole response.
func exchange(w *wire, body string) (status int, got string, reusable bool, err error) {
	c, err := w.send(context.Background(), []byte(body), time.Time{})
	if err != nil {
		return 0, "", false, err
	}
	defer c.release()
	b, err := io.ReadAll(&c.body)
	return c.status, string(b), c.body.reusable(), err
}

// answer reads one request from conn and writes resp.
func answer(conn net.Conn, br *bufio.Reader, resp string) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	_, err = io.WriteString(conn, resp)
	return err == nil
}

// TestWireResponses checks the response framings a server may use: each
// row is the raw response to one request, the body the client reads, and
// whether the connection may serve another request.
func TestWireResponses(t *testing.T) {
	t.Parallel()
	const ok = "HTTP/1.1 200 OK\r\n"
	tests := []struct {
		name     string
		resp     string
		status   int
		body     string
		reusable bool
		err      string // substring of the error ("" for none)
	}{
		// The usual SSE answer: chunked, trailer section included.
		{"chunked", ok + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n", 200, "hello world", true, ""},
		// Chunk sizes in upper-case hex with white space.
		{"chunk size", ok + "Transfer-Encoding: chunked\r\n\r\nA \r\n0123456789\r\n0\r\n\r\n", 200, "0123456789", true, ""},
		// A length-delimited body.
		{"content-length", ok + "Content-Length: 5\r\n\r\nhello", 200, "hello", true, ""},
		// Header names are case-insensitive.
		{"header case", ok + "content-LENGTH: 2\r\n\r\nhi", 200, "hi", true, ""},
		// Connection: close ends the connection after the body.
		{"connection close", ok + "Content-Length: 2\r\nConnection: close\r\n\r\nhi", 200, "hi", false, ""},
		// HTTP/1.0 without keep-alive: the body ends with the connection.
		{"http/1.0", "HTTP/1.0 200 OK\r\n\r\nuntil close", 200, "until close", false, ""},
		// HTTP/1.0 asking for keep-alive with a length.
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", 200, "hi", true, ""},
		// Informational responses come before the response.
		{"1xx", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + ok + "Content-Length: 2\r\n\r\nhi", 200, "hi", true, ""},
		// No body, whatever the headers say.
		{"204", "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 204, "", true, ""},
		// Both framings: chunked wins and the connection is not trusted.
		{"te and cl", ok + "Transfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 200, "hi", false, ""},
		// A non-200 status with its body.
		{"error status", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 503, "busy", true, ""},
		// Framing errors.
		{"bad status line", "HTTP/2 200 OK\r\n\r\n", 0, "", false, "malformed HTTP status line"},
		{"bad header", ok + "no colon here\r\n\r\n", 0, "", false, "malformed HTTP header line"},
		{"bad length", ok + "Content-Length: -1\r\n\r\n", 0, "", false, "malformed Content-Length"},
		{"two lengths", ok + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nhi", 0, "", false, "conflicting Content-Length"},
		{"bad chunk size", ok + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 200, "", false, "malformed chunk size"},
		{"no crlf after chunk", ok + "Transfer-Encoding: chunked\r\n\r\n2\r\nhix0\r\n\r\n", 200, "hi", false, "no line break after a chunk"},
		{"cut chunk", ok + "Transfer-Encoding: chunked\r\n\r\n9\r\nhi", 200, "hi", false, io.ErrUnexpectedEOF.Error()},
		{"cut body", ok + "Content-Length: 9\r\n\r\nhi", 200, "hi", false, io.ErrUnexpectedEOF.Error()},
		{"cut head", ok + "Content-Length: 9\r\n", 0, "", false, io.ErrUnexpectedEOF.Error()},
		{"huge header line", ok + "X-Big: " + strings.Repeat("b", 20<<10) + "\r\n\r\n", 0, "", false, errHeadTooLarge.Error()},
		{"too many headers", ok + strings.Repeat("X-H: 1\r\n", maxHeadLines) + "\r\n", 0, "", false, errHeadTooLarge.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := rawServer(t, func(conn net.Conn) {
				defer conn.Close()
				answer(conn, bufio.NewReader(conn), tc.resp)
			})
			status, body, reusable, err := exchange(testWire(t, base, nil, nil), `{"x":1}`)
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if status != tc.status || body != tc.body || reusable != tc.reusable {
				t.Errorf("status %d body %q reusable %v, want %d %q %v", status, body, reusable, tc.status, tc.body, tc.reusable)
			}
		})
	}
}

// TestWireRequest checks the bytes of a request: the head rendered once,
// the length, the body; and that a second request reuses the connection.
func TestWireRequest(t *testing.T) {
	t.Parallel()
	reqs := make(chan string, 2)
	var conns atomic.Int32
	base := rawServer(t, func(conn net.Conn) {
		defer conn.Close()
		conns.Add(1)
		br := bufio.NewReader(conn)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(req.Body)
			reqs <- req.Method + " " + req.RequestURI + " " + req.Proto + " host=" + req.Host + " ct=" + req.Header.Get("Content-Type") +
				" len=" + req.Header.Get("Content-Length") + " body=" + string(b)
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	w := testWire(t, base, nil, nil)
	host := strings.TrimPrefix(base, "http://")
	for _, body := range []string{`{"a":1}`, `{"b":22}`} {
		if _, got, _, err := exchange(w, body); err != nil || got != "ok" {
			t.Fatalf("%q, %v", got, err)
		}
		want := "POST /v1/completions HTTP/1.1 host=" + host + " ct=application/json len=" + strconv.Itoa(len(body)) + " body=" + body
		if got := <-reqs; got != want {
			t.Errorf("server got %s, want %s", got, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (keep-alive)", n)
	}
}

// TestWireStaleConnection checks the replay of a request that met a
// connection the server had closed while it was idle: the request goes out
// again on a new connection, once per stale connection; a new connection
// that fails is not retried.
func TestWireStaleConnection(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	// Every connection serves one request, then closes without saying so.
	base := rawServer(t, func(conn net.Conn) {
		defer conn.Close()
		conns.Add(1)
		answer(conn, bufio.NewReader(conn), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	w := testWire(t, base, nil, nil)
	for i := range 3 {
		if _, got, _, err := exchange(w, "{}"); err != nil || got != "ok" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}

	// A server that closes every connection without an answer: the one
	// new connection fails, and nothing is retried.
	conns.Store(0)
	mute := rawServer(t, func(conn net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(conn)
		_, _ = http.ReadRequest(br)
		_ = conn.Close()
	})
	if _, _, _, err := exchange(testWire(t, mute, nil, nil), "{}"); !errors.Is(err, io.EOF) {
		t.Errorf("error %v, want EOF", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestWireTLS sends a request to an https server: HTTP/1.1 over TLS with
// the given roots, refused without them.
func TestWireTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(FastHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := newClient(Phase{}, &Options{BaseURL: srv.URL, TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.w.closeIdle()
	r := &Result{}
	c.do(context.Background(), &syntheticRequest, r, tickClock())
	if r.Failed() || r.Status != 200 || r.Chunks != 1 {
		t.Errorf("status %d chunks %d error %s %s", r.Status, r.Chunks, r.Kind, r.Err)
	}

	c, err = newClient(Phase{}, &Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r = &Result{}
	c.do(context.Background(), &syntheticRequest, r, tickClock())
	if r.Kind != KindOther || !strings.Contains(r.Err, "certificate") {
		t.Errorf("without the test roots: %s %s, want a certificate error", r.Kind, r.Err)
	}
}

// TestWireProxy sends requests through an HTTP proxy: the absolute form to
// an http origin, a CONNECT tunnel to an https origin; both with the
// proxy's credentials.
func TestWireProxy(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewTLSServer(FastHandler())
	defer tlsSrv.Close()
	var mu sync.Mutex
	var seen []string
	proxy := rawServer(t, func(conn net.Conn) {
		defer conn.Close()
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		mu.Lock()
		seen = append(seen, req.Method+" "+req.RequestURI+" auth="+req.Header.Get("Proxy-Authorization"))
		mu.Unlock()
		if req.Method != http.MethodConnect {
			_, _ = io.Copy(io.Discard, req.Body)
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "+
				strconv.Itoa(len(tokenChunk+doneEvent))+"\r\n\r\n"+tokenChunk+doneEvent)
			return
		}
		origin, err := net.Dial("tcp", strings.TrimPrefix(tlsSrv.URL, "https://"))
		if err != nil {
			return
		}
		defer origin.Close()
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(origin, br) }()
		_, _ = io.Copy(conn, origin)
	})
	pu, _ := url.Parse(proxy)
	pu.User = url.UserPassword("u", "p")
	const auth = "Basic dTpw" // u:p

	w := testWire(t, "http://origin.invalid:8000", pu, nil)
	if _, got, _, err := exchange(w, string(SyntheticBody)); err != nil || got != tokenChunk+doneEvent {
		t.Fatalf("http through the proxy: %q, %v", got, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	w = testWire(t, strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1), pu,
		&Options{TLSConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"}})
	if status, _, _, err := exchange(w, string(SyntheticBody)); err != nil || status != 200 {
		t.Fatalf("https through the proxy: %d, %v", status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"POST http://origin.invalid:8000/v1/completions auth=" + auth,
		"CONNECT " + strings.Replace(strings.TrimPrefix(tlsSrv.URL, "https://"), "127.0.0.1", "localhost", 1) + " auth=" + auth}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("proxy saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
