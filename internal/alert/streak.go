package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// maxStreakError bounds the error a Streak keeps, in runes.
const maxStreakError = 1000

// Streak is a source's run of failed passes: the one count of failed
// passes in a row, kept in the state file, that /healthz reports and the
// alerter's rule for a source that is down reads.
type Streak struct {
	Source string
	// Failures is how many passes of the source failed in a row; 0 after
	// a pass that succeeded.
	Failures int
	// Since is when the first of those failures was seen, LastFailure the
	// latest, LastError what it said (the pass's error as returned, cut
	// at 1000 characters); all zero after a pass that succeeded.
	Since, LastFailure time.Time
	LastError          string
	// LastSuccess is when a pass of the source last succeeded; zero
	// before the first.
	LastSuccess time.Time
}

// Streaks keeps the sources' streaks in the state file, with or without
// alerting. Store is required; Now nil means time.Now.
type Streaks struct {
	Store *state.Store
	Now   func() time.Time
}

// Record counts one round of passes: a pass that failed adds one to its
// source's failures, one that succeeded ends them, and one stopped by
// syncd stopping (context.Canceled) counts for nothing. It returns the
// streaks of results' sources, in their order. The state file is written
// even when ctx has ended (the daemon stopping). An Alerter reads the
// streaks in its AfterPass: call Record first.
//
// A source that has no streak yet but an open incident written by an
// earlier syncd, which counted in the incident, starts from the incident's
// count.
func (s Streaks) Record(ctx context.Context, results []syncer.Result) ([]Streak, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	at := now()
	out := make([]Streak, 0, len(results))
	err := updateAlerts(context.WithoutCancel(ctx), s.Store, func(tx alertTx) error {
		out = out[:0]
		for _, r := range results {
			if r.Source == "" {
				continue
			}
			st, err := tx.streakOrIncident(r.Source)
			if err != nil {
				return err
			}
			if next := st.after(r.Err, at); next != st {
				if err := tx.PutStreak(next); err != nil {
					return err
				}
				st = next
			}
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording the passes: %w", err)
	}
	return out, nil
}

// All returns every source's streak, sorted by source.
func (s Streaks) All(ctx context.Context) ([]Streak, error) {
	var out []Streak
	err := viewAlerts(ctx, s.Store, func(tx alertTx) error {
		var err error
		out, err = tx.Streaks()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the passes: %w", err)
	}
	return out, nil
}

// after is st after a pass that ended with err at time at.
func (st Streak) after(err error, at time.Time) Streak {
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		if st.Failures == 0 {
			st.Since = at
		}
		st.Failures++
		st.LastFailure, st.LastError = at, clip(err.Error(), maxStreakError)
	default:
		st = Streak{Source: st.Source, LastSuccess: at}
	}
	return st
}

// streakOrIncident is source's streak; without one, the count of its
// open incident (as an earlier syncd kept it), if any.
func (t alertTx) streakOrIncident(source string) (Streak, error) {
	st, ok, err := t.Streak(source)
	if ok || err != nil {
		return st, err
	}
	inc, ok, err := t.Incident(source)
	if !ok || err != nil || inc.Successes > 0 {
		return st, err
	}
	st.Failures, st.Since, st.LastFailure, st.LastError = inc.Failures, inc.Since, inc.LastFailure, inc.LastError
	return st, nil
}
