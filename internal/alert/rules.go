package alert

import (
	"context"
	"errors"
	"time"

	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// maxQueuedQuarantine bounds the quarantine warnings waiting for delivery
// (one per pass while the gateway is down); the oldest go first.
const maxQueuedQuarantine = 20

// tokenFailure reports whether err is CRK refusing the token itself.
func tokenFailure(err error) bool {
	return errors.Is(err, sink.ErrTokenDisabled) || errors.Is(err, sink.ErrInvalidToken) || errors.Is(err, sink.ErrInsufficientScope)
}

// apply turns one round of passes into incident changes and queued
// messages, in one transaction:
//   - a source whose pass failed counts one more failure, and its alert is
//     raised at the After-th in a row;
//   - a source whose pass succeeded closes its incident, with a recovery
//     message when its alert was delivered (and its alert dropped when it
//     was not yet);
//   - a pass failing on the CRK token counts for the token, not the
//     source, and raises the token's alert at once; the token's incident
//     closes when a pass synced recordings without a token failure;
//   - a pass stopped by the daemon stopping (context.Canceled) counts for
//     nothing;
//   - the recordings the round quarantined make one warning.
func (a *Alerter) apply(tx *state.AlertTx, now time.Time, results []syncer.Result, errs []error) error {
	var tokenErr error
	synced := false
	for i, r := range results {
		if r.Source == "" {
			continue
		}
		var err error
		if i < len(errs) {
			err = errs[i]
		}
		switch {
		case err == nil:
			synced = synced || r.Synced > 0
			if e := a.resolve(tx, r.Source, now); e != nil {
				return e
			}
		case errors.Is(err, context.Canceled):
		case tokenFailure(err):
			if tokenErr == nil {
				tokenErr = err
			}
		default:
			if e := a.fail(tx, r.Source, now, err, a.cfg.After); e != nil {
				return e
			}
		}
	}
	switch {
	case tokenErr != nil:
		if err := a.fail(tx, TokenKey, now, tokenErr, 1); err != nil {
			return err
		}
	case synced:
		if err := a.resolve(tx, TokenKey, now); err != nil {
			return err
		}
	}
	return a.quarantined(tx, results)
}

// fail counts a failure of key's incident, opening it if need be, and
// raises its alert at the threshold-th failure in a row.
func (a *Alerter) fail(tx *state.AlertTx, key string, now time.Time, err error, threshold int) error {
	inc, ok, e := tx.Incident(key)
	if e != nil {
		return e
	}
	if !ok || inc.Failures == 0 {
		inc = state.Incident{Key: key, Since: now}
	}
	inc.Failures++
	inc.LastFailure = now
	inc.LastError = a.plainError(err)
	if inc.Failures >= threshold && !inc.Raised() {
		d := a.alertFor(inc)
		if e := tx.Enqueue(&d); e != nil {
			return e
		}
		inc.AlertID = d.ID
		a.log.Warn("alert raised", "incident", key, "kind", d.Kind, "failures", inc.Failures, "since", inc.Since)
	}
	return tx.PutIncident(inc)
}

// resolve closes key's incident, if one is open.
func (a *Alerter) resolve(tx *state.AlertTx, key string, now time.Time) error {
	inc, ok, err := tx.Incident(key)
	if err != nil || !ok {
		return err
	}
	if inc.AlertID != 0 {
		if err := tx.DeleteDelivery(inc.AlertID); err != nil {
			return err
		}
		a.log.Info("incident over before its alert was delivered: the alert is dropped", "incident", key)
	}
	if !inc.Alerted.IsZero() {
		d := a.recoveryFor(inc, now)
		if err := tx.Enqueue(&d); err != nil {
			return err
		}
		a.log.Info("incident over: recovery message queued", "incident", key, "failures", inc.Failures, "since", inc.Since)
	}
	return tx.DeleteIncident(key)
}

// quarantined queues one warning for the recordings results quarantined,
// keeping at most maxQueuedQuarantine of them waiting.
func (a *Alerter) quarantined(tx *state.AlertTx, results []syncer.Result) error {
	var items []quarantinedItem
	for _, r := range results {
		for _, it := range r.Items {
			if it.Quarantined != "" {
				items = append(items, quarantinedItem{source: r.Source, dataID: it.Recording.DataID, reason: it.Quarantined})
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	queue, err := tx.Deliveries()
	if err != nil {
		return err
	}
	var waiting []uint64
	for _, d := range queue {
		if d.Kind == KindQuarantine {
			waiting = append(waiting, d.ID)
		}
	}
	for len(waiting) >= maxQueuedQuarantine {
		if err := tx.DeleteDelivery(waiting[0]); err != nil {
			return err
		}
		a.log.Warn("too many quarantine warnings waiting for delivery: the oldest is dropped")
		waiting = waiting[1:]
	}
	d := a.quarantineFor(items)
	return tx.Enqueue(&d)
}
