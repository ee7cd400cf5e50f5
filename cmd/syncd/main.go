// Command syncd pulls call recordings out of phone systems (DTAC One Call,
// 3CX) and hands them to the CRK Call Recording AI API. It runs as a daemon
// on a cron schedule, or once (-once, -dry-run), and has one-shot commands
// for operators (-test-connection, -status, -retry-quarantined, -demo,
// -healthcheck, -version). See README.md and docs/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Bangkok in a distroless image

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/sources"
	"github.com/crkai/syncd/internal/state"
)

// Exit codes, as README.md documents them.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	once, dryRun, testConn, status, retryQ, demo, healthcheck, version bool
	sendTestAlert                                                      bool
	// with -demo: run the daemon on the fakes
	serve bool
	// with -retry-quarantined: which records
	retrySource, retryReason, retryDataID string
}

// define defines the flags on fs.
func (o *options) define(fs *flag.FlagSet) {
	fs.BoolVar(&o.once, "once", false, "run one pass of every source, then exit (1 if anything failed)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "like -once, but send nothing to CRK and write no state: print what a pass would send (after asking CRK, read-only, what it already holds)")
	fs.BoolVar(&o.testConn, "test-connection", false, "check every source's log-in, listing and audio, and the CRK token; write nothing")
	fs.BoolVar(&o.status, "status", false, "print the state file's summary and quarantine (read-only; works while the daemon runs)")
	fs.BoolVar(&o.retryQ, "retry-quarantined", false, "move quarantined recordings back to pending (all, or those chosen by -source, -reason, -data-id)")
	fs.StringVar(&o.retrySource, "source", "", "with -retry-quarantined: only this source's recordings ("+sourceNames()+")")
	fs.StringVar(&o.retryReason, "reason", "", "with -retry-quarantined: only recordings whose quarantine reason contains this text")
	fs.StringVar(&o.retryDataID, "data-id", "", "with -retry-quarantined: only the recording with this dataId")
	fs.BoolVar(&o.demo, "demo", false, "sync sample recordings from built-in fakes of CRK and of every kind of source on loopback, then print a summary")
	fs.BoolVar(&o.serve, "serve", false, "with -demo: run the daemon itself on the fakes, which keep adding calls, with its page, /metrics and /healthz, until Ctrl-C")
	fs.BoolVar(&o.healthcheck, "healthcheck", false, "ask the running daemon's /healthz (for Docker HEALTHCHECK)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.sendTestAlert, "send-test-alert", false, "with -test-connection: also send one test message through the CRK notification gateway")
}

// check refuses flags that do not go together.
func (o *options) check() error {
	if o.serve && !o.demo {
		return errors.New("-serve goes with -demo")
	}
	if o.sendTestAlert && !o.testConn {
		return errors.New("-send-test-alert goes with -test-connection")
	}
	if (o.retrySource != "" || o.retryReason != "" || o.retryDataID != "") && !o.retryQ {
		return errors.New("-source, -reason and -data-id go with -retry-quarantined")
	}
	if n := countTrue(o.once, o.dryRun, o.testConn, o.status, o.retryQ, o.demo, o.healthcheck, o.version); n > 1 {
		return errors.New("give at most one of -once, -dry-run, -test-connection, -status, -retry-quarantined, -demo, -healthcheck, -version")
	}
	return nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("syncd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.define(fs)
	fs.Usage = shortUsage(stderr)
	if wantsHelp(args) {
		printHelp(stdout, fs)
		return exitOK
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "syncd: unexpected argument %q (syncd is configured through the environment; see -h)\n", fs.Arg(0))
		return exitConfig
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}
	switch {
	case o.version:
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case o.healthcheck:
		return healthcheck(ctx, lookup, stdout, stderr)
	case o.demo && o.serve:
		return demoServe(ctx, lookup, stdout, stderr)
	case o.demo:
		return demo(ctx, stdout, stderr)
	}

	if o.status || o.retryQ {
		// The state file, its control socket and the daemon's address are
		// all these need: no token, no source (root may run them on a
		// host whose credentials only the service can read).
		cfg, err := config.LoadLocal(ctx, lookup)
		if err != nil {
			configError(lookup, stderr, err)
			return exitConfig
		}
		if o.retryQ {
			return retryQuarantined(ctx, cfg, state.Selection{Source: o.retrySource, Reason: o.retryReason, DataID: o.retryDataID}, stdout, stderr)
		}
		return status(ctx, cfg, stdout, stderr)
	}
	cfg, err := config.Load(ctx, lookup, config.ReadSecretFile)
	if err != nil {
		configError(lookup, stderr, err)
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	switch {
	case o.testConn:
		return testConnection(ctx, cfg, log, stdout, o.sendTestAlert)
	case o.dryRun:
		return dryRun(ctx, cfg, log, stdout, stderr)
	case o.once:
		return once(ctx, cfg, log, stderr)
	}
	for _, w := range config.DSTWarnings(cfg.Schedule, cfg.Location, time.Now()) {
		log.Warn("the schedule meets a daylight-saving change: " + w)
	}
	return daemon(ctx, cfg, log, stderr)
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// configError reports an invalid configuration: as text, or as one JSON
// log line when SYNCD_LOG_FORMAT=json asks for it (a log pipeline then
// reads it like any other line).
func configError(lookup func(string) (string, bool), stderr io.Writer, err error) {
	if f, _ := lookup("SYNCD_LOG_FORMAT"); strings.EqualFold(f, "json") {
		attrs := []any{"err", err}
		var cerr *config.Error
		if errors.As(err, &cerr) {
			problems := make(map[string]string, len(cerr.Problems))
			for _, p := range cerr.Problems {
				problems[p.Var] = p.Why
			}
			attrs = append(attrs, "problems", problems)
		}
		slog.New(slog.NewJSONHandler(stderr, nil)).Error("invalid configuration", attrs...)
		return
	}
	fmt.Fprintf(stderr, "syncd: %v\n", err)
}

// sourceNames lists the names of every kind of source, for the help:
// "dtac, 3cx, orkweb".
func sourceNames() string {
	var names []string
	for _, k := range sources.All() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}
