package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// wire is the client's HTTP/1.1 transport to the one endpoint of a phase:
// a pool of keep-alive connections, each carrying one request at a time. A
// request is one write (head and body rendered into the connection's
// buffer), done by whoever posts it (the dispatcher, see poster); its
// response is read from the connection's bufio.Reader by whoever answers
// it, as that goroutine reads the body. No goroutine of its own runs.
//
// It replaces net/http's Transport on the hot path, where that one costs a
// third of the client's CPU (its per-connection read and write goroutines,
// the hand-offs between them and the caller, per-request header maps)
// without doing anything a load generator needs. It keeps what a
// load generator does need: keep-alive with the replay of a request that
// lost a race with the server closing an idle connection, chunked and
// length-delimited bodies, Connection: close, HTTP/1.0 servers, 1xx
// responses, TLS (HTTP/1.1 only) for https URLs, HTTP proxies from the
// environment except for loopback hosts (CONNECT for https), and
// deadlines and cancellation through the connection's deadline.
type wire struct {
	target  string      // host:port to dial: the origin's, or the proxy's
	tlsConf *tls.Config // TLS to the origin (nil: plain HTTP)
	tunnel  string      // with an https origin behind a proxy: the CONNECT request
	head    []byte      // request line and headers, up to the Content-Length value
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int

	mu     sync.Mutex
	idle   []*wireConn // most recently used last
	closed bool
}

// Bounds of what a response head may hold; a line must also fit the
// connection's 16 KiB read buffer.
const (
	maxHeadBytes = 1 << 20 // status line and headers, all 1xx heads included
	maxHeadLines = 1000
	wireBufSize  = 16 << 10
)

// errHeadTooLarge reports a response head over its bounds.
var errHeadTooLarge = errors.New("response head over 1 MiB, 1000 lines or a 16 KiB line")

// newWire prepares the transport of requests to u (http or https) with
// header, through proxy when not nil (an http:// proxy URL), keeping up to
// maxIdle idle connections (≤ 0: defaultIdleConns). o.Dial and o.TLSConfig
// replace the defaults.
func newWire(u *url.URL, header http.Header, proxy *url.URL, o *Options, maxIdle int) (*wire, error) {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	w := &wire{target: net.JoinHostPort(host, port), dial: o.Dial, maxIdle: maxIdle}
	if w.dial == nil {
		w.dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext // bounded by connect
	}
	if w.maxIdle <= 0 {
		w.maxIdle = defaultIdleConns
	}
	if u.Scheme == "https" {
		w.tlsConf = &tls.Config{}
		if o.TLSConfig != nil {
			w.tlsConf = o.TLSConfig.Clone()
		}
		if w.tlsConf.ServerName == "" {
			w.tlsConf.ServerName = host
		}
		w.tlsConf.NextProtos = []string{"http/1.1"}
	}
	target := u.RequestURI()
	var proxyAuth string
	if proxy != nil {
		if proxy.Scheme != "http" {
			return nil, fmt.Errorf("proxy %s for %s: loadgen speaks to HTTP proxies only; set NO_PROXY=%s to reach it directly",
				proxy.Redacted(), u.Host, host)
		}
		pport := proxy.Port()
		if pport == "" {
			pport = "80"
		}
		w.target = net.JoinHostPort(proxy.Hostname(), pport)
		if proxy.User != nil {
			pw, _ := proxy.User.Password()
			proxyAuth = "Proxy-Authorization: Basic " +
				base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw)) + "\r\n"
		}
		if w.tlsConf != nil {
			origin := net.JoinHostPort(host, port)
			w.tunnel = "CONNECT " + origin + " HTTP/1.1\r\nHost: " + origin + "\r\n" + proxyAuth + "\r\n"
			proxyAuth = ""
		} else {
			target = u.String() // absolute form, to the proxy
		}
	}
	var b strings.Builder
	b.WriteString("POST " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	for _, k := range slices.Sorted(maps.Keys(header)) { // the same head on every run
		if !validHeaderName(k) {
			return nil, fmt.Errorf("header %q: not a valid field name", k)
		}
		for _, v := range header[k] {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("header %s: value has a line break or NUL", k)
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString(proxyAuth + "Content-Length: ")
	w.head = []byte(b.String())
	return w, nil
}

// validHeaderName reports whether k is an HTTP token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// send writes a request with body on a connection and reads the response
// head. The caller reads the body from the connection and then releases
// it. deadline bounds the whole exchange (zero: none); ctx's cancellation
// aborts it.
func (w *wire) send(ctx context.Context, body []byte, deadline time.Time) (*wireConn, error) {
	c, err := w.post(ctx, body, deadline, true)
	if err != nil {
		return nil, err
	}
	return w.answer(ctx, c, body, deadline)
}

// post writes a request on an idle connection, or, when none is left and
// dial is set, on a new one; without dial it returns nil, nil when no idle
// connection takes the request. A connection the server closed while it
// was idle fails the write or, later, the read of the answer's first byte
// (see answer); either way the request goes out again on another
// connection, as net/http replays a request it may replay.
func (w *wire) post(ctx context.Context, body []byte, deadline time.Time, dial bool) (*wireConn, error) {
	for {
		c := w.idleConn()
		if c == nil {
			if !dial {
				return nil, nil
			}
			var err error
			if c, err = w.connect(ctx, deadline); err != nil {
				return nil, err
			}
		}
		c.watch(ctx, deadline)
		err := c.write(w.head, body)
		if err == nil {
			return c, nil
		}
		c.close()
		if !c.reused || ctx.Err() != nil || isTimeout(err) {
			return nil, err
		}
	}
}

// answer reads the response head of the request post wrote on c. When c
// turns out stale (reused, and closed before any byte of the answer) the
// request is posted again, until a connection fails that was new or had
// started to answer (bounded by the idle connections).
func (w *wire) answer(ctx context.Context, c *wireConn, body []byte, deadline time.Time) (*wireConn, error) {
	for {
		err := c.readHead()
		if err == nil {
			return c, nil
		}
		stale := c.reused && c.got == 0
		c.close()
		if !stale || ctx.Err() != nil || isTimeout(err) {
			return nil, err
		}
		if c, err = w.post(ctx, body, deadline, true); err != nil {
			return nil, err
		}
	}
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// idleConn returns the most recently used idle connection, or nil.
func (w *wire) idleConn() *wireConn {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.idle)
	if n == 0 {
		return nil
	}
	c := w.idle[n-1]
	w.idle[n-1] = nil
	w.idle = w.idle[:n-1]
	c.reused = true
	return c
}

// connectTimeout bounds dialing, the proxy's tunnel and the TLS handshake
// of a new connection (sooner when the request's deadline is sooner).
const connectTimeout = 10 * time.Second

// connect dials a new connection: through the proxy's tunnel and TLS
// when the URL says so.
func (w *wire) connect(ctx context.Context, deadline time.Time) (*wireConn, error) {
	limit := time.Now().Add(connectTimeout)
	if !deadline.IsZero() && deadline.Before(limit) {
		limit = deadline
	}
	ctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	nc, err := w.dial(ctx, "tcp", w.target)
	if err != nil {
		return nil, err
	}
	c := &wireConn{w: w, nc: nc, br: bufio.NewReaderSize(nc, wireBufSize)}
	if w.tunnel != "" {
		if err := c.connectTunnel(ctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
	}
	if w.tlsConf != nil {
		tc := tls.Client(nc, w.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		c.nc = tc
		c.br.Reset(tc)
	}
	return c, nil
}

// put returns a connection whose response was read to its end to the idle
// pool, or closes it when the pool is full or closed.
func (w *wire) put(c *wireConn) {
	w.mu.Lock()
	if !w.closed && len(w.idle) < w.maxIdle {
		w.idle = append(w.idle, c)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	c.close()
}

// closeIdle closes the idle connections; connections in use are closed
// when they are released.
func (w *wire) closeIdle() {
	w.mu.Lock()
	idle := w.idle
	w.idle, w.closed = nil, true
	w.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// wireConn is one connection of a wire and the state of the exchange on it.
type wireConn struct {
	w      *wire
	nc     net.Conn
	br     *bufio.Reader
	buf    []byte // request scratch
	reused bool   // served a request before this one
	got    int    // bytes of the current response read so far
	stop   func() bool

	status int
	body   wireBody
}

// watch makes ctx's cancellation abort the exchange (by moving the
// connection's deadline to the past), and sets deadline.
func (c *wireConn) watch(ctx context.Context, deadline time.Time) {
	c.got = 0
	if !deadline.IsZero() || c.reused {
		_ = c.nc.SetDeadline(deadline)
	}
	c.stop = nil
	if ctx.Done() != nil {
		c.stop = context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	}
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

// write sends head, the body's length and the body in one write.
func (c *wireConn) write(head, body []byte) error {
	b := append(c.buf[:0], head...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b
	if cap(c.buf) > 1<<20 {
		c.buf = nil // a rare huge body: do not keep its buffer
	}
	_, err := c.nc.Write(b)
	return err
}

// release ends the exchange: the connection goes back to the pool when
// its response was read to the end and may be reused, else it is closed.
func (c *wireConn) release() {
	aborted := c.stop != nil && !c.stop()
	if c.body.reusable() && !aborted {
		c.w.put(c)
		return
	}
	c.close()
}

func (c *wireConn) close() {
	if c.stop != nil {
		c.stop()
	}
	_ = c.nc.Close()
}

// connectTunnel asks the proxy for a tunnel to the origin.
func (c *wireConn) connectTunnel(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(d)
		defer c.nc.SetDeadline(time.Time{})
	}
	if _, err := io.WriteString(c.nc, c.w.tunnel); err != nil {
		return fmt.Errorf("proxy CONNECT: %w", err)
	}
	if err := c.readHead(); err != nil {
		return fmt.Errorf("proxy CONNECT: %w", err)
	}
	if c.status != http.StatusOK {
		return fmt.Errorf("proxy CONNECT: %d %s", c.status, http.StatusText(c.status))
	}
	if c.br.Buffered() > 0 {
		return errors.New("proxy CONNECT: data before the tunnel")
	}
	return nil
}
