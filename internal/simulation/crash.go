package simulation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// errKilled is what every request of a killed process gets.
var errKilled = errors.New("simulation: the process was killed")

// crashTransport is the HTTP transport of one process's sink client. It
// watches every request (for the traces), and can kill the process at the
// n-th request of a pass: before sending it, or once its answer arrived
// but before the client saw it. Killing cancels the pass, refuses every
// later request, and closes the state file so that no later write lands;
// the world then starts a new process on the same file.
type crashTransport struct {
	base *http.Transport
	w    *World

	mu    sync.Mutex
	n     int  // requests of this pass so far
	at    int  // kill at this request; 0: never
	after bool // kill once the answer arrived, instead of before sending
	kill  func()
	dead  bool
	cut   string // what was cut, once dead
}

// arm counts the requests of a new pass, and kills the process at the
// at-th (0: never).
func (c *crashTransport) arm(at int, after bool, kill func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.at, c.after, c.kill = 0, at, after, kill
}

// killed says what the kill cut, or "" when the process lives.
func (c *crashTransport) killed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}

func (c *crashTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	what := c.w.describe(req)
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errKilled
	}
	c.n++
	cut := c.at != 0 && c.n == c.at
	after := c.after
	if cut && !after {
		c.dead, c.cut = true, fmt.Sprintf("request %d (%s), before it was sent", c.n, what)
	}
	n, kill := c.n, c.kill
	c.mu.Unlock()
	if cut && !after {
		if req.Body != nil {
			req.Body.Close()
		}
		kill()
		c.w.observe(what, 0, errKilled)
		return nil, errKilled
	}
	resp, err := c.base.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c.w.observe(what, status, err)
	if !cut {
		return resp, err
	}
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	c.mu.Lock()
	c.dead, c.cut = true, fmt.Sprintf("request %d (%s), after its answer %d arrived", n, what, status)
	c.mu.Unlock()
	kill()
	return nil, errKilled
}

// request is what the world makes of one request to CRK.
type request struct {
	endpoint string // create, upload, reextract, find, list, other
	dataID   string // the recording it is about, when known
}

func (r request) String() string {
	if r.dataID == "" {
		return r.endpoint
	}
	return r.endpoint + " " + r.dataID
}

// describe names a request's endpoint and recording. It reads a create's
// body through GetBody, leaving the request as it was.
func (w *World) describe(req *http.Request) request {
	p := req.URL.Path
	switch {
	case req.Method == http.MethodPut && strings.HasPrefix(p, "/storage/"):
		parts := strings.Split(p, "/")
		return request{"upload", w.dataOf(parts[len(parts)-1])}
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/reextract"):
		parts := strings.Split(strings.TrimSuffix(p, "/reextract"), "/")
		id, _ := url.PathUnescape(parts[len(parts)-1])
		return request{"reextract", w.dataOf(id)}
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/recordings"):
		var body struct {
			DataID string `json:"dataId"`
		}
		if req.GetBody != nil {
			if rc, err := req.GetBody(); err == nil {
				_ = json.NewDecoder(rc).Decode(&body)
				rc.Close()
			}
		}
		return request{"create", body.DataID}
	case req.Method == http.MethodGet && strings.HasSuffix(p, "/recordings"):
		if s := req.URL.Query().Get("search"); s != "" {
			return request{"find", s}
		}
		return request{"list", ""}
	}
	return request{endpoint: strings.ToLower(req.Method) + " " + p}
}
