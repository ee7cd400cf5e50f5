package syncer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// vocabulary is what syncd has learned of CRK's processingStatus words,
// which the API leaves undocumented but for "completed". A recording
// counts as processed only on evidence:
//   - "completed", a transcript or a summary (sink.Remote.Completed);
//   - or a status CRK itself answered to one of syncd's successful
//     reextracts, provided syncd has seen what CRK shows before processing
//     is asked for and it is not that same word. In a vocabulary where
//     "pending" means both "waiting for audio" and "waiting for the AI",
//     "pending" proves nothing.
//
// The converse, that processing was surely not asked for, holds when CRK
// shows a word it shows before processing is asked for, which differs
// from every word it answered to a reextract, once syncd has seen both.
//
// It is kept in the state file, so that a restart does not forget it.
type vocabulary struct {
	mu     sync.Mutex
	loaded bool
	v      state.Vocabulary
	dirty  bool
}

// reprobe is how long a learned "before" word is trusted before syncd
// looks again (CRK may be upgraded).
const reprobe = 24 * time.Hour

func (vc *vocabulary) load(ctx context.Context, store *state.Store) error {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.loaded {
		return nil
	}
	v, err := store.Vocabulary(ctx)
	if err != nil {
		return err
	}
	vc.v, vc.loaded = v, true
	return nil
}

// proves reports whether r shows that AI processing was asked for.
func (vc *vocabulary) proves(r *sink.Remote) bool {
	if r.Completed() {
		return true
	}
	st := r.Status()
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return st != "" && !vc.v.Probed.IsZero() && slices.Contains(vc.v.After, st) && !slices.Contains(vc.v.Before, st)
}

// disproves reports whether r shows that AI processing was not asked for.
func (vc *vocabulary) disproves(r *sink.Remote) bool {
	if r.Completed() {
		return false
	}
	st := r.Status()
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return !vc.v.Probed.IsZero() && len(vc.v.After) > 0 && slices.Contains(vc.v.Before, st) && !slices.Contains(vc.v.After, st)
}

// needsProbe reports whether syncd should look at a recording's status
// before asking for its processing, to learn the "before" word.
func (vc *vocabulary) needsProbe(now time.Time) bool {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return vc.v.Probed.IsZero() || now.Sub(vc.v.Probed) > reprobe || now.Before(vc.v.Probed)
}

// learnBefore notes a status CRK showed for a recording syncd had not yet
// asked to process. "completed" is never such a word.
func (vc *vocabulary) learnBefore(st string, now time.Time) {
	if st == "completed" {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if !slices.Contains(vc.v.Before, st) {
		vc.v.Before = append(vc.v.Before, st)
	}
	vc.v.Probed = now
	vc.dirty = true
}

// learnAfter notes the status CRK answered to a successful reextract.
func (vc *vocabulary) learnAfter(st string) {
	if st == "" {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if !slices.Contains(vc.v.After, st) {
		vc.v.After = append(vc.v.After, st)
		vc.dirty = true
	}
}

// save writes what was learned since the last save.
func (vc *vocabulary) save(ctx context.Context, store *state.Store) error {
	vc.mu.Lock()
	if !vc.dirty {
		vc.mu.Unlock()
		return nil
	}
	v := state.Vocabulary{Before: slices.Clone(vc.v.Before), After: slices.Clone(vc.v.After), Probed: vc.v.Probed}
	vc.dirty = false
	vc.mu.Unlock()
	return store.SetVocabulary(ctx, v)
}
