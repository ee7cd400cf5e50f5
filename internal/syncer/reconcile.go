package syncer

import (
	"context"
	"fmt"
	"time"

	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// reconcile runs on a source's first pass, when the state file knows
// nothing of its window: a new install, or a state file that was lost and
// started afresh. It asks CRK which recordings of the window it already
// holds with AI processing begun, records those as done, and drops them
// from the plan, so that a lost state file never pays for them twice.
func (s *Syncer) reconcile(ctx context.Context, p *Plan) error {
	todo := make(map[string]int, len(p.Todo)) // dataId → index in p.Todo
	for i, r := range p.Todo {
		todo[r.DataID] = i
	}
	const limit = 200
	var done []state.Record
	for offset := 0; ; {
		page, err := s.sink.List(ctx, sink.Query{From: p.From, To: p.To, Limit: limit, Offset: offset})
		if err != nil {
			return fmt.Errorf("listing CRK's recordings from %s to %s: %w", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), err)
		}
		for _, it := range page.Items {
			i, ok := todo[it.DataID]
			if !ok || it.Processing() != sink.Started {
				continue
			}
			r := p.Todo[i]
			done = append(done, state.Record{ID: r.ID, DataID: r.DataID, CRKID: string(it.ID), CallAt: r.CallAt, Step: state.Done})
			delete(todo, it.DataID)
		}
		offset += len(page.Items)
		if len(page.Items) < limit || (page.Total > 0 && offset >= page.Total) {
			break
		}
	}
	if len(done) == 0 {
		return nil
	}
	if err := s.store.PutMany(context.WithoutCancel(ctx), p.Source, done); err != nil {
		return &stateError{fmt.Errorf("recording what CRK already holds: %w", err)}
	}
	kept := p.Todo[:0]
	for _, r := range p.Todo {
		if _, ok := todo[r.DataID]; ok {
			kept = append(kept, r)
		}
	}
	p.Todo = kept
	for _, r := range done {
		p.known[r.ID] = r
	}
	s.log.Info("CRK already holds recordings of the first window: not sending them again", "source", p.Source, "count", len(done))
	return nil
}
