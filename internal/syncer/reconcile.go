package syncer

import (
	"context"
	"fmt"

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
	recs, err := s.Held(ctx, p)
	if err != nil {
		return err
	}
	settled := make(map[string]bool, len(recs))
	for _, r := range recs {
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
