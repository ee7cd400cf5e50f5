package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/state"
)

// lockWait is how long a command waits for another process's lock on the
// state file before saying so.
const lockWait = 2 * time.Second

// once is `syncd -once`: one pass of every source.
func once(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer) int {
	a, err := newApp(cfg, log, prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{Timeout: lockWait})
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	al, err := a.alerter(store, nil)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}
	results := passAll(ctx, a.syncer(store, nil, nil), a.sources, nil, log)
	afterPasses(ctx, store, al, results, log)
	for _, r := range results {
		if r.Err != nil || r.Failed > 0 || r.Quarantined > 0 {
			return exitFailed
		}
	}
	return exitOK
}

// status is `syncd -status`. bbolt lets no reader in while the daemon
// holds the file, so then it asks the daemon's /status, which prints the
// same from the daemon's open file.
func status(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) int {
	if _, err := os.Stat(cfg.StatePath); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "state file %s: none yet (no pass has run)\n", cfg.StatePath)
		return exitOK
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if errors.Is(err, state.ErrLocked) {
		code, body, derr := askDaemon(ctx, daemonAddrOf(cfg), "/status")
		if derr != nil || code != http.StatusOK {
			fmt.Fprintf(stderr, "syncd: %v\nand the daemon could not be asked instead: %v (HTTP %d)\n", err, derr, code)
			return exitFailed
		}
		fmt.Fprint(stdout, body)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer store.Close()
	if err := printStatus(ctx, store, cfg.Location, stdout); err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// healthcheck is `syncd -healthcheck`: it reads only the variables that
// say how to reach the listener (SYNCD_LISTEN_ADDR, SYNCD_WEB_CONFIG_FILE,
// SYNCD_HEALTHCHECK_USER, SYNCD_HEALTHCHECK_PASSWORD), so that it works
// whatever else the container's environment holds.
func healthcheck(ctx context.Context, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	addr, ok := lookup("SYNCD_LISTEN_ADDR")
	if !ok {
		addr = config.DefaultListenAddr
	}
	d := daemonAddr{listen: addr}
	d.webConfig, _ = lookup("SYNCD_WEB_CONFIG_FILE")
	d.user, _ = lookup("SYNCD_HEALTHCHECK_USER")
	d.password, _ = lookup("SYNCD_HEALTHCHECK_PASSWORD")
	code, body, err := askDaemon(ctx, d, "/healthz")
	if err != nil {
		fmt.Fprintf(stderr, "syncd: unhealthy: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, strings.TrimSpace(body))
	if code != http.StatusOK {
		return exitFailed
	}
	return exitOK
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
