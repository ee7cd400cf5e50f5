package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

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
// no configuration and no network.
func demo(ctx context.Context, stdout, stderr io.Writer) int {
	start := time.Now()
	loc, err := time.LoadLocation(config.DefaultTimezone)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	dir, err := os.MkdirTemp("", "syncd-demo-")
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)

	crkSrv, err := fakecrk.Start(fakecrk.Options{
		Businesses: []fakecrk.Business{{ID: demoBusinessID, Name: "Demo Co., Ltd.", Slug: "demo"}},
		Tokens: map[string]fakecrk.Token{demoToken: {Level: fakecrk.LevelBusiness, BusinessID: demoBusinessID,
			Scopes: []string{fakecrk.ScopeManageCall, fakecrk.ScopeViewAll}}},
	})
	if err != nil {
		fmt.Fprintf(stderr, "syncd: starting the CRK fake: %v\n", err)
		return exitFailed
	}
	defer crkSrv.Close()

	// Yesterday's business day, in Bangkok: inside the demo's 48 h backfill.
	yesterday := time.Now().In(loc).AddDate(0, 0, -1)
	env := map[string]string{
		"CRK_API_URL":       crkSrv.URL(),
		"CRK_API_TOKEN":     demoToken,
		"SYNCD_STATE_PATH":  filepath.Join(dir, "syncd.db"),
		"SYNCD_LISTEN_ADDR": "",
		"SYNCD_BACKFILL":    "48h",
		// The real CRK allows 600 requests a minute; its fake here has no
		// limit, and the demo should not wait on one.
		"CRK_RATE_LIMIT":  "60000",
		"SYNCD_LOG_LEVEL": "error",
	}
	fakes := []string{fmt.Sprintf("CRK (%s)", crkSrv.URL())}
	for i, k := range sources.All() {
		f, err := k.Demo(yesterday, loc, demoPerSource, uint64(i+1))
		if err != nil {
			fmt.Fprintf(stderr, "syncd: starting the %s fake: %v\n", k.ShortTitle(), err)
			return exitFailed
		}
		defer f.Close()
		maps.Copy(env, f.Env)
		fakes = append(fakes, fmt.Sprintf("%s (%s)", k.Title, f.URL))
	}

	cfg, err := config.Load(ctx, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, config.ReadSecretFile)
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
		andList(fakes), demoPerSource, yesterday.Format("Mon 2 Jan 2006"))
	results := passAll(ctx, a.syncer(store, nil, nil), a.sources, nil, log)
	printDemo(stdout, results, loc, crkSrv, time.Since(start))
	for _, r := range results {
		if r.Err != nil {
			return exitFailed
		}
	}
	return exitOK
}

func printDemo(w io.Writer, results []syncer.Result, loc *time.Location, crkSrv *fakecrk.Server, took time.Duration) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DATAID\tCALL AT (Asia/Bangkok)\tDIR\tCUSTOMER\tAGENT\tAUDIO\tRESULT")
	var synced, quarantined, failed int
	var bytes int64
	for _, r := range results {
		shown := 0
		for _, it := range r.Items {
			result := "synced"
			switch {
			case it.Quarantined != "":
				result = "quarantined: " + firstLine(it.Quarantined)
			case it.Err != nil:
				result = "failed: " + firstLine(it.Err.Error())
			}
			bytes += it.Bytes
			if shown < 8 || it.Err != nil || it.Quarantined != "" {
				rec := it.Recording
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rec.DataID, rec.CallAt.In(loc).Format("2006-01-02 15:04:05 -07:00"),
					rec.Direction, rec.CustomerPhone, strings.TrimSpace(rec.AgentName+" "+rec.AgentNumber), kb(it.Bytes), result)
				shown++
			}
		}
		if hidden := len(r.Items) - shown; hidden > 0 {
			fmt.Fprintf(tw, "… %d more from %s\t\t\t\t\t\t\n", hidden, r.Source)
		}
		synced += r.Synced
		quarantined += r.Quarantined
		failed += r.Failed
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range results {
		line := fmt.Sprintf("%-5s %d listed, %d synced, %d quarantined, %d failed, in %s", r.Source, r.Listed, r.Synced, r.Quarantined, r.Failed, r.Took.Round(time.Millisecond))
		if r.Err != nil {
			line += "; the pass failed: " + r.Err.Error()
		}
		fmt.Fprintln(w, line)
	}
	reextracts := 0
	for _, rec := range crkSrv.Recordings() {
		reextracts += rec.Reextracts
	}
	fmt.Fprintf(w, "total %d synced (%s of audio), %d quarantined, %d failed, in %s\n", synced, kb(bytes), quarantined, failed, took.Round(time.Millisecond))
	fmt.Fprintf(w, "the CRK fake now holds %d recordings with audio and was asked for %d AI re-extractions\n", len(crkSrv.Recordings()), reextracts)
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

func firstLine(s string) string {
	s = oneLine(s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
