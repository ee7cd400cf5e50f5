package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/config"
)

const (
	// demoEvery is how often each source's fake adds a call while
	// `syncd -demo -serve` runs.
	demoEvery = 20 * time.Second
	// demoSchedule is the passes' schedule unless SYNCD_SCHEDULE is set.
	demoSchedule = "* * * * *"
	// demoSettle: a produced call is complete when it appears, so it
	// need not wait the 2 minutes a real source's recording does.
	demoSettle = "15s"
)

// demoServeVars are the variables `syncd -demo -serve` takes from the
// environment; everything else is the demo's own.
var demoServeVars = []string{"SYNCD_LISTEN_ADDR", "SYNCD_SCHEDULE", "SYNCD_STATE_PATH", "SYNCD_LOG_LEVEL", "SYNCD_LOG_FORMAT"}

// demoServe is `syncd -demo -serve`: the daemon itself, as plain `syncd`
// runs it (a pass at start, then on every tick; the listener; SIGINT or
// SIGTERM stops it), against the demo's fakes, which keep adding calls
// as they end. The listener is SYNCD_LISTEN_ADDR (default
// 127.0.0.1:9464); passes run every minute unless SYNCD_SCHEDULE says
// otherwise; the state file is in a temporary directory, removed on
// exit, unless SYNCD_STATE_PATH names one.
func demoServe(ctx context.Context, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	rig, err := startDemo()
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer rig.Close()
	rig.env["SYNCD_LISTEN_ADDR"] = config.DefaultListenAddr
	rig.env["SYNCD_SCHEDULE"] = demoSchedule
	rig.env["SYNCD_SETTLE"] = demoSettle
	for _, k := range demoServeVars {
		if v, ok := lookup(k); ok {
			rig.env[k] = v
		}
	}
	stateNote := ""
	if _, ok := lookup("SYNCD_STATE_PATH"); !ok {
		dir, err := os.MkdirTemp("", "syncd-demo-")
		if err != nil {
			fmt.Fprintf(stderr, "syncd: %v\n", err)
			return exitFailed
		}
		defer os.RemoveAll(dir)
		rig.env["SYNCD_STATE_PATH"] = filepath.Join(dir, "syncd.db")
		stateNote = " (removed on exit)"
	}
	cfg, err := config.Load(ctx, func(k string) (string, bool) { v, ok := rig.env[k]; return v, ok }, config.ReadSecretFile)
	if err != nil {
		configError(lookup, stderr, err)
		return exitConfig
	}

	fmt.Fprintf(stdout, "syncd demo, serving: the daemon against fakes of %s on loopback.\n", andList(rig.names))
	fmt.Fprintf(stdout, "Each source's fake holds %d calls of %s and adds one every %s as it ends.\n",
		demoPerSource, rig.day.Format("Mon 2 Jan 2006"), demoEvery)
	if base := listenBase(cfg.ListenAddr); base != "" {
		var t table
		t.row("status page", base+"/")
		t.row("metrics", base+"/metrics")
		t.row("health", base+"/healthz")
		t.write(stdout, "  ")
	} else {
		fmt.Fprintln(stdout, "SYNCD_LISTEN_ADDR is empty: no page, metrics nor health; the log shows the passes.")
	}
	fmt.Fprintf(stdout, "A pass now, then on SYNCD_SCHEDULE %q (%s); state file %s%s.\nStop with Ctrl-C.\n",
		cfg.Schedule, cfg.Location, cfg.StatePath, stateNote)

	pctx, stopProducing := context.WithCancel(ctx)
	var producers sync.WaitGroup
	defer producers.Wait()
	defer stopProducing()
	for _, f := range rig.fakes {
		producers.Go(func() { f.Produce(pctx, demoEvery, time.Now) })
	}
	return daemon(ctx, cfg, newLogger(cfg, stderr), stderr)
}

// listenBase is the URL the daemon listening on addr is reached at from
// this machine: "http://127.0.0.1:9464"; "" for no listener. A host left
// out or unspecified (":9464", "0.0.0.0:9464") is reached on loopback.
func listenBase(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
