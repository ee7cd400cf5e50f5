package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakethreecx"
)

// silentServer accepts connections and never answers: a portal behind a
// firewall that black-holes, or a hung application server.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(done)
				return
			}
			conns = append(conns, c) // held open, never read or written
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// testConn runs -test-connection with each check's deadline d and
// returns its exit code, its output and how long it took.
func testConn(t *testing.T, env map[string]string, d time.Duration) (int, string, time.Duration) {
	t.Helper()
	cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	start := time.Now()
	code := testConnectionWithin(t.Context(), cfg, newLogger(cfg, io.Discard), &out, false, d)
	return code, out.String(), time.Since(start)
}

func TestTestConnectionSilentSourceEndsAtTheDeadline(t *testing.T) {
	f := newFakes(t, 1)
	const d = 500 * time.Millisecond
	code, out, took := testConn(t, f.with("DTAC_BASE_URL", silentServer(t)), d)
	if code != exitFailed || !strings.Contains(out, "dtac  login  FAIL no answer within 500ms (the check's deadline)") {
		t.Fatalf("exit %d, want 1 and the deadline named:\n%s", code, out)
	}
	if !strings.Contains(out, "crk   token  ok") {
		t.Errorf("the CRK check did not run beside the silent source:\n%s", out)
	}
	if took < d || took > d+slack {
		t.Errorf("took %s, want about the deadline, %s", took.Round(time.Millisecond), d)
	}
}

// Two silent sources and a silent CRK cost one deadline, not three.
func TestTestConnectionChecksRunAtOnce(t *testing.T) {
	f := newFakes(t, 1)
	silent := silentServer(t)
	cx, err := fakethreecx.Start(fakethreecx.Options{Clients: map[string]fakethreecx.Client{"syncd": {Secret: "cx-s3cret-value"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close()
	env := f.with("DTAC_BASE_URL", silent, "THREECX_BASE_URL", silent, "THREECX_CLIENT_ID", "syncd", "THREECX_CLIENT_SECRET", "cx-s3cret-value",
		"CRK_API_URL", silent+"/api/v1")
	const d = time.Second
	code, out, took := testConn(t, env, d)
	for _, want := range []string{"dtac  login  FAIL no answer within 1s", "3cx   login  FAIL no answer within 1s", "crk   token  FAIL no answer within 1s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	if took < d || took > 2*d-100*time.Millisecond {
		t.Errorf("three silent checks took %s, want about one deadline (%s): they must run at once", took.Round(time.Millisecond), d)
	}
	if strings.Contains(out, "cx-s3cret-value") {
		t.Fatalf("output holds the 3CX secret:\n%s", out)
	}
}

func TestTestConnectionStatePath(t *testing.T) {
	f := newFakes(t, 0)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "a-file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		code       int
		want       string
	}{
		{"new file", filepath.Join(dir, "syncd.db"), exitOK, "state file   ok   " + filepath.Join(dir, "syncd.db") + " can be created (no pass has run yet)"},
		{"missing directories", filepath.Join(dir, "x", "y", "syncd.db"), exitOK, "with the directories missing under " + dir},
		{"existing file", existing, exitOK, existing + " exists and can be written"},
		{"directory", dir, exitFailed, "state file   FAIL SYNCD_STATE_PATH " + dir + " is a directory"},
		{"under a file", filepath.Join(notDir, "syncd.db"), exitFailed, "state file   FAIL SYNCD_STATE_PATH " + filepath.Join(notDir, "syncd.db") + ": stat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := testConn(t, f.with("SYNCD_STATE_PATH", tc.path), checkDeadline)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("-test-connection created the missing directories: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".syncd-write-test-*")); len(left) > 0 {
		t.Errorf("-test-connection left %v behind", left)
	}
}

// Permissions stop anyone but root: this part needs another user.
func TestTestConnectionStatePathPermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere: run as another user to test permissions")
	}
	f := newFakes(t, 0)
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	roFile := filepath.Join(dir, "ro.db")
	if err := os.WriteFile(roFile, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(ro, "syncd.db"): "cannot be created: ",
		roFile:                        "exists but this user cannot write it",
	} {
		if code, out, _ := testConn(t, f.with("SYNCD_STATE_PATH", path), checkDeadline); code != exitFailed || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, want 1 and %q:\n%s", path, code, want, out)
		}
	}
}

func TestTestConnectionListenAddress(t *testing.T) {
	f := newFakes(t, 0)
	free := freeAddr(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() { // answers nothing a syncd would
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A listener asking for basic auth (a bcrypt hash of "pw"): its
	// /healthz cannot be asked without credentials.
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  ops: $2a$04$Qh2uupbu2pGlMUi9HSRWIOnHz3P6B72V7rAK7WY9PIysFT.vyUKCO\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHealth(3)
	h.setRunning(true)
	running := httptest.NewServer(http.HandlerFunc(h.serveHealthz))
	defer running.Close()
	for _, tc := range []struct {
		name, addr string
		code       int
		want       string
	}{
		{"free", free, exitOK, "http  listen ok   " + free + " is free"},
		{"off", "", exitOK, "http  listen ok   off (SYNCD_LISTEN_ADDR is empty)"},
		{"a running syncd", running.Listener.Addr().String(), exitOK,
			"http  listen WARN " + running.Listener.Addr().String() + ` is in use by a running syncd (its /healthz says "ok")`},
		{"another program", other.Addr().String(), exitFailed, "http  listen FAIL " + other.Addr().String() + " is in use by a program that is not syncd"},
		{"in use, with basic auth", other.Addr().String(), exitOK, "http  listen WARN " + other.Addr().String() + " is in use, by a running syncd or another program (with SYNCD_WEB_CONFIG_FILE set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := f.with("SYNCD_LISTEN_ADDR", tc.addr)
			if strings.Contains(tc.name, "basic auth") {
				env["SYNCD_WEB_CONFIG_FILE"] = webConfig
			}
			code, out, _ := testConn(t, env, checkDeadline)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// Each line is written as its check ends: the first lines are out while
// a silent source still holds its check.
func TestTestConnectionStreams(t *testing.T) {
	f := newFakes(t, 1)
	env := f.with("DTAC_BASE_URL", silentServer(t))
	cfg, err := config.Load(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	exited := make(chan int, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		exited <- testConnectionWithin(ctx, cfg, newLogger(cfg, io.Discard), pw, false, time.Hour)
		pw.Close()
	}()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "crk   verify ok") {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatalf("output ended before the CRK lines: %v\n%s", err, got.String())
		}
		got.Write(buf[:n])
	}
	select {
	case code := <-exited:
		t.Fatalf("-test-connection ended (%d) with a silent source and an hour's deadline", code)
	default:
	}
	cancel() // the operator's Ctrl-C
	go io.Copy(io.Discard, pr)
	if code := <-exited; code != exitFailed {
		t.Fatalf("after Ctrl-C: exit %d, want 1", code)
	}
}
