package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sources"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// The demo's made-up CRK key: it exists only inside the fake. Each
// source's fake brings its own credentials (connectors.Kind.Demo).
const (
	demoToken      = "crk_demo_business_key"
	demoPerSource  = 40
	demoBusinessID = "b-demo"
)

// demo is `syncd -demo`: fakes of CRK and of every kind of source
// (internal/sources) on loopback with a day of sample recordings, one pass
// of each source into CRK through the real wiring, and a summary. It needs
// no configuration.
func demo(ctx context.Context, stdout, stderr io.Writer) int {
	start := time.Now()
	dir, err := os.MkdirTemp("", "syncd-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	rig, err := startDemo()
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer rig.Close()
	rig.env["SYNCD_STATE_PATH"] = filepath.Join(dir, "syncd.db")
	rig.env["SYNCD_LISTEN_ADDR"] = ""
	rig.env["SYNCD_LOG_LEVEL"] = "error"

	cfg, err := config.Load(ctx, func(k string) (string, bool) { v, ok := rig.env[k]; return v, ok }, config.ReadSecretFile)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: the demo's own configuration: %v\n", err)
		return exitFailed
	}
	log := newLogger(cfg, stderr)
	a, err := newApp(cfg, log, nil)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{Timeout: lockWait})
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer store.Close()

	fmt.Fprintf(stdout, "syncd demo: fakes of %s on loopback;\n%d sample calls each from %s, state in a temporary file.\n\n",
		andList(rig.names), demoPerSource, rig.day.Format("Mon 2 Jan 2006"))
	results := passAll(ctx, a.syncer(store, nil, nil), a.sources, nil, log)
	tail := rig.tail()
	tail.took = time.Since(start)
	printDemo(stdout, results, rig.loc, tail)
	for _, r := range results {
		if r.Err != nil {
			return exitFailed
		}
	}
	return exitOK
}

// demoRig is the demo's fakes on loopback, of CRK and of every kind of
// source, and the variables that point syncd at them.
type demoRig struct {
	// day is the sample calls' day, in loc (the default SYNCD_TIMEZONE).
	day   time.Time
	loc   *time.Location
	crk   *fakecrk.Server
	kinds []connectors.Kind
	fakes []*connectors.DemoFake
	// env is the demo's configuration: the fakes' addresses and made-up
	// credentials, and the settings a demo wants.
	env map[string]string
	// names are the fakes as the demo's first line lists them.
	names []string
}

// startDemo starts the fakes, each source's holding demoPerSource calls
// of yesterday's business day in Bangkok (inside the demo's 48 h
// backfill).
func startDemo() (*demoRig, error) {
	loc, err := time.LoadLocation(config.DefaultTimezone)
	if err != nil {
		return nil, err
	}
	day := time.Now().In(loc).AddDate(0, 0, -1)
	crk, err := fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: demoBusinessID, Name: "Demo Co., Ltd.", Slug: "demo"}},
		Tokens: map[string]fakecrk.Token{demoToken: {Level: fakecrk.LevelBusiness, BusinessID: demoBusinessID,
			Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}}},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the CRK fake: %w", err)
	}
	rig := &demoRig{day: day, loc: loc, crk: crk, names: []string{fmt.Sprintf("CRK (%s)", crk.URL())}, env: map[string]string{
		"CRK_API_URL":    crk.URL(),
		"CRK_API_TOKEN":  demoToken,
		"SYNCD_BACKFILL": "48h",
		// The real CRK allows 600 requests a minute; its fake here has no
		// limit, and the demo should not wait on one.
		"CRK_RATE_LIMIT": "60000",
	}}
	for i, k := range sources.All() {
		f, err := k.Demo(day, loc, demoPerSource, uint64(i+1))
		if err != nil {
			rig.Close()
			return nil, fmt.Errorf("starting the %s fake: %w", k.ShortTitle(), err)
		}
		rig.kinds = append(rig.kinds, k)
		rig.fakes = append(rig.fakes, f)
		maps.Copy(rig.env, f.Env)
		rig.names = append(rig.names, fmt.Sprintf("%s (%s)", k.Title, f.URL))
	}
	return rig, nil
}

// Close stops every fake.
func (r *demoRig) Close() {
	for _, f := range r.fakes {
		f.Close()
	}
	r.crk.Close()
}

// tail is what the fakes say for the summary's last lines.
func (r *demoRig) tail() demoTail {
	var t demoTail
	for i, f := range r.fakes {
		if f.Note == nil {
			continue
		}
		if n := f.Note(); n != "" {
			t.notes = append(t.notes, r.kinds[i].Name+": "+n)
		}
	}
	recs := r.crk.Recordings()
	t.held = len(recs)
	for _, rec := range recs {
		t.reextracts += rec.Reextracts
	}
	return t
}

// demoTail is what the demo's summary says beyond the passes' results.
type demoTail struct {
	// notes are the sources' notes on calls of their fakes left out by
	// design, each prefixed with the source's name.
	notes []string
	// held and reextracts are what the CRK fake holds and was asked.
	held, reextracts int
	took             time.Duration
}

// printDemo prints every recording a pass handled (the first few of each
// source, and every one not synced, with the whole reason), a line a
// source, the sources' notes and the totals. Columns are aligned by
// display width, so that Thai names keep the columns after them straight.
func printDemo(w io.Writer, results []syncer.Result, loc *time.Location, tail demoTail) {
	var t table
	t.row("DATAID", "CALL AT ("+loc.String()+")", "DIR", "CUSTOMER", "AGENT", "AUDIO", "RESULT")
	var synced, quarantined, failed int
	var bytes int64
	for _, r := range results {
		shown := 0
		for _, it := range r.Items {
			result := "synced"
			switch {
			case it.Quarantined != "":
				result = "quarantined: " + oneLine(it.Quarantined)
			case it.Err != nil:
				result = "failed: " + oneLine(it.Err.Error())
			}
			bytes += it.Bytes
			if shown < 8 || it.Err != nil || it.Quarantined != "" {
				rec := it.Recording
				t.row(rec.DataID, rec.CallAt.In(loc).Format("2006-01-02 15:04:05 -07:00"), rec.Direction, rec.CustomerPhone,
					strings.TrimSpace(rec.AgentName+" "+rec.AgentNumber), kb(it.Bytes), result)
				shown++
			}
		}
		if hidden := len(r.Items) - shown; hidden > 0 {
			t.row(fmt.Sprintf("… %d more from %s", hidden, r.Source))
		}
		synced += r.Synced
		quarantined += r.Quarantined
		failed += r.Failed
	}
	t.write(w, "")
	fmt.Fprintln(w)
	var s table
	for _, r := range results {
		line := fmt.Sprintf("%d listed, %d synced, %d quarantined, %d failed, in %s", r.Listed, r.Synced, r.Quarantined, r.Failed, r.Took.Round(time.Millisecond))
		if r.Err != nil {
			line += "; the pass failed: " + oneLine(r.Err.Error())
		}
		s.row(r.Source, line)
	}
	s.write(w, "")
	for _, n := range tail.notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintf(w, "total %d synced (%s of audio), %d quarantined, %d failed, in %s\n", synced, kb(bytes), quarantined, failed, tail.took.Round(time.Millisecond))
	fmt.Fprintf(w, "the CRK fake now holds %d recordings with audio and was asked for %d AI re-extractions\n", tail.held, tail.reextracts)
}

// andList is "a", "a and b", "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func kb(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
}
