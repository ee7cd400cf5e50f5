package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/state"
)

// The control socket lets a command reach the running daemon for what
// needs the state file, which the daemon holds (bbolt admits one writer
// per file): `syncd -retry-quarantined` while the daemon runs.
//
// It is a Unix socket beside the state file rather than a loopback HTTP
// port with a token: the state directory already admits only the
// service's user (systemd's StateDirectoryMode=0700, a container's
// volume), the socket is created 0600, and the kernel tells the daemon
// who connected (SO_PEERCRED), so there is no secret to create, store,
// rotate or leak, and nothing listens on the network. Where the kernel
// cannot tell (not Linux), the daemon serves no socket and
// -retry-quarantined needs the daemon stopped, as before.

// controlSocket is the control socket's path: the state file's, plus
// ".sock".
func controlSocket(statePath string) string { return statePath + ".sock" }

// maxSocketPath is the longest path a Unix socket may have on Linux
// (sun_path holds 108 bytes, the last a NUL).
const maxSocketPath = 107

// controlWait bounds a command's talk with the daemon.
const controlWait = 30 * time.Second

// retryRequest is POST /retry-quarantined's body: which quarantined
// records to move back to pending (state.Selection; empty fields match
// all).
type retryRequest struct {
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
	DataID string `json:"dataId,omitempty"`
}

// controlAnswer is every answer of the control socket.
type controlAnswer struct {
	Moved int    `json:"moved"`
	Error string `json:"error,omitempty"`
}

// controlServer serves the control socket's requests from the daemon's
// open state file.
type controlServer struct {
	store *state.Store
	log   *slog.Logger
	// allowed says whether a peer's uid may use the socket.
	allowed func(uid uint32) bool
}

// peerAllowed is the rule of the socket: the daemon's own user, or root.
func peerAllowed(self uint32) func(uint32) bool {
	return func(uid uint32) bool { return uid == self || uid == 0 }
}

type peerKey struct{}

// peer is who is on the other end of a connection, as the kernel says.
type peer struct {
	uid uint32
	err error // the kernel could not say
}

func (c *controlServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /retry-quarantined", c.serveRetry)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(peerKey{}).(peer)
		switch {
		case p.err != nil:
			writeJSON(w, http.StatusForbidden, controlAnswer{Error: fmt.Sprintf("the daemon could not tell who connected: %v", p.err)})
		case !c.allowed(p.uid):
			c.log.Warn("control socket: refused a user", "uid", p.uid, "path", r.URL.Path)
			writeJSON(w, http.StatusForbidden, controlAnswer{Error: fmt.Sprintf(
				"uid %d may not use the daemon's control socket: run the command as the daemon's user or as root", p.uid)})
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

func (c *controlServer) serveRetry(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, controlAnswer{Error: fmt.Sprintf("reading the selection: %v", err)})
		return
	}
	n, err := c.store.RetryQuarantined(r.Context(), state.Selection{Source: req.Source, Reason: req.Reason, DataID: req.DataID})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, controlAnswer{Error: err.Error()})
		return
	}
	p, _ := r.Context().Value(peerKey{}).(peer)
	c.log.Info("quarantined recordings moved back to pending, as asked through the control socket",
		"moved", n, "source", req.Source, "reason", req.Reason, "dataId", req.DataID, "uid", p.uid)
	writeJSON(w, http.StatusOK, controlAnswer{Moved: n})
}

// serveControl serves the control socket beside statePath until ctx ends
// or the returned function is called (which waits for requests in
// flight). The caller must hold the state file open: its lock proves that
// a socket already at the path is a dead daemon's, which is removed. A
// socket that cannot be served is logged and skipped: the daemon runs
// without it.
func serveControl(ctx context.Context, store *state.Store, statePath string, log *slog.Logger) (stop func()) {
	path := controlSocket(statePath)
	ln, err := listenControl(path)
	if err != nil {
		log.Warn("no control socket: -retry-quarantined needs the daemon stopped", "socket", path, "err", err)
		return func() {}
	}
	c := &controlServer{store: store, log: log, allowed: peerAllowed(uint32(os.Geteuid()))}
	log.Info("serving the control socket (syncd -retry-quarantined)", "socket", path)
	return c.serve(ctx, ln)
}

// serve serves ln until ctx ends or the returned function is called.
func (c *controlServer) serve(ctx context.Context, ln net.Listener) (stop func()) {
	srv := newHTTPServer(c.handler(), time.Minute)
	srv.ConnContext = func(ctx context.Context, conn net.Conn) context.Context {
		uid, err := peerUID(conn)
		return context.WithValue(ctx, peerKey{}, peer{uid: uid, err: err})
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("control socket stopped", "err", err)
		}
	}()
	done := make(chan struct{})
	var once sync.Once
	shutdown := func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), stopWait)
			defer cancel()
			_ = srv.Shutdown(sctx) // closes the listener, which removes the socket
			<-served
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			shutdown()
		case <-done:
		}
	}()
	return func() {
		close(done)
		shutdown()
	}
}

// listenControl listens on the socket at path, created 0600. A socket
// already there is removed (the caller holds the state file, so no
// daemon serves it); anything else there is left alone and refused.
func listenControl(path string) (net.Listener, error) {
	if err := peerCredSupported(); err != nil {
		return nil, err
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("the path is %d bytes long; a Unix socket's may be at most %d (shorten SYNCD_STATE_PATH)", len(path), maxSocketPath)
	}
	info, err := os.Lstat(path)
	switch {
	case err == nil && info.Mode().Type() == fs.ModeSocket:
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing a stale socket: %w", err)
		}
	case err == nil:
		return nil, fmt.Errorf("%s exists and is not a socket: move it aside", path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	// Until this chmod the umask decides (systemd's UMask=0077); the peer
	// check refuses other users in any case.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// errNoDaemon: no daemon answers on the control socket (there is none, or
// it is stale, or this user may not open it).
type errNoDaemon struct{ err error }

func (e *errNoDaemon) Error() string { return e.err.Error() }
func (e *errNoDaemon) Unwrap() error { return e.err }

// askRetry asks the daemon on the control socket at path to move the
// quarantined records sel chooses back to pending, and returns how many
// it moved. An error *errNoDaemon means that no daemon answered.
func askRetry(ctx context.Context, path string, sel state.Selection) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, controlWait)
	defer cancel()
	var d net.Dialer
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
	// A first connection tells "no daemon here" from a daemon that fails.
	probe, err := dial(ctx, "", "")
	if err != nil {
		return 0, &errNoDaemon{err}
	}
	probe.Close()
	client := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	body, err := json.Marshal(retryRequest{Source: sel.Source, Reason: sel.Reason, DataID: sel.DataID})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://syncd/retry-quarantined", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("asking the daemon on %s: %w", path, err)
	}
	defer resp.Body.Close()
	var a controlAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&a); err != nil {
		return 0, fmt.Errorf("reading the daemon's answer on %s (HTTP %d): %w", path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the daemon refused (HTTP %d): %s", resp.StatusCode, a.Error)
	}
	return a.Moved, nil
}
