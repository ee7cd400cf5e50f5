package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// reconcile asks CRK about the recordings of p.Check: ones the state file
// does not know and may have forgotten (a source's first pass, which is a
// new install or a lost state file; or recordings older than the prune
// horizon, listed again because SYNCD_LOOKBACK grew). Of those CRK holds:
//   - with proof of processing: recorded done and not sent again;
//   - without audio, where CRK shows audio URLs at all: never uploaded, so
//     never sent for processing by syncd: sent as usual;
//   - otherwise: recorded as "reextract sent, outcome unknown", so that
//     later passes wait for proof, and a person decides if none comes.
//
// Those CRK does not hold are sent as usual. An error leaves p as it was:
// the caller sends none of p.Check.
func (s *Syncer) reconcile(ctx context.Context, p *Plan) error {
	byData := make(map[string]connectors.Recording, len(p.Check))
	var lo, hi time.Time
	for _, r := range p.Todo {
		if !p.Check[r.ID] {
			continue
		}
		byData[r.DataID] = r
		if lo.IsZero() || r.CallAt.Before(lo) {
			lo = r.CallAt
		}
		if r.CallAt.After(hi) {
			hi = r.CallAt
		}
	}
	held := map[string]sink.Remote{}
	showsAudio := false
	const limit = 200
	// CRK's date filter is undocumented as to its bounds: a second of
	// margin on each side.
	q := sink.Query{From: lo.Add(-time.Second), To: hi.Add(time.Second), Limit: limit}
	for {
		page, err := s.sink.List(ctx, q)
		if err != nil {
			return fmt.Errorf("listing CRK's recordings from %s to %s: %w", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), err)
		}
		s.moved(p.Source)
		for _, it := range page.Items {
			showsAudio = showsAudio || it.AudioURL != ""
			if _, ok := byData[it.DataID]; ok {
				held[it.DataID] = it
			}
		}
		q.Offset += len(page.Items)
		if len(page.Items) < limit || (page.Total > 0 && q.Offset >= page.Total) {
			break
		}
	}
	var recs []state.Record
	settled := map[string]bool{}
	for dataID, it := range held {
		r := byData[dataID]
		rec := state.Record{ID: r.ID, DataID: r.DataID, CRKID: string(it.ID), CallAt: r.CallAt}
		switch {
		case s.vocab.proves(&it):
			rec.Step = state.Done
		case showsAudio && it.AudioURL == "":
			continue // created, never uploaded: send it as usual
		default:
			rec.Step = state.ReextractSent
			rec.LastError = fmt.Sprintf("CRK already holds %s (processingStatus %q) and the state file has no record of it: waiting for proof that AI processing was asked for", dataID, it.ProcessingStatus)
		}
		recs = append(recs, rec)
		settled[r.ID] = true
	}
	for id := range p.Check {
		if !settled[id] {
			delete(p.Check, id) // CRK does not hold it, or holds it without audio
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.store.PutMany(context.WithoutCancel(ctx), p.Source, recs); err != nil {
		return &stateError{fmt.Errorf("recording what CRK already holds: %w", err)}
	}
	kept := p.Todo[:0]
	for _, r := range p.Todo {
		if !settled[r.ID] {
			kept = append(kept, r)
		}
	}
	p.Todo = kept
	done := 0
	for _, r := range recs {
		p.known[r.ID] = r
		if r.Step == state.Done {
			done++
		}
	}
	s.log.Info("CRK already holds recordings the state file does not know: not sending them again", "source", p.Source,
		"processed", done, "awaitingProof", len(recs)-done)
	return nil
}
