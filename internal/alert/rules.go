package alert

import (
	"context"
	"errors"
	"time"

	"github.com/crkai/syncd/internal/sink"
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
// messages, in one transaction, reading the sources' streaks (which
// Streaks.Record has counted for the round):
//   - a source whose pass failed opens its incident, and its alert is
//     raised once its streak reaches After failed passes in a row;
//   - a source whose alert was delivered ends its incident, with a
//     recovery message, once recoverAfter passes in a row succeeded; one
//     whose alert was not delivered yet ends it (dropping the alert) at its
//     first successful pass;
//   - a source that fails and works by turns flaps (see flap): one
//     "flapping" message then speaks for it until it is steady, and its own
//     alert and recovery are held back;
//   - a pass failing on the CRK token counts for the token, not the
//     source, and raises the token's alert at once; the token's incident
//     closes when a pass synced recordings without a token failure;
//   - a pass stopped by the daemon stopping (context.Canceled) counts for
//     nothing;
//   - the recordings the round quarantined make one warning.
func (a *Alerter) apply(tx alertTx, now time.Time, results []syncer.Result) error {
	var tokenErr error
	synced := false
	for _, r := range results {
		if r.Source == "" {
			continue
		}
		err := r.Err
		switch {
		case errors.Is(err, context.Canceled):
		case err != nil && tokenFailure(err):
			if tokenErr == nil {
				tokenErr = err
			}
		default:
			synced = synced || (err == nil && r.Synced > 0)
			if e := a.sourcePass(tx, r.Source, now, err); e != nil {
				return e
			}
		}
	}
	switch {
	case tokenErr != nil:
		if err := a.fail(tx, TokenKey, now, now, tokenErr, true, 1); err != nil {
			return err
		}
	case synced:
		if err := a.resolve(tx, TokenKey, now); err != nil {
			return err
		}
	}
	return a.quarantined(tx, now, results)
}

// sourcePass applies one pass of source that ended with passErr (nil: it
// succeeded): its pass history, its flapping, then its own incident.
func (a *Alerter) sourcePass(tx alertTx, source string, now time.Time, passErr error) error {
	st, _, err := tx.Streak(source)
	if err != nil {
		return err
	}
	h, _, err := tx.PassHistory(source)
	if err != nil {
		return err
	}
	old := h
	h.Key = source
	record(&h, passErr != nil)
	if h != old { // a source steadily up (or down) writes nothing
		if err := tx.PutPassHistory(h); err != nil {
			return err
		}
	}
	flapping, err := a.flap(tx, st, now, h, passErr)
	if err != nil {
		return err
	}
	if passErr != nil {
		since := st.Since
		if since.IsZero() {
			since = now
		}
		return a.fail(tx, source, now, since, passErr, !flapping && st.Failures >= a.cfg.After, st.Failures)
	}
	return a.passed(tx, source, now, flapping)
}

// flap updates the flapping incident of source after a pass (h holds it)
// and reports whether the source flaps now:
//   - it starts flapping when its percentage of state change reaches
//     flapHigh: the flapping incident opens, and the source's own alert
//     gives way to it (dropped if queued; if delivered, the flapping
//     incident's end will say it is over);
//   - while it flaps, the incident's message is raised (once);
//   - it stops when the percentage falls below flapLow at a pass that
//     succeeded (a recovery is sent if the flapping message was delivered)
//     or at a failed pass that makes After failures in a row (its streak
//     st; the source's own alert, raised next, says it). A failed pass
//     short of After keeps it flapping until one or the other.
func (a *Alerter) flap(tx alertTx, st Streak, now time.Time, h passHistory, passErr error) (bool, error) {
	source := st.Source
	key := flapPrefix + source
	inc, flapping, err := tx.Incident(key)
	if err != nil {
		return false, err
	}
	pct := changePercent(h)
	switch {
	case !flapping && pct < flapHigh:
		return false, nil
	case !flapping:
		inc = Incident{Key: key, Since: now}
		own, err := a.giveWay(tx, source)
		if err != nil {
			return false, err
		}
		inc.LastError, inc.LastFailure, inc.Inherited = own.LastError, own.LastFailure, own.Alerted
		a.log.Warn("source flapping: its own alerts and recoveries are held back until it is steady",
			"source", source, "state_change_percent", int(pct))
	case pct < flapLow:
		if passErr == nil {
			return false, a.steady(tx, inc, source, now, true)
		}
		if st.Failures >= a.cfg.After {
			return false, a.steady(tx, inc, source, now, false)
		}
	}
	if passErr != nil {
		inc.Failures++
		inc.LastFailure, inc.LastError = now, a.plainError(passErr)
	}
	if !inc.Raised() {
		d := a.flappingFor(inc, source, h)
		d.Queued = now
		if err := tx.Enqueue(&d); err != nil {
			return false, err
		}
		inc.AlertID = d.ID
		a.log.Warn("alert raised", "incident", key, "kind", d.Kind, "state_change_percent", int(pct))
	}
	return true, tx.PutIncident(inc)
}

// giveWay hands the source's own incident over to its flapping incident:
// its alert is dropped if still queued and forgotten if delivered (the
// flapping incident inherits it), so that neither it nor its recovery is
// sent while the source flaps. It returns the incident as it was (zero
// when there is none).
func (a *Alerter) giveWay(tx alertTx, source string) (Incident, error) {
	inc, ok, err := tx.Incident(source)
	if err != nil || !ok {
		return inc, err
	}
	was := inc
	if inc.AlertID != 0 {
		if err := tx.DeleteDelivery(inc.AlertID); err != nil {
			return was, err
		}
	}
	inc.AlertID, inc.Alerted, inc.Successes, inc.Up = 0, time.Time{}, 0, time.Time{}
	return was, tx.PutIncident(inc)
}

// steady ends the flapping incident inc of source: with a recovery
// message when up (the last pass succeeded) and its message, or the
// source's alert it inherited, was delivered; a message still queued is
// dropped.
func (a *Alerter) steady(tx alertTx, inc Incident, source string, now time.Time, up bool) error {
	if inc.AlertID != 0 {
		if err := tx.DeleteDelivery(inc.AlertID); err != nil {
			return err
		}
		a.log.Info("flapping over before its message was delivered: the message is dropped", "incident", inc.Key)
	}
	if up && (!inc.Alerted.IsZero() || !inc.Inherited.IsZero()) {
		d := a.steadyFor(inc, source, now)
		d.Queued = now
		if err := tx.Enqueue(&d); err != nil {
			return err
		}
	}
	a.log.Info("source steady again", "source", source, "up", up, "flapping_since", inc.Since)
	return tx.DeleteIncident(inc.Key)
}

// fail counts a failure of key's incident, opening it as of since if need
// be, and raises its alert when raise (and it was not raised yet); inARow
// is how many passes in a row failed, which the alert says.
func (a *Alerter) fail(tx alertTx, key string, now, since time.Time, err error, raise bool, inARow int) error {
	inc, ok, e := tx.Incident(key)
	if e != nil {
		return e
	}
	if !ok || inc.Failures == 0 {
		inc = Incident{Key: key, Since: since}
	}
	inc.Failures++
	inc.LastFailure = now
	inc.LastError = a.plainError(err)
	inc.Successes, inc.Up = 0, time.Time{}
	if raise && !inc.Raised() {
		d := a.alertFor(inc, inARow)
		d.Queued = now
		if e := tx.Enqueue(&d); e != nil {
			return e
		}
		inc.AlertID = d.ID
		a.log.Warn("alert raised", "incident", key, "kind", d.Kind, "failures", inc.Failures, "since", inc.Since)
	}
	return tx.PutIncident(inc)
}

// passed counts a successful pass of source: an incident whose alert was
// delivered ends at the recoverAfter-th in a row, any other at once.
func (a *Alerter) passed(tx alertTx, source string, now time.Time, flapping bool) error {
	inc, ok, err := tx.Incident(source)
	if err != nil || !ok {
		return err
	}
	if !flapping && !inc.Alerted.IsZero() {
		if inc.Successes++; inc.Successes == 1 {
			inc.Up = now
		}
		if inc.Successes < recoverAfter {
			return tx.PutIncident(inc)
		}
	}
	return a.close(tx, inc, now)
}

// resolve closes key's incident, if one is open.
func (a *Alerter) resolve(tx alertTx, key string, now time.Time) error {
	inc, ok, err := tx.Incident(key)
	if err != nil || !ok {
		return err
	}
	return a.close(tx, inc, now)
}

// close ends inc: its alert is dropped if still queued, and a recovery is
// queued if it was delivered.
func (a *Alerter) close(tx alertTx, inc Incident, now time.Time) error {
	if inc.AlertID != 0 {
		if err := tx.DeleteDelivery(inc.AlertID); err != nil {
			return err
		}
		a.log.Info("incident over before its alert was delivered: the alert is dropped", "incident", inc.Key)
	}
	if !inc.Alerted.IsZero() {
		up := inc.Up
		if up.IsZero() {
			up = now
		}
		d := a.recoveryFor(inc, up)
		d.Queued = now
		if err := tx.Enqueue(&d); err != nil {
			return err
		}
		a.log.Info("incident over: recovery message queued", "incident", inc.Key, "failures", inc.Failures, "since", inc.Since)
	}
	return tx.DeleteIncident(inc.Key)
}

// quarantined queues one warning for the recordings results quarantined,
// keeping at most maxQueuedQuarantine of them waiting.
func (a *Alerter) quarantined(tx alertTx, now time.Time, results []syncer.Result) error {
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
	var waiting []Delivery
	for _, d := range queue {
		if d.Kind == KindQuarantine {
			waiting = append(waiting, d)
		}
	}
	for len(waiting) >= maxQueuedQuarantine {
		if err := tx.DeleteDelivery(waiting[0].ID); err != nil {
			return err
		}
		a.m.dropped.WithLabelValues(dropBacklog).Inc()
		a.log.Warn("alert dropped undelivered: too many quarantine warnings wait for delivery, the oldest goes",
			"title", waiting[0].Title, "reason", dropBacklog, "queued", waiting[0].Queued)
		waiting = waiting[1:]
	}
	d := a.quarantineFor(items)
	d.Queued = now
	return tx.Enqueue(&d)
}
