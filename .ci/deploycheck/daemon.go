package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

const (
	dToken    = "crk_deploycheck_business_key"
	dDTACUser = "+66811111111"
	dDTACPass = "s3cret-deploycheck-pass"
	// How many recordings the DTAC fake lists, and the daemon must deliver.
	dRecordings = 3
	// How long a condition may take to come true (the first pass, the
	// listener), and the daemon to exit after SIGTERM.
	dDeadline = 30 * time.Second
)

// checkDaemon: Docker's HEALTHCHECK runs `/syncd -healthcheck` inside the
// container, where SYNCD_LISTEN_ADDR is 0.0.0.0:9464. Against the binary
// running as a daemon on the fakes, -healthcheck with the wildcard address
// must reach it over loopback and say healthy; the pass at start delivers
// every recording; SIGTERM stops it with exit 0 within 30 s, and no secret
// is in its log; -healthcheck then says unhealthy (exit 1).
func checkDaemon(ctx context.Context, c *checker, bin string) {
	tmp, err := os.MkdirTemp("", "deploycheck-")
	if err != nil {
		c.failf("%v", err)
		return
	}
	defer os.RemoveAll(tmp)

	crk, err := fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: "b1", Name: "Acme Sales", Slug: "acme"}},
		Tokens: map[string]fakecrk.Token{
			dToken: {Level: fakecrk.LevelBusiness, BusinessID: "b1", Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}},
		},
	})
	if err != nil {
		c.failf("starting the CRK fake: %v", err)
		return
	}
	defer crk.Close()
	dtac, err := fakedtac.Start(fakedtac.Options{Users: map[string]string{dDTACUser: dDTACPass}})
	if err != nil {
		c.failf("starting the DTAC fake: %v", err)
		return
	}
	defer dtac.Close()
	now := time.Now().UTC().Truncate(time.Second)
	for i := range dRecordings {
		dtac.Add(fakedtac.Recording{
			ID: int64(1000 + i), Timestamp: now.Add(-4*time.Hour + time.Duration(i)*time.Minute/2), Duration: 60,
			LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: []string{"IN", "OUT"}[i%2],
			FirstName: "Somchai", LastName: "Jaidee", Audio: fakeaudio.Audio{Seed: uint64(i), Size: 10_000},
		})
	}

	port, err := freePort()
	if err != nil {
		c.failf("%v", err)
		return
	}
	daemon := exec.Command(bin)
	daemon.Env = []string{
		"CRK_API_URL=" + crk.URL(),
		"CRK_API_TOKEN=" + dToken,
		"DTAC_BASE_URL=" + dtac.URL(),
		"DTAC_USERNAME=" + dDTACUser,
		"DTAC_PASSWORD=" + dDTACPass,
		"SYNCD_STATE_PATH=" + filepath.Join(tmp, "syncd.db"),
		"SYNCD_LISTEN_ADDR=127.0.0.1:" + port,
		"SYNCD_SCHEDULE=@every 1h",
		"SYNCD_SETTLE=0s",
	}
	var stderr bytes.Buffer
	daemon.Stderr = &stderr
	if err := daemon.Start(); err != nil {
		c.failf("starting %s: %v", bin, err)
		return
	}
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = daemon.Process.Kill()
			<-exited
		}
	}()

	// As in the container: the wildcard address, answered on 127.0.0.1.
	healthcheck := func() (int, string, error) {
		hc := exec.CommandContext(ctx, bin, "-healthcheck")
		hc.Env = []string{"SYNCD_LISTEN_ADDR=0.0.0.0:" + port}
		out, err := hc.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out), nil
		case errors.As(err, &ee):
			return ee.ExitCode(), string(out), nil
		}
		return -1, "", err
	}
	passes := func() bool { code, _, _ := healthcheck(); return code == 0 }
	if err := waitFor(ctx, "-healthcheck to pass", passes); err != nil {
		c.failf("%v\n%s", err, stderr.String())
		return
	}
	if code, out, err := healthcheck(); err != nil || code != 0 || !strings.Contains(out, `"status":"ok"`) {
		c.failf("-healthcheck with SYNCD_LISTEN_ADDR=0.0.0.0:%s: exit %d, %s %v", port, code, out, err)
	} else {
		c.okf("-healthcheck with SYNCD_LISTEN_ADDR=0.0.0.0:%s: exit 0, %s", port, strings.TrimSpace(out))
	}
	delivered := func() bool { return len(crk.Recordings()) == dRecordings }
	if err := waitFor(ctx, "the pass at start", delivered); err != nil {
		c.failf("%v: CRK holds %d of %d recordings\n%s", err, len(crk.Recordings()), dRecordings, stderr.String())
	} else {
		c.okf("the pass at start delivered %d recordings", dRecordings)
	}

	if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
		c.failf("SIGTERM: %v", err)
		return
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			c.failf("the daemon exited with %v after SIGTERM, want 0\n%s", err, stderr.String())
		} else {
			c.okf("SIGTERM: exit 0")
		}
	case <-time.After(dDeadline):
		_ = daemon.Process.Kill()
		<-exited // stderr is complete only once Wait returned
		stopped = true
		c.failf("the daemon did not exit within %s of SIGTERM\n%s", dDeadline, stderr.String())
	}
	leaked := false
	for _, s := range []string{dToken, dDTACPass} {
		if strings.Contains(stderr.String(), s) {
			c.failf("the daemon's log contains the secret %q", s)
			leaked = true
		}
	}
	if !leaked {
		c.okf("no secret in the daemon's log (%d bytes)", stderr.Len())
	}
	if code, out, err := healthcheck(); err != nil || code != 1 {
		c.failf("-healthcheck with the daemon stopped: exit %d, %s %v; want 1", code, out, err)
	} else {
		c.okf("-healthcheck with the daemon stopped: exit 1")
	}
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// waitFor polls cond until it holds, ctx ends or dDeadline passes.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, dDeadline)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
