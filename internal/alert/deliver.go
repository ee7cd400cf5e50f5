package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// flush delivers the queued messages that are due, oldest first. It stops
// at the first failure, which waits with backoff: the messages behind it
// keep their order, and a gateway that is down gets one request a pass.
//
// A message is removed from the queue after the gateway took it; if syncd
// dies between the two, the message goes out again after the restart (the
// gateway offers no idempotency key): at least once, never lost.
func (a *Alerter) flush(ctx context.Context) {
	var queue []state.Delivery
	err := a.store.ViewAlerts(ctx, func(tx *state.AlertTx) error {
		var err error
		queue, err = tx.Deliveries()
		return err
	})
	if err != nil {
		a.log.Error("alerting: reading the message queue failed", "err", a.scrub(err.Error()))
		return
	}
	for _, d := range queue {
		now := a.now()
		if d.NextTry.After(now) {
			return
		}
		err := a.gw.Notify(ctx, a.notification(d))
		if ctx.Err() != nil {
			return // stopping: not the gateway's failure; the message waits
		}
		if err != nil {
			a.failed(ctx, d, now, err)
			return
		}
		a.delivered(ctx, d, now)
	}
}

// notification is d addressed to the configured destination.
func (a *Alerter) notification(d state.Delivery) sink.Notification {
	n := sink.Notification{Channel: a.cfg.Channel, Title: d.Title, Body: d.Body, Link: a.cfg.Link, Severity: d.Severity}
	switch a.cfg.Channel {
	case sink.ChannelTelegram:
		n.ChatID = a.cfg.ChatID
	case sink.ChannelDiscord:
		n.WebhookID = a.cfg.WebhookID
	}
	return n
}

// delivered takes d off the queue and, for an incident's alert, records
// when it went out.
func (a *Alerter) delivered(ctx context.Context, d state.Delivery, now time.Time) {
	a.m.sent.WithLabelValues(d.Kind).Inc()
	a.log.Info("alert delivered", "kind", d.Kind, "incident", d.Key, "to", a.Destination(), "attempts", d.Attempts+1)
	err := a.store.UpdateAlerts(context.WithoutCancel(ctx), func(tx *state.AlertTx) error {
		if err := tx.DeleteDelivery(d.ID); err != nil || d.Key == "" {
			return err
		}
		inc, ok, err := tx.Incident(d.Key)
		if err != nil || !ok || inc.AlertID != d.ID {
			return err
		}
		inc.AlertID, inc.Alerted = 0, now
		return tx.PutIncident(inc)
	})
	if err != nil {
		a.log.Error("alerting: recording a delivered message failed: it may be sent again after a restart",
			"kind", d.Kind, "err", a.scrub(err.Error()))
	}
}

// failed records a failed delivery of d and when to try again.
func (a *Alerter) failed(ctx context.Context, d state.Delivery, now time.Time, err error) {
	a.m.failed.Inc()
	d.Attempts++
	d.NextTry = now.Add(a.backoff(d.Attempts))
	d.LastError = a.scrub(err.Error())
	level, msg := slog.LevelWarn, "alert not delivered: it is retried on a later pass"
	switch {
	case d.Kind == KindToken:
		level, msg = slog.LevelError, "the alert about the CRK token could not be delivered: the gateway needs the same token; it is retried on a later pass"
	case errors.Is(err, sink.ErrDeliveryFailed):
	case sink.IsAuth(err) || sink.Permanent(err):
		level, msg = slog.LevelError, fmt.Sprintf("alert not delivered: CRK refuses it; check the token's manage_notifications scope and %s; it is retried on a later pass", a.Destination())
	}
	a.log.Log(ctx, level, msg, "kind", d.Kind, "incident", d.Key, "attempts", d.Attempts, "retry_at", d.NextTry, "err", d.LastError)
	uerr := a.store.UpdateAlerts(context.WithoutCancel(ctx), func(tx *state.AlertTx) error { return tx.PutDelivery(d) })
	if uerr != nil {
		a.log.Error("alerting: recording a failed delivery failed", "kind", d.Kind, "err", a.scrub(uerr.Error()))
	}
}

// backoff is the wait after the n-th failed attempt: RetryBase doubling,
// capped at RetryMax.
func (a *Alerter) backoff(n int) time.Duration {
	d := a.cfg.RetryBase
	for i := 1; i < n && d < a.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, a.cfg.RetryMax)
}

// SendTest sends one test message right away, for `syncd -test-connection
// -send-test-alert`. It queues nothing: a failure is returned.
func (a *Alerter) SendTest(ctx context.Context) error {
	d := testMessage()
	if err := a.gw.Notify(ctx, a.notification(d)); err != nil {
		a.m.failed.Inc()
		return fmt.Errorf("sending a test alert to %s: %w", a.Destination(), err)
	}
	a.m.sent.WithLabelValues(d.Kind).Inc()
	return nil
}
