package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// wouldSend is the dataIds of the rows of -dry-run's table that say a pass
// would send them.
func wouldSend(stdout string) []string {
	var ids []string
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "send" {
			ids = append(ids, f[2])
		}
	}
	slices.Sort(ids)
	return ids
}

// TestDryRunOnALostStateSaysWhatAPassSends: with the state file lost and
// CRK holding most of what the source lists, -dry-run asks CRK and says
// exactly what the real pass then sends, not everything listed.
func TestDryRunOnALostStateSaysWhatAPassSends(t *testing.T) {
	f := newFakes(t, 10)
	ctx := t.Context()
	if o := runWith(ctx, f.env, "-once"); o.code != exitOK || len(f.crk.Recordings()) != 10 {
		t.Fatalf("-once: %+v; CRK holds %d", o, len(f.crk.Recordings()))
	}
	// The state file is lost; the source has three calls more.
	if err := os.Remove(f.env["SYNCD_STATE_PATH"]); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 3 {
		f.dtac.Add(fakedtac.Recording{ID: int64(3000 + i), Timestamp: now.Add(-time.Hour + time.Duration(i)*time.Minute), Duration: 30,
			LocalParty: "+66898765432", RemoteParty: "0812345678", Direction: "IN", FirstName: "อรอุมา", LastName: "พึ่งบุญ",
			Audio: fakeaudio.Audio{Seed: uint64(i), Size: 5000}})
	}
	held := map[string]bool{}
	for _, r := range f.crk.Recordings() {
		held[r.DataID] = true
	}

	o := runWith(ctx, f.env, "-dry-run")
	if o.code != exitOK {
		t.Fatalf("-dry-run: %+v", o)
	}
	if !strings.Contains(o.stderr, "13 listed, 3 to send; 10 not sent: CRK already holds them") {
		t.Errorf("-dry-run's summary:\n%s", o.stderr)
	}
	predicted := wouldSend(o.stdout)
	if _, err := os.Stat(f.env["SYNCD_STATE_PATH"]); !os.IsNotExist(err) {
		t.Fatalf("-dry-run wrote the state file: %v", err)
	}
	if len(f.crk.Recordings()) != 10 {
		t.Fatal("-dry-run sent something to CRK")
	}

	if o := runWith(ctx, f.env, "-once"); o.code != exitOK {
		t.Fatalf("-once after -dry-run: %+v", o)
	}
	var sent []string
	for _, r := range f.crk.Recordings() {
		if !held[r.DataID] {
			sent = append(sent, r.DataID)
		}
	}
	slices.Sort(sent)
	if !slices.Equal(predicted, sent) || len(sent) != 3 {
		t.Fatalf("-dry-run said a pass would send %q; the pass sent %q", predicted, sent)
	}
	for _, r := range f.crk.Recordings() {
		if r.Creates > 1 || r.Uploads > 1 {
			t.Errorf("%s created %d times, uploaded %d times", r.DataID, r.Creates, r.Uploads)
		}
	}
}

// TestDryRunWhenCRKCannotBeAsked: on a fresh state file with a token CRK
// refuses, -dry-run says that CRK could not be asked, that its count is an
// upper bound and that a real pass would send none of them now; it exits 1.
func TestDryRunWhenCRKCannotBeAsked(t *testing.T) {
	f := newFakes(t, 4)
	o := runWith(t.Context(), f.with("CRK_API_TOKEN", "crk_revoked_key"), "-dry-run")
	if o.code != exitFailed {
		t.Fatalf("exit %d, want 1: %+v", o.code, o)
	}
	for _, want := range []string{"4 listed, at most 4 to send", "CRK could not be asked", "a real pass would send none of them now", "upper bound"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, o.stderr)
		}
	}
	if n := strings.Count(o.stdout, "ask CRK"); n != 4 {
		t.Errorf("%d rows say \"ask CRK\", want 4:\n%s", n, o.stdout)
	}
	if ids := wouldSend(o.stdout); len(ids) != 0 {
		t.Errorf("rows say send %q though CRK was not asked", ids)
	}
	noSecrets(t, o)
	if len(f.crk.Recordings()) != 0 {
		t.Fatal("-dry-run sent something to CRK")
	}
}
