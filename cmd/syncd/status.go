package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/crkai/syncd/internal/phone"
	"github.com/crkai/syncd/internal/state"
)

// sourceState is what the state file says of one source: its counts, its
// log-in backoff and its quarantined recordings. `syncd -status`, /status
// and the status page all show it.
type sourceState struct {
	state.Summary
	Backoff     state.LoginBackoff
	Quarantined []state.Record // oldest call first
}

// readState reads every source the state file knows, sorted by name.
func readState(ctx context.Context, store *state.Store) ([]sourceState, error) {
	names, err := store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sourceState, 0, len(names))
	for _, src := range names {
		var s sourceState
		if s.Summary, err = store.Summary(ctx, src); err != nil {
			return nil, err
		}
		if s.Backoff, err = store.LoginBackoff(ctx, src); err != nil {
			return nil, err
		}
		if s.Quarantined, err = store.Quarantined(ctx, src); err != nil {
			return nil, err
		}
		for i := range s.Quarantined {
			s.Quarantined[i].Quarantined = phone.MaskText(oneLine(s.Quarantined[i].Quarantined))
		}
		s.Backoff.LastError = phone.MaskText(oneLine(s.Backoff.LastError))
		out = append(out, s)
	}
	return out, nil
}

// printStatus writes what the state file says, as text: `syncd -status`
// and the daemon's /status.
func printStatus(ctx context.Context, store *state.Store, loc *time.Location, w io.Writer) error {
	sources, err := readState(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "state file %s\n", store.Path())
	if len(sources) == 0 {
		fmt.Fprintln(w, "no source has run yet")
	}
	when := func(t time.Time) string { return formatWhen(t, loc) }
	for _, s := range sources {
		fmt.Fprintf(w, "\nsource %s\n  cursor        %s\n  last success  %s\n  done %d, pending %d, quarantined %d\n",
			s.Source, when(s.Cursor), when(s.LastSuccess), s.Done, s.Pending, s.Summary.Quarantined)
		if lb := s.Backoff; lb.Refusals > 0 {
			fmt.Fprintf(w, "  log-in refused %d times in a row; next try after %s (fix the credentials: a changed configuration is tried at once)\n  last refusal: %s\n",
				lb.Refusals, when(lb.Until), lb.LastError)
		}
		if len(s.Quarantined) > 0 {
			fmt.Fprintln(w, "  quarantined recordings (syncd -retry-quarantined sends them again):")
			tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
			for _, r := range s.Quarantined {
				fmt.Fprintf(tw, "    %s\t%s\tstep %s\t%s\n", r.DataID, when(r.CallAt), r.Step, r.Quarantined)
			}
			tw.Flush()
		}
	}
	return nil
}

// formatWhen is t in loc as RFC 3339, or "never" for the zero time.
func formatWhen(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format(time.RFC3339)
}
