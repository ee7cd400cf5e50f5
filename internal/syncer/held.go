package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// Held asks CRK which recordings of p.Check it already holds, and returns
// the record a pass keeps for each one it will not send: Step Done where
// CRK shows proof of AI processing, ReextractSent (with the reason in
// LastError) where it holds the recording without that proof. Those CRK
// does not hold, or holds without audio where it shows audio URLs at all
// (created, never uploaded), are not among them: a pass sends them as
// usual.
//
// It writes nothing and leaves p as it is: a pass records its answer
// (reconcile), -dry-run prints it.
func (s *Syncer) Held(ctx context.Context, p *Plan) ([]state.Record, error) {
	if len(p.Check) == 0 {
		return nil, nil
	}
	if err := s.vocab.load(ctx, s.store); err != nil {
		return nil, &stateError{err}
	}
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
			return nil, fmt.Errorf("listing CRK's recordings from %s to %s: %w", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), err)
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
	}
	return recs, nil
}
