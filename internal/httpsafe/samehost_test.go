package httpsafe_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crkai/syncd/internal/httpsafe"
)

// dualListener serves TLS and clear-text HTTP on one port, told apart by
// the first byte (a TLS handshake starts with 0x16): the exact setup in
// which net/http keeps the Authorization header on a redirect from
// https://host:port to http://host:port.
type dualListener struct {
	net.Listener
	cfg *tls.Config
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (l *dualListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc := &peekedConn{Conn: c, r: bufio.NewReader(c)}
	if b, err := pc.r.Peek(1); err == nil && b[0] == 0x16 {
		return tls.Server(pc, l.cfg), nil
	}
	return pc, nil
}

// TestSameHostDowngrade: the https URL redirects to http on the same host
// and port. Without the policy net/http sends the token in clear text
// (checked first, so the test proves the setup); with it, it does not.
func TestSameHostDowngrade(t *testing.T) {
	const token = "Bearer crk_secret_0123456789"
	var mu sync.Mutex
	var clearAuth []string
	certs := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate and a client trusting it
	defer certs.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			http.Redirect(w, r, "http://"+r.Host+r.URL.Path, http.StatusFound)
			return
		}
		mu.Lock()
		clearAuth = append(clearAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, "clear")
	})}
	go func() { _ = srv.Serve(&dualListener{Listener: ln, cfg: certs.TLS}) }()
	defer srv.Close()
	url := "https://" + ln.Addr().String() + "/api/v1/meta/whoami"

	get := func(c *http.Client) error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", token)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	naive := certs.Client()
	if err := get(naive); err != nil {
		t.Fatalf("without the policy: %v", err)
	}
	mu.Lock()
	leaked := len(clearAuth) == 1 && clearAuth[0] == token
	clearAuth = nil
	mu.Unlock()
	if !leaked {
		t.Fatal("the setup does not reproduce the leak: net/http did not send the token in clear text")
	}

	err = get(httpsafe.WithRedirectPolicy(certs.Client()))
	if !errors.Is(err, httpsafe.ErrUnsafeRedirect) || !strings.Contains(err.Error(), "it leaves https for clear text") {
		t.Fatalf("with the policy: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(clearAuth) != 0 {
		t.Errorf("the clear-text side saw %q", clearAuth)
	}
}
