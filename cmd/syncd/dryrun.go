package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// dryRun is `syncd -dry-run`: what a real pass would do now, sending
// nothing and writing no state. A real pass sends a recording the state
// file does not know (every one, on a fresh or lost state file) only once
// CRK has said it does not hold it yet; -dry-run asks CRK the same
// read-only question (syncer.Held), so that its count is what a real pass
// sends. When CRK cannot be asked (down, the token refused), a real pass
// sends none of those and fails; -dry-run says so, counts them as "at
// most", and exits 1 likewise.
//
// The table (stdout) lists what a pass would act on; one summary line a
// source (stderr) gives the counts.
func dryRun(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) int {
	a, err := newApp(cfg, log, nil)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitConfig
	}
	store, cleanup, err := openReadOnlyOrEmpty(ctx, cfg.StatePath)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer cleanup()
	sy := a.syncer(store, nil, nil)
	code := exitOK
	var t table
	t.row("SOURCE", "WOULD", "DATAID", "CALL AT", "DIR", "CUSTOMER", "AGENT NUMBER", "AGENT NAME", "WHY")
	for _, c := range a.sources {
		p, err := sy.Plan(ctx, c)
		if err != nil {
			fmt.Fprintf(stderr, "syncd: %s: %v\n", c.Name(), err)
			code = exitFailed
			continue
		}
		v, err := judge(ctx, sy, p)
		if err != nil {
			code = exitFailed
			if !crkError(err) {
				fmt.Fprintf(stderr, "syncd: %s: %v\n", c.Name(), err)
				continue
			}
		}
		for _, r := range p.Todo {
			d := v.of[r.ID]
			if d.would == "" {
				continue // CRK holds it: a pass sends nothing
			}
			customer := r.CustomerPhone
			if cfg.LogPhones != "full" {
				customer = phone.Mask(customer)
			}
			t.row(c.Name(), d.would, r.DataID, r.CallAt.In(cfg.Location).Format(time.RFC3339), r.Direction,
				customer, r.AgentNumber, r.AgentName, d.why)
		}
		fmt.Fprintf(stderr, "%s: window %s – %s: %s\n", c.Name(),
			p.From.In(cfg.Location).Format(time.RFC3339), p.To.In(cfg.Location).Format(time.RFC3339), v.summary(len(p.Listed), len(p.Missing)))
		if err != nil {
			fmt.Fprintf(stderr, "%s: CRK could not be asked which of %d recordings the state file does not know it already holds: %v\n"+
				"  a real pass would send none of them now (sending blindly might pay twice) and fail; the count above is an upper bound\n",
				c.Name(), len(p.Check), err)
		}
	}
	if err := t.write(stdout, ""); err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	return code
}

// crkError reports whether err is CRK's answer, or the lack of one, rather
// than a failure of the state file.
func crkError(err error) bool {
	var ae *sink.APIError
	var ne *sink.NetError
	return errors.As(err, &ae) || errors.As(err, &ne)
}

// decision is what a pass would do with one recording of a plan: would
// is "" when it does nothing (CRK already holds it).
type decision struct{ would, why string }

// verdict is a plan seen as a real pass would act on it.
type verdict struct {
	of                     map[string]decision // by recording id
	send, quarantine, ask  int
	heldDone, heldAwaiting int
	unchecked              bool // CRK could not be asked
}

// judge decides, for every recording of p.Todo, what a real pass would do:
// quarantine one the source described badly; of those the state file
// does not know (p.Check), skip what CRK already holds (syncer.Held) and
// send the rest; send every other. When CRK cannot be asked, it returns
// the error with p.Check marked "ask" (a pass holds them back).
func judge(ctx context.Context, sy *syncer.Syncer, p *syncer.Plan) (verdict, error) {
	v := verdict{of: make(map[string]decision, len(p.Todo))}
	held, err := sy.Held(ctx, p)
	if err != nil {
		v.unchecked = true
	}
	for _, h := range held {
		if h.Step == state.Done {
			v.heldDone++
		} else {
			v.heldAwaiting++
		}
		v.of[h.ID] = decision{}
	}
	for _, r := range p.Todo {
		if _, ok := v.of[r.ID]; ok {
			continue
		}
		switch {
		case r.Invalid != nil:
			v.of[r.ID] = decision{"quarantine", r.Invalid.Error()}
			v.quarantine++
		case p.Check[r.ID] && v.unchecked:
			v.of[r.ID] = decision{"ask CRK", "CRK could not be asked whether it holds it already"}
			v.ask++
		default:
			v.of[r.ID] = decision{"send", ""}
			v.send++
		}
	}
	return v, err
}

// summary is the counts in words.
func (v verdict) summary(listed, missing int) string {
	s := fmt.Sprintf("%d listed, %d to send", listed, v.send)
	if v.unchecked {
		s = fmt.Sprintf("%d listed, at most %d to send (%d of them only once CRK says it does not hold them)", listed, v.send+v.ask, v.ask)
	}
	if v.quarantine > 0 {
		s += fmt.Sprintf(", %d to quarantine", v.quarantine)
	}
	if n := v.heldDone + v.heldAwaiting; n > 0 {
		s += fmt.Sprintf("; %d not sent: CRK already holds them (%d processed, %d without proof of processing, left for a person to check if none comes)",
			n, v.heldDone, v.heldAwaiting)
	}
	if missing > 0 {
		s += fmt.Sprintf("; %d recorded as pending were not listed this time", missing)
	}
	return s
}

// openReadOnlyOrEmpty opens the state file read-only, or, when there is
// none yet, an empty one in a temporary directory.
func openReadOnlyOrEmpty(ctx context.Context, path string) (*state.Store, func(), error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		dir, err := os.MkdirTemp("", "syncd-dry-run-")
		if err != nil {
			return nil, nil, err
		}
		s, err := state.Open(ctx, filepath.Join(dir, "syncd.db"), state.Options{Timeout: lockWait})
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { s.Close(); os.RemoveAll(dir) }, nil
	}
	s, err := state.Open(ctx, path, state.Options{ReadOnly: true, Timeout: lockWait})
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}
