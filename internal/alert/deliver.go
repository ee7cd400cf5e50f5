package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/internal/sink"
)

// maxTransientInRound is how many messages in a row may fail for a reason
// that may be theirs alone (a 5xx, a network error, an {"ok":false} that
// does not say why) before a delivery round stops: one such message does
// not hold the others back, and a gateway that is down gets at most this
// many requests a pass.
const maxTransientInRound = 2

// failure is what a failed delivery says about what to do next.
type failure int

const (
	// failTransient: the message may go through later (a 5xx, a network
	// error, Telegram or Discord failing): it waits its backoff, and the
	// round goes on with the next message.
	failTransient failure = iota
	// failAll: every message would fail alike (CRK refuses the token, or
	// the chat or webhook is unknown or unreachable): the message waits its
	// backoff, and the round stops. A chat or webhook that cannot be
	// reached is such a failure, not the message's: dropping the message
	// would not help the next one; the operator fixes the destination, and
	// the messages go out then if they are not MaxAge old.
	failAll
	// failRateLimited: CRK, Telegram or Discord asks syncd to slow down
	// (HTTP 429, {"ok":false} "Too Many Requests: retry after N"): as
	// failAll, waiting at least as long as asked (up to RetryMax).
	failRateLimited
	// failRefused: the message itself is refused (an HTTP 4xx such as 400
	// or 422 validation_failed, or {"ok":false} saying it cannot be parsed
	// or is too long): the round goes on, and the message is dropped at
	// its MaxRefusals-th refusal.
	failRefused
)

// Texts of {"ok":false} answers, lower-cased, by what they mean; the
// first list that matches wins.
var (
	// rateLimited: Telegram's 429 and the like.
	rateLimited = []string{"too many requests", "retry after", "rate limit", "flood"}
	// unreachable: the chat or webhook, not the message.
	unreachable = []string{
		"chat not found", "bot was kicked", "bot was blocked", "bot is not a member", "not enough rights",
		"have no rights", "need administrator rights", "chat_write_forbidden", "user is deactivated",
		"group chat was upgraded", "unknown webhook", "unknown channel", "missing access", "missing permissions",
		"forbidden", "unauthorized",
	}
	// badMessage: the message itself.
	badMessage = []string{
		"can't parse", "cannot parse", "message is too long", "too long", "message text is empty",
		"text must be non-empty", "invalid form body", "bad request",
	}
	// apiStatus finds the status of "… API error: 400 …".
	apiStatus = regexp.MustCompile(`(?i)\berror:?\s*([1-5][0-9][0-9])\b`)
	// retryAfter finds the wait of "retry after 30".
	retryAfter = regexp.MustCompile(`(?i)retry after:?\s*([0-9]{1,6})\b`)
)

// classify tells what a failed delivery's err means, and how long the
// gateway asked to wait, if it did.
func classify(err error) (failure, time.Duration) {
	var de *sink.DeliveryError
	if errors.As(err, &de) {
		return classifyDelivery(de.Message)
	}
	var ae *sink.APIError
	if !errors.As(err, &ae) {
		return failTransient, 0 // the network, or something unknown
	}
	switch s := ae.Status; {
	case s == http.StatusTooManyRequests:
		return failRateLimited, ae.RetryAfter
	case s == http.StatusRequestTimeout:
		return failTransient, 0
	case sink.IsAuth(err), s == http.StatusNotFound: // the token, or the chat or webhook
		return failAll, 0
	case s >= 400 && s < 500:
		return failRefused, 0
	}
	return failTransient, 0
}

// classifyDelivery classifies the error text of an {"ok":false} answer.
func classifyDelivery(text string) (failure, time.Duration) {
	lower := strings.ToLower(text)
	has := func(list []string) bool {
		for _, s := range list {
			if strings.Contains(lower, s) {
				return true
			}
		}
		return false
	}
	status := 0
	if m := apiStatus.FindStringSubmatch(text); m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	switch {
	case has(rateLimited) || status == http.StatusTooManyRequests:
		var wait time.Duration
		if m := retryAfter.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			wait = time.Duration(n) * time.Second
		}
		return failRateLimited, wait
	case has(unreachable) || status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		return failAll, 0
	case has(badMessage) || (status >= 400 && status < 500 && status != http.StatusRequestTimeout):
		return failRefused, 0
	}
	return failTransient, 0
}

// flush delivers the queued messages that are due, oldest first. A message
// that fails waits with its own backoff while the ones behind it go on, in
// order: one message the gateway refuses never holds the others back. The
// round stops at a failure every message would share (rate limit, token,
// destination) or after maxTransientInRound other failures in a row, so a
// gateway that is down gets few requests a pass. A message refused
// MaxRefusals times, or waiting longer than MaxAge, is dropped.
//
// A message is removed from the queue after the gateway took it; if syncd
// dies between the two, the message goes out again after the restart (the
// gateway offers no idempotency key): at least once, never lost.
func (a *Alerter) flush(ctx context.Context) {
	var queue []Delivery
	err := viewAlerts(ctx, a.store, func(tx alertTx) error {
		var err error
		queue, err = tx.Deliveries()
		return err
	})
	if err != nil {
		a.log.Error("alerting: reading the message queue failed", "err", a.scrub(err.Error()))
		return
	}
	due := queue[:0]
	for _, d := range queue {
		if now := a.now(); !d.Queued.IsZero() && now.Sub(d.Queued) >= MaxAge {
			a.drop(ctx, d, now, dropExpired)
			continue
		}
		due = append(due, d)
	}
	transient := 0
	for _, d := range due {
		now := a.now()
		if d.NextTry.After(now) {
			continue // waits its own backoff
		}
		err := a.gw.Notify(ctx, a.notification(d))
		if ctx.Err() != nil {
			return // stopping: not the gateway's failure; the message waits
		}
		if err == nil {
			transient = 0
			a.delivered(ctx, d, now)
			continue
		}
		f, wait := classify(err)
		a.failed(ctx, d, now, err, f, wait)
		switch f {
		case failAll, failRateLimited:
			return
		case failTransient:
			if transient++; transient >= maxTransientInRound {
				return
			}
		}
	}
}

// notification is d addressed to the configured destination.
func (a *Alerter) notification(d Delivery) sink.Notification {
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
func (a *Alerter) delivered(ctx context.Context, d Delivery, now time.Time) {
	a.m.sent.WithLabelValues(d.Kind).Inc()
	a.log.Info("alert delivered", "kind", d.Kind, "incident", d.Key, "to", a.Destination(), "attempts", d.Attempts+1)
	err := updateAlerts(context.WithoutCancel(ctx), a.store, func(tx alertTx) error {
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

// failed records a failed delivery of d and when to try again (not before
// wait, when the gateway asked for one), or drops d at its MaxRefusals-th
// refusal.
func (a *Alerter) failed(ctx context.Context, d Delivery, now time.Time, err error, f failure, wait time.Duration) {
	a.m.failed.Inc()
	d.Attempts++
	d.LastError = a.scrub(err.Error())
	if f == failRefused {
		if d.Refusals++; d.Refusals >= MaxRefusals {
			a.drop(ctx, d, now, dropRefused)
			return
		}
	}
	d.NextTry = now.Add(max(a.backoff(d.Attempts), min(wait, a.cfg.RetryMax)))
	level, msg := slog.LevelWarn, "alert not delivered: it is retried on a later pass"
	switch {
	case d.Kind == KindToken:
		level, msg = slog.LevelError, "the alert about the CRK token could not be delivered: the gateway needs the same token; it is retried on a later pass"
	case f == failRefused:
		msg = fmt.Sprintf("alert refused by the gateway: it is tried %d more times, then dropped; the other messages go on", MaxRefusals-d.Refusals)
	case f == failRateLimited:
		msg = "alert not delivered: the gateway asks syncd to slow down; it is retried on a later pass"
	case errors.Is(err, sink.ErrDeliveryFailed) && f == failAll:
		level, msg = slog.LevelError, fmt.Sprintf("alert not delivered: %s cannot be reached or refuses messages for now; check it (syncd -test-connection); it is retried on a later pass", a.Destination())
	case errors.Is(err, sink.ErrDeliveryFailed):
	case sink.IsAuth(err) || sink.Permanent(err):
		level, msg = slog.LevelError, fmt.Sprintf("alert not delivered: CRK refuses it; check the token's manage_notifications scope and %s; it is retried on a later pass", a.Destination())
	}
	a.log.Log(ctx, level, msg, "kind", d.Kind, "incident", d.Key, "attempts", d.Attempts, "retry_at", d.NextTry, "err", d.LastError)
	uerr := updateAlerts(context.WithoutCancel(ctx), a.store, func(tx alertTx) error { return tx.PutDelivery(d) })
	if uerr != nil {
		a.log.Error("alerting: recording a failed delivery failed", "kind", d.Kind, "err", a.scrub(uerr.Error()))
	}
}

// drop gives d up undelivered, for reason (dropRefused or dropExpired). An
// incident whose alert it was stays open: after an expiry it raises its
// alert again at its next failure; after a refusal, never again (the same
// message would be refused), and it ends without a recovery.
func (a *Alerter) drop(ctx context.Context, d Delivery, now time.Time, reason string) {
	a.m.dropped.WithLabelValues(reason).Inc()
	why := "the gateway refused it"
	if reason == dropExpired {
		why = fmt.Sprintf("it could not be delivered within %s", MaxAge)
	}
	a.log.Warn("alert dropped undelivered: "+why, "title", d.Title, "reason", reason, "kind", d.Kind, "incident", d.Key,
		"attempts", d.Attempts, "queued", d.Queued, "err", d.LastError)
	err := updateAlerts(context.WithoutCancel(ctx), a.store, func(tx alertTx) error {
		if err := tx.DeleteDelivery(d.ID); err != nil || d.Key == "" {
			return err
		}
		inc, ok, err := tx.Incident(d.Key)
		if err != nil || !ok || inc.AlertID != d.ID {
			return err
		}
		inc.AlertID = 0
		if reason == dropRefused {
			inc.Dropped = now
		}
		return tx.PutIncident(inc)
	})
	if err != nil {
		a.log.Error("alerting: recording a dropped message failed", "kind", d.Kind, "err", a.scrub(err.Error()))
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
