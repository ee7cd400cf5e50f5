package simulation

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// The invariants. I0 is the world's own: the state file opens after every
// crash, and no pass hangs.
const (
	// I1 (at the end): every call syncd is responsible for is at CRK with
	// its exact audio and a re-extraction, or quarantined with a reason.
	I1 = "I1"
	// I2 (always): CRK re-extracted a dataId at most once, plus once for
	// each operator retry that released it from quarantine.
	I2 = "I2"
	// I3 (after each pass that returned): the cursor is never ahead of
	// syncd's clock, and every responsible call visible when the pass
	// listed whose call ended before the cursor is done at CRK or
	// quarantined.
	I3 = "I3"
	// I4: no secret in a log line, an error, or the state file.
	I4 = "I4"
	// I5: the state file stays bounded.
	I5 = "I5"
)

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	Kind      string    // a short name of how it broke, to count alike ones
	DataID    string    // "" when it is about no one recording
	At        time.Time // syncd's clock
	What      string
	Trace     []string // the recording's history and the world's around it
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", v.Invariant)
	if v.DataID != "" {
		fmt.Fprintf(&b, " %s", v.DataID)
	}
	fmt.Fprintf(&b, " at %s: %s", ts(v.At), v.What)
	for _, l := range v.Trace {
		fmt.Fprintf(&b, "\n    %s", l)
	}
	return b.String()
}

// maxViolations bounds what a report keeps of each invariant; the count
// goes on.
const maxViolations = 10

// violate records a broken invariant once per invariant and recording.
func (w *World) violate(inv, kind, dataID, what string) {
	if dataID != "" && w.releases[dataID] > 0 && inv != I2 {
		kind += ", after an operator retry"
	}
	key := inv + "|" + dataID
	if dataID == "" {
		key += "|" + what[:min(len(what), 50)]
	}
	w.mu.Lock()
	if w.flagged[key] {
		w.mu.Unlock()
		return
	}
	w.flagged[key] = true
	w.stats.Violations++
	w.byInv[inv]++
	w.byKind[inv+": "+kind]++
	keep := w.byInv[inv] <= maxViolations
	w.mu.Unlock()
	if !keep {
		return
	}
	v := Violation{Invariant: inv, Kind: kind, DataID: dataID, At: w.clk.Now(), What: what}
	if dataID != "" {
		v.Trace = w.traceFor(dataID)
	}
	w.mu.Lock()
	w.viol = append(w.viol, v)
	w.mu.Unlock()
	if w.opts.Logf != nil {
		w.opts.Logf("seed %d: %s %s: %s", w.opts.Seed, inv, dataID, what)
	}
}

// isFlagged reports whether inv was already found broken for dataID.
func (w *World) isFlagged(inv, dataID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flagged[inv+"|"+dataID]
}

// traceFor is the short history shown with a violation about dataID.
func (w *World) traceFor(dataID string) []string {
	c := w.src.byID[strings.TrimPrefix(dataID, "sim-")]
	from := w.t0
	var out []string
	if c != nil {
		out = w.describeCall(c)
		from = c.start.Add(-time.Hour)
	}
	out = append(out, w.history(dataID, from)...)
	if w.store != nil && c != nil {
		out = append(out, w.stateNow(c)...)
	}
	if got, ok := w.crk.Recording(business, dataID); ok {
		out = append(out, fmt.Sprintf("CRK now: creates %d, uploads %d, audio %v (%d bytes), reextracts %d, status %q",
			got.Creates, got.Uploads, got.HasAudio, got.AudioSize, got.Reextracts, got.ProcessingStatus))
	} else {
		out = append(out, "CRK now: no such dataId")
	}
	return out
}

// describeCall is what the source did with c, and, when no pass that ran
// to its end listed it, the first passes after it became visible.
func (w *World) describeCall(c *call) []string {
	size := "declared"
	if !c.sized {
		size = "undeclared"
	}
	line := fmt.Sprintf("call: starts %s, lasts %s, ends %s, visible from %s, audio ready %s, %d bytes (%s size)",
		ts(c.start), c.dur, ts(c.end()), ts(c.visible), ts(c.ready), c.audio.Size, size)
	if !c.gone.IsZero() {
		line += ", audio gone from " + ts(c.gone)
	}
	if !c.vanish.IsZero() {
		line += ", deleted at the source " + ts(c.vanish)
	}
	if c.invalid != "" {
		line += ", invalid: " + c.invalid
	}
	if c.dup {
		line += ", listed twice"
	}
	if c.excluded != "" {
		line += "; not syncd's responsibility: " + c.excluded
	}
	out := []string{line}
	if c.listedGood {
		return out
	}
	out = append(out, "no pass that ran to its end listed it; the first passes after it became visible:")
	n := 0
	for _, p := range w.passes {
		if p.at.Before(c.visible) {
			continue
		}
		out = append(out, fmt.Sprintf("  pass %d at %s: window %s – %s, cursor after %s", p.n, ts(p.at), ts(p.from), ts(p.to), ts(p.cursor)))
		if n++; n == 4 {
			break
		}
	}
	return out
}

// history is the recording's own trace and the world's major events since
// from (the last 14).
func (w *World) history(dataID string, from time.Time) []string {
	w.mu.Lock()
	own := slices.Clone(w.traces[dataID])
	var evs []string
	for _, e := range w.events {
		if e.major && !e.at.Before(from) {
			evs = append(evs, ts(e.at)+" "+e.text)
		}
	}
	w.mu.Unlock()
	out := []string{"its history:"}
	for _, l := range own {
		out = append(out, "  "+l)
	}
	if len(evs) > 0 {
		out = append(out, "the world meanwhile:")
		if len(evs) > 14 {
			out = append(out, fmt.Sprintf("  … %d earlier events …", len(evs)-14))
			evs = evs[len(evs)-14:]
		}
		for _, l := range evs {
			out = append(out, "  "+l)
		}
	}
	return out
}

// stateNow is what the state file holds of c now.
func (w *World) stateNow(c *call) []string {
	r, ok, err := w.store.Get(context.Background(), sourceName, c.id)
	switch {
	case err != nil:
		return nil
	case !ok:
		return []string{"state now: no record"}
	}
	out := []string{"state now: " + describeRecord(r)}
	if pend, err := w.store.Pending(context.Background(), sourceName); err == nil && len(pend) > 0 && r.Step != state.Done && r.Quarantined == "" {
		out = append(out, fmt.Sprintf("the state file's oldest pending record: %s, call at %s (%d pending)", pend[0].DataID, ts(pend[0].CallAt), len(pend)))
	}
	return out
}

func describeRecord(r state.Record) string {
	s := fmt.Sprintf("step %s, attempts %d", r.Step, r.Attempts)
	if r.Quarantined != "" {
		s += fmt.Sprintf(", quarantined: %q", r.Quarantined)
	}
	if r.LastError != "" {
		s += fmt.Sprintf(", last error %q", r.LastError)
	}
	return s
}

// delivered reports whether CRK holds c with its exact audio and at least
// one re-extraction; once true it stays true.
func (w *World) delivered(c *call) bool {
	if c.delivered {
		return true
	}
	got, ok := w.crk.Recording(business, c.dataID)
	if !ok || !got.HasAudio || got.AudioSize != c.audio.Size || got.Reextracts < 1 || got.AudioSHA256 != c.audioSum() {
		return false
	}
	c.delivered = true
	return true
}

// checkErrors: no secret in what a pass returned (I4).
func (w *World) checkErrors(err error, res syncer.Result) {
	var texts []string
	if err != nil {
		texts = append(texts, err.Error())
	}
	for _, it := range res.Items {
		if it.Err != nil {
			texts = append(texts, it.Err.Error())
		}
		texts = append(texts, it.Quarantined)
	}
	for _, t := range texts {
		for _, s := range w.logs.secrets {
			if strings.Contains(t, s) {
				w.violate(I4, "secret in an error", "", "a secret is in an error: "+redact(t, w.logs.secrets))
			}
		}
	}
}

// checkReextracts: I2 for the dataIds re-extracted lately.
func (w *World) checkReextracts(dataIDs []string) {
	for _, d := range dataIDs {
		got, ok := w.crk.Recording(business, d)
		if !ok {
			continue
		}
		if allowed := 1 + w.releases[d]; got.Reextracts > allowed {
			kind := "re-extracted again"
			switch {
			case w.sinceRetry || (!w.retryAt.IsZero() && w.clk.Now().Sub(w.retryAt) < 6*time.Hour):
				kind += ", within hours of an operator retry (of others)"
			case !w.lossAt.IsZero() && w.clk.Now().Sub(w.lossAt) < 48*time.Hour:
				kind += ", within two days of a lost state file"
			}
			w.violate(I2, kind, d, fmt.Sprintf("CRK re-extracted it %d times; allowed %d (1 + %d operator retries)", got.Reextracts, allowed, w.releases[d]))
		}
	}
}

// checkAllReextracts: I2 for every recording at CRK.
func (w *World) checkAllReextracts() {
	var ids []string
	for _, r := range w.crk.Recordings() {
		if r.BusinessID == business {
			ids = append(ids, r.DataID)
		}
	}
	w.checkReextracts(ids)
}

// checkCursor: I3 after a pass that returned.
func (w *World) checkCursor(cursor time.Time) {
	if cursor.After(w.hiNow) {
		w.violate(I3, "cursor ahead of the clock", "", fmt.Sprintf("the cursor %s is ahead of the latest time syncd's clock showed (%s)", ts(cursor), ts(w.hiNow)))
	}
	listAt := w.src.lastListed()
	var cands []*call
	keep := w.unsettled[:0]
	i := 0
	for ; i < len(w.unsettled); i++ {
		c := w.unsettled[i]
		if !c.end().Before(cursor) {
			break
		}
		if c.excluded != "" || w.delivered(c) {
			continue
		}
		keep = append(keep, c)
		// Already found quarantined, already reported, or released by a
		// person after the cursor passed it (then the pending index
		// answers for it, not the cursor; I1 at the end for its outcome).
		if c.visibleAt(listAt) && !c.quarSeen && w.releases[c.dataID] == 0 && !w.isFlagged(I3, c.dataID) {
			cands = append(cands, c)
		}
	}
	w.unsettled = append(keep, w.unsettled[i:]...)
	if len(cands) == 0 {
		return
	}
	ids := make([]string, len(cands))
	for j, c := range cands {
		ids[j] = c.id
	}
	recs, err := w.store.GetMany(context.Background(), sourceName, ids)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("reading the state file: %v", err))
		return
	}
	for _, c := range cands {
		r, ok := recs[c.id]
		if ok && r.Quarantined != "" {
			c.quarSeen = true // until an operator's retry or a lost state file
			continue
		}
		state, kind := "the state file has no record of it", "behind the cursor, unknown to the state file"
		switch {
		case ok && r.Step == stateDone:
			state, kind = "state: "+describeRecord(r), "behind the cursor, silently done"
			c.seenDone = true
		case ok:
			state, kind = "state: "+describeRecord(r), "behind the cursor, pending"
		}
		w.violate(I3, kind, c.dataID, fmt.Sprintf("the call ended %s, before the cursor %s, and was visible when the pass listed, yet is neither done at CRK nor quarantined (%s)",
			ts(c.end()), ts(cursor), state))
	}
}

const stateDone = state.Done

// I0 is the world's own invariant: the state file opens and reads after
// every crash, and no pass hangs.
const I0 = "I0"

// maxStateFile bounds the state file's size for the volumes simulated.
const maxStateFile = 8 << 20

// checkBounded: I5, after a pass whose listing began at from (zero: unknown).
func (w *World) checkBounded(cursor time.Time, ok bool, from time.Time) {
	fi, err := os.Stat(w.path)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("the state file: %v", err))
		return
	}
	if fi.Size() > maxStateFile {
		w.violate(I5, "file too large", "", fmt.Sprintf("the state file is %d bytes, more than %d", fi.Size(), maxStateFile))
	}
	ctx := context.Background()
	sum, err := w.store.Summary(ctx, sourceName)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("reading the state summary: %v", err))
		return
	}
	margin := w.cfg.PruneMargin
	if margin <= 0 {
		margin = 24 * time.Hour
	}
	span := w.cfg.Backfill + 2*w.maxLook + w.prof.maxCall + margin + max(w.prof.settles[0], w.prof.settles[1]) + 6*time.Hour
	horizon := w.clk.Now().Add(-w.cfg.Backfill)
	if ok {
		horizon = cursor
	}
	// What a pass keeps is reckoned from where its listing began, which a
	// pending recording may have pulled back.
	if !from.IsZero() && from.Before(horizon) {
		horizon = from
	}
	const slack = 50
	undated := 0 // pending records without a call time: not in any window
	bound := func() int { return w.src.startedSince(horizon.Add(-span)) + undated + slack }
	if sum.Done+sum.Pending <= bound() {
		return
	}
	// A pending recording pulls the window, and what is kept, back to it.
	pend, err := w.store.Pending(ctx, sourceName)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("reading the pending records: %v", err))
		return
	}
	for _, r := range pend {
		switch {
		case r.CallAt.IsZero():
			undated++
		case r.CallAt.Before(horizon):
			horizon = r.CallAt
		}
	}
	if n := sum.Done + sum.Pending; n > bound() {
		w.violate(I5, "too many records", "", fmt.Sprintf("the state file holds %d done and %d pending records; the calls of the window it should keep (since %s) number %d, plus %d undated",
			sum.Done, sum.Pending, ts(horizon.Add(-span)), bound()-undated-slack, undated))
	}
}

// checkAll: I1 at the end of the run.
func (w *World) checkAll() {
	promised := w.promised()
	ids := make([]string, 0, len(promised))
	for _, c := range promised {
		ids = append(ids, c.id)
	}
	recs, err := w.store.GetMany(context.Background(), sourceName, ids)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("reading the state file: %v", err))
		return
	}
	for _, c := range promised {
		r, inState := recs[c.id]
		quarantined := inState && r.Quarantined != ""
		got, atCRK := w.crk.Recording(business, c.dataID)
		switch {
		case c.invalid != "":
			w.checkInvalid(c, r, inState, atCRK)
		case w.delivered(c):
			w.stats.Delivered++
			w.checkMetadata(c, got)
		case quarantined:
			w.stats.Quarantined++
		default:
			w.reportLost(c, r, inState, got, atCRK)
		}
	}
}

// promised are the calls the promise covers: every call of the source
// except those excluded, and those deleted at the source before syncd
// could list them.
func (w *World) promised() []*call {
	var out []*call
	for _, c := range w.src.calls {
		if c.excluded != "" {
			continue
		}
		if !c.vanish.IsZero() && !c.listedGood {
			continue // deleted at the source before syncd could list it
		}
		out = append(out, c)
	}
	return out
}

// checkInvalid: a row the source describes badly is quarantined, never
// sent.
func (w *World) checkInvalid(c *call, r state.Record, inState, atCRK bool) {
	if atCRK {
		w.violate(I1, "invalid row sent", c.dataID, "an invalid row reached CRK")
	}
	switch {
	case r.Quarantined == "" && !inState && !c.listedGood:
		w.violate(I1, "never listed by syncd", c.dataID, "an invalid row, never listed by a pass that ran to its end: "+stateOf(r, inState))
	case r.Quarantined == "":
		w.violate(I1, "invalid row not quarantined", c.dataID, "an invalid row is not quarantined: "+stateOf(r, inState))
	default:
		w.stats.Quarantined++
	}
}

// checkMetadata: a delivered call carries its start and direction.
func (w *World) checkMetadata(c *call, got fakecrk.Recording) {
	at, err := time.Parse(time.RFC3339, got.CallAt)
	if err != nil || !at.Equal(c.start) || got.Direction != c.direction {
		w.violate(I1, "wrong metadata", c.dataID, fmt.Sprintf("at CRK with callAt %q and direction %q; the call began %s, direction %q",
			got.CallAt, got.Direction, c.start.In(bangkok).Format(time.RFC3339), c.direction))
	}
}

// reportLost reports a call neither delivered nor quarantined, saying what the
// state file and CRK show of it.
func (w *World) reportLost(c *call, r state.Record, inState bool, got fakecrk.Recording, atCRK bool) {
	crkSays := "CRK has no such dataId"
	if atCRK {
		crkSays = fmt.Sprintf("CRK has audio %v (%d bytes, exact %v), %d re-extractions",
			got.HasAudio, got.AudioSize, got.AudioSHA256 == c.audioSum(), got.Reextracts)
	}
	what := "neither delivered nor quarantined, unknown to the state file"
	switch {
	case inState && r.Step == state.Done:
		what = "silently done"
	case inState:
		what = "silently pending"
	case c.seenDone || atCRK:
		// Only a done record is pruned: CRK has it, the state file
		// forgot it.
		what = "silently done"
	case !c.listedGood:
		what = "never listed by syncd"
	}
	st := stateOf(r, inState)
	switch {
	case !inState && c.seenDone:
		st = "the state file said done, and has pruned the record since"
	case !inState && atCRK:
		st = "no record in the state file (pruned as done, or the file was lost)"
	}
	w.violate(I1, what, c.dataID, fmt.Sprintf("%s; %s; %s", what, st, crkSays))
}

func stateOf(r state.Record, ok bool) string {
	if !ok {
		return "no record in the state file"
	}
	return "state: " + describeRecord(r)
}

// checkStateSecrets: I4 over the state file's records.
func (w *World) checkStateSecrets() {
	ctx := context.Background()
	ids := make([]string, 0, len(w.src.calls))
	for _, c := range w.src.calls {
		ids = append(ids, c.id)
	}
	recs, err := w.store.GetMany(ctx, sourceName, ids)
	if err != nil {
		w.violate(I0, "state file unreadable", "", fmt.Sprintf("reading the state file: %v", err))
		return
	}
	for _, id := range ids {
		r, ok := recs[id]
		if !ok {
			continue
		}
		for _, s := range w.logs.secrets {
			if strings.Contains(r.LastError, s) || strings.Contains(r.Quarantined, s) {
				w.violate(I4, "secret in the state file", r.DataID, "a secret is in the state file's record: "+redact(describeRecord(r), w.logs.secrets))
			}
		}
	}
}
