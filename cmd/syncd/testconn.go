package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/sink"
)

// probeBytes is how much audio -test-connection reads: enough to see it
// flow, not the whole file.
const probeBytes = 4096

// checkDeadline is how long each check of -test-connection may take (one
// log-in, one listing, opening one recording's audio, one question to
// CRK). A server that accepts connections and never answers then costs
// this, not the minutes of the HTTP client's retries.
const checkDeadline = 20 * time.Second

// checkLine is one line of -test-connection's output.
type checkLine struct {
	who, what string
	err       error  // nil: ok
	warn      bool   // a problem that does not stop syncing
	detail    string // what was found, when ok
}

// report prints the lines of checks that run at once, each as soon as it
// is known, and remembers whether any failed.
type report struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
	failed  bool
}

func (r *report) print(l checkLine) {
	result, text := "ok", l.detail
	switch {
	case l.err != nil && l.warn:
		result, text = "WARN", l.err.Error()
	case l.err != nil:
		result, text = "FAIL", l.err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = r.failed || (l.err != nil && !l.warn)
	fmt.Fprintln(r.w, redact(fmt.Sprintf("%-5s %-6s %-4s %s", l.who, l.what, result, text), r.secrets))
	if f, ok := r.w.(interface{ Flush() error }); ok {
		_ = f.Flush() // a buffered writer shows the line now, not at exit
	}
}

// errNoAnswer is a check that did not end within its deadline.
type errNoAnswer struct{ d time.Duration }

func (e errNoAnswer) Error() string {
	return fmt.Sprintf("no answer within %s (the check's deadline)", e.d)
}

// within runs one check with deadline d. A check still running at the
// deadline is abandoned (its context is cancelled, so its requests end)
// and answers errNoAnswer, whatever it is waiting on.
func within[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(cctx)
		done <- result{v, err}
	}()
	var zero T
	select {
	case r := <-done:
		if r.err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return zero, errNoAnswer{d}
		}
		return r.v, r.err
	case <-cctx.Done():
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		return zero, errNoAnswer{d}
	}
}

// testConnection is `syncd -test-connection`: log in to every source, list
// its last 24 hours, open its newest recording's audio, check the CRK
// token, the alert channel, that the state file can be written and that
// the listen address is free. It writes nothing, to CRK or to state.
func testConnection(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer, sendTestAlert bool) int {
	return testConnectionWithin(ctx, cfg, log, stdout, sendTestAlert, checkDeadline)
}

// testConnectionWithin is testConnection with each check's deadline
// given. The checks of CRK, of the alert channel, of each source and of
// the local files run at once; each prints its lines as they finish.
func testConnectionWithin(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer, sendTestAlert bool, d time.Duration) int {
	a, err := newApp(cfg, log, nil)
	if err != nil {
		fmt.Fprintf(stdout, "syncd: %v\n", err)
		return exitConfig
	}
	al, err := a.alerter(nil, nil)
	if err != nil {
		fmt.Fprintf(stdout, "syncd: %v\n", err)
		return exitConfig
	}
	rep := &report{w: stdout, secrets: cfg.Secrets()}
	var wg sync.WaitGroup
	wg.Go(func() { checkCRK(ctx, d, a.crk, cfg.CRK.BusinessID, rep.print) })
	switch {
	case al != nil:
		wg.Go(func() { checkAlert(ctx, d, al, sendTestAlert, rep.print) })
	case sendTestAlert:
		rep.print(checkLine{who: "alert", what: "send", err: errors.New("alerting is off: set SYNCD_ALERT_CHANNEL")})
	}
	for _, c := range a.sources {
		wg.Go(func() { checkSource(ctx, d, c, time.Now(), rep.print) })
	}
	wg.Go(func() { rep.print(checkStatePath(cfg.StatePath)) })
	ask := func(ctx context.Context, path string) (int, string, error) {
		return askDaemon(ctx, daemonAddrOf(cfg), path)
	}
	wg.Go(func() { rep.print(checkListen(ctx, cfg.ListenAddr, cfg.WebConfigFile != "", ask)) })
	wg.Wait()
	if rep.failed {
		return exitFailed
	}
	return exitOK
}

func checkCRK(ctx context.Context, d time.Duration, crk *sink.Client, businessID string, emit func(checkLine)) {
	id, err := within(ctx, d, crk.WhoAmI)
	if err != nil {
		emit(checkLine{who: "crk", what: "token", err: explainCRK(err)})
		return
	}
	detail := fmt.Sprintf("%s key, scopes: %s", id.Level, strings.Join(id.Scopes, ", "))
	if id.Business != nil {
		detail = fmt.Sprintf("business key of %q (%s), scopes: %s", id.Business.Name, id.Business.ID, strings.Join(id.Scopes, ", "))
	}
	emit(checkLine{who: "crk", what: "token", detail: detail})
	if err := id.Authorize(businessID); err != nil {
		emit(checkLine{who: "crk", what: "scope", err: err})
		return
	}
	what := sink.ScopeIngest
	if id.Level == "account" {
		what = fmt.Sprintf("%s on business %q (%s)", sink.ScopeAll, id.BusinessName(businessID), businessID)
	}
	emit(checkLine{who: "crk", what: "scope", detail: what})
	if err := id.CanVerify(); err != nil {
		emit(checkLine{who: "crk", what: "verify", err: err, warn: true})
	} else {
		emit(checkLine{who: "crk", what: "verify", detail: "can read recordings back (checks after a crash)"})
	}
}

// checkAlert checks the alerting scope and destination, and sends one test
// message when asked.
func checkAlert(ctx context.Context, d time.Duration, al *alert.Alerter, send bool, emit func(checkLine)) {
	l := checkLine{who: "alert", what: "dest", detail: "can send to " + al.Destination()}
	if _, err := within(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, al.Check(ctx) }); err != nil {
		l.err, l.warn = err, errors.Is(err, alert.ErrUnverifiable)
	}
	emit(l)
	if send {
		s := checkLine{who: "alert", what: "send", detail: "test message delivered to " + al.Destination()}
		if _, err := within(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, al.SendTest(ctx) }); err != nil {
			s.err = err
		}
		emit(s)
	}
}

// explainCRK says in plain words what a token failure means.
func explainCRK(err error) error {
	switch {
	case errors.Is(err, sink.ErrInvalidToken):
		return fmt.Errorf("CRK_API_TOKEN is wrong or expired (%w)", err)
	case errors.Is(err, sink.ErrTokenDisabled):
		return fmt.Errorf("CRK_API_TOKEN was revoked: create a new one (%w)", err)
	case errors.Is(err, sink.ErrMissingToken):
		return fmt.Errorf("CRK did not receive the token: is a proxy dropping the Authorization header? (%w)", err)
	}
	var ne *sink.NetError
	if errors.As(err, &ne) {
		return fmt.Errorf("cannot reach CRK at CRK_API_URL: %w", err)
	}
	return err
}

// checkSource logs in, lists the last 24 hours and reads the first bytes of
// the newest recording whose audio opens.
func checkSource(ctx context.Context, d time.Duration, c connectors.Connector, now time.Time, emit func(checkLine)) {
	name := c.Name()
	if _, err := within(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, c.Check(ctx) }); err != nil {
		emit(checkLine{who: name, what: "login", err: err})
		return
	}
	emit(checkLine{who: name, what: "login", detail: "logged in"})
	recs, err := within(ctx, d, func(ctx context.Context) ([]connectors.Recording, error) {
		return c.List(ctx, now.Add(-24*time.Hour), now)
	})
	if err != nil {
		emit(checkLine{who: name, what: "list", err: err})
		return
	}
	emit(checkLine{who: name, what: "list", detail: fmt.Sprintf("%d recordings in the last 24 h", len(recs))})
	detail, err := within(ctx, d, func(ctx context.Context) (string, error) { return probeNewest(ctx, c, recs) })
	emit(checkLine{who: name, what: "audio", detail: detail, err: err})
}

// probeNewest reads the first bytes of the newest of recs whose audio
// opens, trying at most 3 of them past ones not ready or gone.
func probeNewest(ctx context.Context, c connectors.Connector, recs []connectors.Recording) (string, error) {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b connectors.Recording) int { return cmp.Compare(b.CallAt.UnixNano(), a.CallAt.UnixNano()) })
	var lastErr error
	tried := 0
	for _, r := range recs {
		if r.Invalid != nil {
			continue // quarantined by a pass; not a test of the audio
		}
		if tried++; tried > 3 {
			break
		}
		n, ct, err := probeAudio(ctx, c, r)
		if err == nil {
			return fmt.Sprintf("read %d bytes of %s (%s)", n, r.DataID, ct), nil
		}
		lastErr = fmt.Errorf("%s: %w", r.DataID, err)
		if !errors.Is(err, connectors.ErrNotReady) && !errors.Is(err, connectors.ErrGone) {
			break
		}
	}
	if lastErr != nil {
		return "", lastErr
	}
	return "no recording in the last 24 h to open", nil
}

func probeAudio(ctx context.Context, c connectors.Connector, r connectors.Recording) (int64, string, error) {
	a, err := c.Open(ctx, r)
	if err != nil {
		return 0, "", err
	}
	defer a.Body.Close()
	n, err := io.CopyN(io.Discard, a.Body, probeBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, a.ContentType, fmt.Errorf("reading the audio: %w", err)
	}
	return n, a.ContentType, nil
}

// redact hides any secret that should somehow have reached a line.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// checkStatePath checks that the state file can be written, or created,
// without opening it: a running daemon holds it, and bbolt's lock must not
// be disturbed. Where the file exists, its own permissions are asked of
// the system; where it does not, a file is created beside it and removed.
func checkStatePath(path string) checkLine {
	l := checkLine{who: "state", what: "file"}
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		l.err = fmt.Errorf("SYNCD_STATE_PATH %s is a directory, not a file", path)
	case err == nil:
		if err := canWrite(path); err != nil {
			l.err = fmt.Errorf("SYNCD_STATE_PATH %s exists but this user cannot write it: %w", path, err)
		} else {
			l.detail = fmt.Sprintf("%s exists and can be written (%d KB)", path, info.Size()>>10)
		}
	case errors.Is(err, fs.ErrNotExist):
		dir, missing, err := existingDir(filepath.Dir(path))
		if err == nil {
			err = tryCreate(dir)
		}
		switch {
		case err != nil:
			l.err = fmt.Errorf("SYNCD_STATE_PATH %s cannot be created: %w", path, err)
		case missing:
			l.detail = fmt.Sprintf("%s can be created (no pass has run yet), with the directories missing under %s", path, dir)
		default:
			l.detail = fmt.Sprintf("%s can be created (no pass has run yet)", path)
		}
	default:
		l.err = fmt.Errorf("SYNCD_STATE_PATH %s: %w", path, err)
	}
	return l
}

// existingDir is dir, or its nearest ancestor that exists (missing then
// says so): state.Open creates the directories missing.
func existingDir(dir string) (string, bool, error) {
	missing := false
	for {
		info, err := os.Stat(dir)
		switch {
		case err == nil && info.IsDir():
			return dir, missing, nil
		case err == nil:
			return "", false, fmt.Errorf("%s is not a directory", dir)
		case !errors.Is(err, fs.ErrNotExist):
			return "", false, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false, err
		}
		dir, missing = parent, true
	}
}

// tryCreate creates a file in dir and removes it.
func tryCreate(dir string) error {
	f, err := os.CreateTemp(dir, ".syncd-write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// checkListen checks that SYNCD_LISTEN_ADDR is free, by listening there
// and closing at once. An address in use by a running syncd (its /healthz
// answers as syncd's does) is a warning: -test-connection is often run
// beside the daemon. In use by anything else, the daemon could not start.
// webConfig says the listener has TLS or basic auth
// (SYNCD_WEB_CONFIG_FILE), which keeps its /healthz from a plain question.
func checkListen(ctx context.Context, addr string, webConfig bool, ask askFunc) checkLine {
	l := checkLine{who: "http", what: "listen"}
	if addr == "" {
		l.detail = "off (SYNCD_LISTEN_ADDR is empty): no /metrics, /healthz or /status"
		return l
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		ln.Close()
		l.detail = addr + " is free"
	case !errors.Is(err, syscall.EADDRINUSE):
		l.err = fmt.Errorf("SYNCD_LISTEN_ADDR %s: %w", addr, err)
	default:
		if st, ok := syncdHealth(ctx, ask); ok {
			l.err, l.warn = fmt.Errorf("%s is in use by a running syncd (its /healthz says %q); a second daemon could not listen there", addr, st), true
		} else if webConfig {
			// TLS or basic auth keep a plain question out: it may be syncd.
			l.err, l.warn = fmt.Errorf("%s is in use, by a running syncd or another program (with SYNCD_WEB_CONFIG_FILE set, its /healthz cannot be asked without credentials); the daemon cannot start while it is", addr), true
		} else {
			l.err = fmt.Errorf("%s is in use by a program that is not syncd (no syncd /healthz answers there): choose another SYNCD_LISTEN_ADDR", addr)
		}
	}
	return l
}

// askFunc GETs a path of the daemon's listener (askDaemon).
type askFunc func(ctx context.Context, path string) (int, string, error)

// syncdHealth asks the listener's /healthz and says whether syncd
// answered, and its status.
func syncdHealth(ctx context.Context, ask askFunc) (string, bool) {
	_, body, err := ask(ctx, "/healthz")
	if err != nil {
		return "", false
	}
	var h struct {
		Status    string `json:"status"`
		Scheduler *bool  `json:"schedulerRunning"`
	}
	if json.Unmarshal([]byte(body), &h) != nil || h.Scheduler == nil || h.Status == "" {
		return "", false
	}
	return h.Status, true
}
