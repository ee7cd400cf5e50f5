package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakedtac"
	"github.com/crkai/syncd/internal/fake/fakelog"
	"github.com/crkai/syncd/internal/state"
)

func needControlSocket(t *testing.T) {
	t.Helper()
	if err := peerCredSupported(); err != nil {
		t.Skipf("no control socket on %s: %v", runtime.GOOS, err)
	}
}

// gone is a recording whose audio the portal lost: a pass quarantines it.
func gone(at time.Time) fakedtac.Recording {
	return fakedtac.Recording{ID: 2000, Timestamp: at, Duration: 5, LocalParty: "+66898765432", RemoteParty: "021234567",
		Direction: "IN", Audio: fakeaudio.Audio{Seed: 9, Size: 100}, State: fakedtac.Gone}
}

// TestRetryWhileTheDaemonRuns: a recording is quarantined; the daemon
// starts, and while its pass is in flight (waiting on the CRK rate limit
// with recordings still to send) an operator runs -retry-quarantined. The
// command reaches the daemon over its control socket; the pass, which
// read the record as quarantined when it began, does not write it back
// over the retry; once the audio is back, the next pass delivers it.
func TestRetryWhileTheDaemonRuns(t *testing.T) {
	needControlSocket(t)
	f := newFakes(t, 1)
	ctx := t.Context()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	f.dtac.Add(gone(at))
	if o := runWith(ctx, f.env, "-once"); o.code != exitFailed {
		t.Fatalf("-once with a gone recording: %+v", o)
	}
	for i := range 4 { // work for the daemon's pass
		f.dtac.Add(fakedtac.Recording{ID: int64(3000 + i), Timestamp: at.Add(time.Duration(i) * time.Minute), Duration: 30,
			LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: "OUT", Audio: fakeaudio.Audio{Seed: uint64(i), Size: 1000}})
	}
	env := f.with("SYNCD_SCHEDULE", "@every 1h", "CRK_RATE_LIMIT", "6")
	cfg, err := config.Load(ctx, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	dctx, signal := context.WithCancel(ctx)
	defer signal()
	exited := make(chan int, 1)
	created := f.crk.Count(fakecrk.EndpointCreate)
	go func() { exited <- runDaemon(dctx, cfg, newLogger(cfg, &logs), io.Discard, 200*time.Millisecond) }()
	waitFor(t, "the daemon's pass creating a recording", func() bool { return f.crk.Count(fakecrk.EndpointCreate) > created })

	o := runWith(ctx, env, "-retry-quarantined", "-data-id", "dtac-2000")
	if o.code != exitOK || !strings.Contains(o.stdout, "moved 1 quarantined recording back to pending, through the running daemon") {
		t.Fatalf("-retry-quarantined while the daemon runs: %+v\n%s", o, logs.String())
	}
	if o := runWith(ctx, env, "-retry-quarantined"); o.code != exitOK || !strings.Contains(o.stdout, "moved 0 ") {
		t.Fatalf("a second -retry-quarantined: %+v", o)
	}
	if !strings.Contains(logs.String(), "as asked through the control socket") {
		t.Errorf("the daemon did not log the retry:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "pass done") {
		t.Fatalf("the pass ended before the retry: it was not in flight:\n%s", logs.String())
	}

	signal()
	if code := <-exited; code != exitOK {
		t.Fatalf("the daemon exited %d:\n%s", code, logs.String())
	}
	if _, err := os.Stat(controlSocket(cfg.StatePath)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the daemon left its socket behind: %v", err)
	}
	o = runWith(ctx, f.env, "-status")
	if o.code != exitOK || !strings.Contains(o.stdout, "quarantined 0") {
		t.Fatalf("-status after the daemon: the pass wrote the retried record back? %+v", o)
	}

	f.dtac.Add(fakedtac.Recording{ID: 2000, Timestamp: at, Duration: 5, LocalParty: "+66898765432", RemoteParty: "021234567",
		Direction: "IN", Audio: fakeaudio.Audio{Seed: 9, Size: 100}}) // the portal found its audio
	if o := runWith(ctx, f.env, "-once"); o.code != exitOK {
		t.Fatalf("-once after the retry: %+v", o)
	}
	if r, ok := f.crk.Recording("b1", "dtac-2000"); !ok || !r.HasAudio || r.Reextracts != 1 {
		t.Fatalf("dtac-2000 at CRK after the retry: %+v, %v", r, ok)
	}
}

func openStore(t *testing.T) (*state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := state.Open(t.Context(), path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestControlSocketRefusesOtherUsers(t *testing.T) {
	needControlSocket(t)
	s, path := openStore(t)
	sock := controlSocket(path)
	ln, err := listenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	c := &controlServer{store: s, log: slog.New(slog.NewTextHandler(&logs, nil)), allowed: func(uint32) bool { return false }}
	defer c.serve(t.Context(), ln)()
	info, err := os.Stat(sock)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v: want mode 0600", info, err)
	}
	_, err = askRetry(t.Context(), sock, state.Selection{})
	var none *errNoDaemon
	if err == nil || errors.As(err, &none) || !strings.Contains(err.Error(), "may not use the daemon's control socket") {
		t.Fatalf("a refused user: %v", err)
	}
	if !strings.Contains(logs.String(), "refused a user") {
		t.Errorf("the refusal was not logged:\n%s", logs.String())
	}
}

func TestPeerAllowed(t *testing.T) {
	allowed := peerAllowed(997)
	for uid, want := range map[uint32]bool{997: true, 0: true, 1000: false, 65534: false} {
		if allowed(uid) != want {
			t.Errorf("uid %d: allowed %v, want %v", uid, !want, want)
		}
	}
}

// A socket a killed daemon left is removed at start; anything else at its
// path is left alone, and the daemon runs without a socket.
func TestControlSocketStale(t *testing.T) {
	needControlSocket(t)
	s, path := openStore(t)
	sock := controlSocket(path)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the socket file stays, and nothing answers on it
	if _, err := askRetry(t.Context(), sock, state.Selection{}); !errors.As(err, new(*errNoDaemon)) {
		t.Fatalf("a stale socket: %v, want errNoDaemon", err)
	}
	stop := serveControl(t.Context(), s, path, discard())
	if n, err := askRetry(t.Context(), sock, state.Selection{}); err != nil || n != 0 {
		t.Fatalf("after the daemon replaced the stale socket: %d, %v", n, err)
	}
	stop()
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket is still there after stop: %v", err)
	}

	if err := os.WriteFile(sock, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs fakelog.Buffer
	serveControl(t.Context(), s, path, slog.New(slog.NewTextHandler(&logs, nil)))()
	if b, err := os.ReadFile(sock); err != nil || string(b) != "not a socket" {
		t.Fatalf("the file at the socket's path was touched: %q, %v", b, err)
	}
	if !strings.Contains(logs.String(), "exists and is not a socket") {
		t.Errorf("no warning about the file in the way:\n%s", logs.String())
	}
}

// With the file held and no daemon answering, the command says to stop
// the daemon, as it did before the socket.
func TestRetryWithTheFileHeldAndNoSocket(t *testing.T) {
	f := newFakes(t, 0)
	s, err := state.Open(t.Context(), f.env["SYNCD_STATE_PATH"], state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := runWith(t.Context(), f.env, "-retry-quarantined")
	if o.code != exitFailed || !strings.Contains(o.stderr, "its control socket "+controlSocket(f.env["SYNCD_STATE_PATH"])+" does not answer") ||
		!strings.Contains(o.stderr, "stop the daemon") {
		t.Fatalf("-retry-quarantined with the file held: %+v", o)
	}
}

// helperAskRetry is set in the environment of the process that
// TestControlSocketRefusesAnotherUser runs as another user: the socket to
// ask.
const helperAskRetry = "SYNCD_TEST_ASK_RETRY"

// TestHelperAskRetry is not a test: it is the other user's process.
func TestHelperAskRetry(t *testing.T) {
	sock := os.Getenv(helperAskRetry)
	if sock == "" {
		t.Skip("run by TestControlSocketRefusesAnotherUser")
	}
	_, err := askRetry(t.Context(), sock, state.Selection{})
	fmt.Printf("uid %d: %v\n", os.Getuid(), err)
}

// TestControlSocketRefusesAnotherUser: a process of another user (nobody)
// asks the daemon. With the socket's mode 0600 the kernel stops it; with
// the socket opened to all (a loose umask, or the moment before the
// daemon's chmod), the daemon's own check of the peer's uid refuses it.
func TestControlSocketRefusesAnotherUser(t *testing.T) {
	needControlSocket(t)
	if os.Getenv(helperAskRetry) != "" {
		t.Skip("the helper process")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a process as another user")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "syncd.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "syncd.db")
	s, err := state.Open(t.Context(), path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var logs fakelog.Buffer
	defer serveControl(t.Context(), s, path, slog.New(slog.NewTextHandler(&logs, nil)))()
	sock := controlSocket(path)
	asNobody := func() string {
		cmd := exec.CommandContext(t.Context(), bin, "-test.run=^TestHelperAskRetry$")
		cmd.Env = append(os.Environ(), helperAskRetry+"="+sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the process as nobody: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := asNobody(); !strings.Contains(out, "uid 65534: dial unix "+sock+": connect: permission denied") {
		t.Errorf("nobody on a 0600 socket: %s", out)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	if out := asNobody(); !strings.Contains(out, "uid 65534: the daemon refused (HTTP 403): uid 65534 may not use the daemon's control socket") {
		t.Errorf("nobody on a socket open to all: %s", out)
	}
	if !strings.Contains(logs.String(), "refused a user") || !strings.Contains(logs.String(), "uid=65534") {
		t.Errorf("the refusal was not logged:\n%s", logs.String())
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
