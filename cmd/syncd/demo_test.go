package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/syncer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// TestPrintDemoGolden: the demo's summary of fixed results, Thai agent
// names with combining vowels and tone marks among them: the whole
// quarantine reason (Thai, far past 80 bytes) on one line, columns
// aligned by display width, the "… more" line, a failed recording and a
// failed pass, the 3CX note and the totals.
func TestPrintDemoGolden(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 21, 9, 0, 0, 0, loc)
	names := []struct{ name, number string }{
		{"สมชาย ใจดี", "+66812345678"}, {"อรอุมา พึ่งบุญ", "+66957778899"}, {"Napat Wongsawat", "+66861112233"},
		{"ปิยะพงษ์", "+66945556677"}, {"วิไลวรรณ ศรีสุข", "+66891234567"},
	}
	dtac := syncer.Result{Source: "dtac", Listed: 11, Synced: 10, Quarantined: 1, Took: 1234 * time.Millisecond}
	for i := range 10 {
		n := names[i%len(names)]
		dtac.Items = append(dtac.Items, syncer.Item{Bytes: int64(20_000 + 1000*i), Recording: connectors.Recording{
			DataID: fmt.Sprintf("dtac-%d", 982900001+i), CallAt: at.Add(time.Duration(i) * 17 * time.Minute),
			Direction: []string{"in", "out"}[i%2], CustomerPhone: "+66812345" + fmt.Sprintf("%03d", i), AgentName: n.name, AgentNumber: n.number,
		}})
	}
	dtac.Items = append(dtac.Items, syncer.Item{
		Recording:   connectors.Recording{DataID: "dtac-982900021", CallAt: at.Add(4 * time.Hour), Direction: "in", CustomerPhone: "021234567", AgentName: "อรอุมา พึ่งบุญ", AgentNumber: "+66957778899"},
		Quarantined: "opening the audio of dtac-982900021: HTTP 404: ไม่พบไฟล์เสียงของการโทรนี้ในระบบ\n(ถูกลบไปแล้วที่พอร์ทัล)",
	})
	cx := syncer.Result{Source: "3cx", Listed: 2, Synced: 1, Failed: 1, Took: 987 * time.Millisecond, Items: []syncer.Item{
		{Bytes: 98304, Recording: connectors.Recording{DataID: "3cx-pbx-1", CallAt: at, Direction: "out", CustomerPhone: "+6621234567", AgentName: "Somchai Jaidee", AgentNumber: "117"}},
		{Recording: connectors.Recording{DataID: "3cx-pbx-2", CallAt: at.Add(time.Hour), Direction: "in", CustomerPhone: "+66898765432", AgentName: "Suda Rakdee", AgentNumber: "101"},
			Err: errors.New("uploading the audio:\n  storage refused the upload (HTTP 403)")},
	}}
	ork := syncer.Result{Source: "orkweb", Took: 40 * time.Millisecond, Err: errors.New("listing orkweb: log-in refused")}
	var out bytes.Buffer
	printDemo(&out, []syncer.Result{dtac, cx, ork}, loc, demoTail{
		notes: []string{"3cx: 7 of the 40 generated calls were internal (extension to extension) and are not sent (THREECX_INCLUDE_INTERNAL=true sends them)"},
		held:  11, reextracts: 11, took: 1301 * time.Millisecond,
	})
	checkColumns(t, out.String())
	golden(t, "demo.golden", out.String())
}

// checkColumns checks that every row of the demo's table that has an
// audio size has it, and its result, at the same display column.
func checkColumns(t *testing.T, out string) {
	t.Helper()
	audio := regexp.MustCompile(`\d+\.\d (KB|MB)  `)
	col := -1
	for _, l := range strings.Split(out, "\n") {
		loc := audio.FindStringIndex(l)
		if loc == nil {
			continue
		}
		// The column of the result: after the size and its padding.
		w := displayWidth(l[:loc[1]])
		if l[loc[1]] == ' ' {
			w += len(l[loc[1]:]) - len(strings.TrimLeft(l[loc[1]:], " "))
		}
		if col == -1 {
			col = w
		}
		if w != col {
			t.Errorf("result at column %d, not %d: %q", w, col, l)
		}
	}
	if col == -1 {
		t.Fatalf("no row with an audio size in:\n%s", out)
	}
}

// TestDisplayWidth: Thai vowels above and below and tone marks take no
// column; wide characters two.
func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{
		"สมชาย ใจดี": 9, "อรอุมา พึ่งบุญ": 10, "ปิยะพงษ์": 6, "วิไลวรรณ ศรีสุข": 12, "Napat": 5, "東京": 4, "": 0,
	} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestDemoExplainsAndAligns: the real demo shows the whole quarantine
// reason, aligns its table by display width (its sample agents have Thai
// names), and says how many of 3CX's calls were internal: exactly the
// difference between what the fake generated and what the source listed.
func TestDemoExplainsAndAligns(t *testing.T) {
	var out, errb bytes.Buffer
	if code := demo(t.Context(), &out, &errb); code != exitOK {
		t.Fatalf("demo exit %d:\n%s\n%s", code, out.String(), errb.String())
	}
	text := out.String()
	checkColumns(t, text)
	if !strings.Contains(text, "สมชาย ใจดี") && !strings.Contains(text, "อรอุมา พึ่งบุญ") {
		t.Errorf("no Thai agent name shown:\n%s", text)
	}
	if !regexp.MustCompile(`quarantined: opening the audio of dtac-\d+: .*: HTTP 404: audio gone at the source\n`).MatchString(text) {
		t.Errorf("the quarantine reason is not shown whole:\n%s", text)
	}
	var listed, internal, generated int
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "3cx ") {
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "3cx")), "%d listed", &listed)
		}
		if strings.HasPrefix(l, "3cx: ") {
			fmt.Sscanf(l, "3cx: %d of the %d generated calls were internal", &internal, &generated)
		}
	}
	if generated != demoPerSource || internal == 0 || listed+internal != generated {
		t.Fatalf("3cx listed %d, note says %d internal of %d generated; want listed + internal = %d:\n%s",
			listed, internal, generated, demoPerSource, text)
	}
}
