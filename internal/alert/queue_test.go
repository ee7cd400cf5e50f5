package alert_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/syncer"
)

// queued is the message queue in e's state file.
func (e *env) queued() []alert.Delivery {
	e.t.Helper()
	q, err := alert.Queue(context.Background(), e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}

// poisoned is a pass of source "pbx" that quarantined one recording whose
// dataId the gateway refuses.
func poisoned() outcome {
	return outcome{res: syncer.Result{Source: "pbx", Listed: 1, New: 1, Quarantined: 1, Items: []syncer.Item{{
		Recording:   connectors.Recording{ID: "1", DataID: "poison-1"},
		Quarantined: "opening the audio of poison-1: audio gone at the source",
	}}}}
}

// TestRefusedMessageDoesNotJam: the queue holds a message the gateway will
// never accept (first in line, built while Telegram was down) and good
// messages behind it. At the next round the good ones are delivered, in
// order; the bad one is retried with its own backoff, across a restart,
// and dropped at its third refusal, logged with its title and reason and
// counted; nothing is sent for it afterwards.
func TestRefusedMessageDoesNotJam(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		text   string
	}{
		{"422 validation_failed", http.StatusUnprocessableEntity, "body: contains a forbidden sequence"},
		{"telegram markdown", http.StatusOK, "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 97"},
		{"message too long", http.StatusOK, "Bad Request: message is too long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := telegram
			cfg.After = 1
			e := newEnv(t, cfg, tokAlerts, nil)

			// Telegram is down while three messages queue, the bad one first.
			e.crk.FailDeliveries(1000)
			e.pass(poisoned())
			e.pass(failed("dtac", loginRefused("dtac")))
			e.pass(quarantine("3cx", 1), failed("dtac", loginRefused("dtac")))
			if q := e.queued(); len(q) != 3 || len(e.delivered()) != 0 {
				t.Fatalf("queue %+v, delivered %+v", q, e.delivered())
			}

			// Telegram is back, but the gateway refuses the bad message for good.
			e.crk.FailDeliveries(0)
			e.crk.RefuseMessages("poison-1", tt.status, tt.text)
			e.clk.Advance(10 * time.Minute) // every message's backoff is over
			e.pass(failed("dtac", loginRefused("dtac")))
			msgs := e.delivered()
			if len(msgs) != 2 || msgs[0].Title != "syncd: syncing from DTAC One Call (dtac) has stopped" || msgs[1].Title != "syncd: 1 recording quarantined" {
				t.Fatalf("after the gateway came back, delivered:%s\nwant the alert, then the warning", kindsOf(msgs))
			}
			q := e.queued()
			if len(q) != 1 || q[0].Refusals != 1 || !strings.Contains(q[0].Body, "poison-1") {
				t.Fatalf("queue %+v, want the bad message refused once", q)
			}

			// Restarted: the bad message keeps its count and backoff.
			e.restart()
			sends := e.crk.Count(fakecrk.EndpointNotify)
			for range 24 { // two hours
				e.pass(failed("dtac", loginRefused("dtac")))
				if len(e.queued()) == 0 {
					break
				}
			}
			if q := e.queued(); len(q) != 0 {
				t.Fatalf("the refused message is still queued: %+v", q)
			}
			if n := e.crk.Count(fakecrk.EndpointNotify) - sends; n != alert.MaxRefusals-1 {
				t.Errorf("%d sends after the restart, want %d refusals", n, alert.MaxRefusals-1)
			}
			if got := e.metric("syncd_alerts_dropped_total", "reason", "refused"); got != 1 {
				t.Errorf("dropped{refused} = %v", got)
			}
			if got := e.metric("syncd_alerts_failed_total"); got != alert.MaxRefusals-1 {
				t.Errorf("failed_total after the restart = %v", got)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, `level=WARN msg="alert dropped undelivered: the gateway refused it" title="syncd: 1 recording quarantined" reason=refused`) {
				t.Errorf("the drop is not logged:\n%s", logs)
			}

			// Later messages go as usual; nothing more for the bad one.
			sends = e.crk.Count(fakecrk.EndpointNotify)
			e.pass(ok("dtac"))
			e.pass(ok("dtac"))
			for range 12 {
				e.pass(ok("dtac"))
			}
			if msgs := e.delivered(); len(msgs) != 3 || msgs[2].Title != "syncd: syncing from DTAC One Call (dtac) works again" {
				t.Fatalf("delivered:%s", kindsOf(msgs))
			}
			if n := e.crk.Count(fakecrk.EndpointNotify) - sends; n != 1 {
				t.Errorf("%d sends after the drop, want the recovery only", n)
			}
		})
	}
}

// TestRefusedAlertNotRaisedAgain: an incident's alert dropped because the
// gateway refused it is not raised again (it would be refused again), and
// the incident ends without a recovery.
func TestRefusedAlertNotRaisedAgain(t *testing.T) {
	cfg := telegram
	cfg.After = 1
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.RefuseMessages("DTAC One Call", http.StatusBadRequest, "bad request")
	for range 36 { // 3 hours
		e.pass(failed("dtac", loginRefused("dtac")))
	}
	if got := e.metric("syncd_alerts_dropped_total", "reason", "refused"); got != 1 {
		t.Fatalf("dropped{refused} = %v", got)
	}
	if n := e.crk.Count(fakecrk.EndpointNotify); n != alert.MaxRefusals {
		t.Errorf("%d sends, want %d", n, alert.MaxRefusals)
	}
	if got := e.metric("syncd_incidents_open"); got != 1 {
		t.Errorf("syncd_incidents_open = %v, want the incident still open", got)
	}
	e.crk.RefuseMessages("", 0, "")
	e.pass(ok("dtac"))
	e.pass(ok("dtac"))
	if n := e.crk.Count(fakecrk.EndpointNotify); n != alert.MaxRefusals {
		t.Errorf("%d sends: a recovery of an alert never delivered", n)
	}
}

// TestUndeliveredExpires: while Telegram fails for more than a day, every
// message is dropped once a day old (also those never tried, the round
// stopping at the first failures), logged and counted; the incident still
// open raises its alert again, up to date, and that one is delivered when
// Telegram is back.
func TestUndeliveredExpires(t *testing.T) {
	cfg := telegram
	cfg.After = 1
	e := newEnv(t, cfg, tokAlerts, nil)
	start := e.clk.Now()
	e.crk.FailDeliveries(1 << 20)
	e.pass(failed("dtac", loginRefused("dtac")), quarantine("3cx", 1))
	e.pass(failed("dtac", loginRefused("dtac")), quarantine("pbx", 2))
	for e.clk.Now().Sub(start) < alert.MaxAge+time.Hour {
		e.clk.Advance(25 * time.Minute) // a pass every 30 minutes
		e.pass(failed("dtac", loginRefused("dtac")))
	}
	if got := e.metric("syncd_alerts_dropped_total", "reason", "expired"); got != 3 {
		t.Fatalf("dropped{expired} = %v, want the alert and both warnings", got)
	}
	q := e.queued()
	if len(q) != 1 || q[0].Kind != alert.KindSourceDown || q[0].Queued.Sub(start) < alert.MaxAge {
		t.Fatalf("queue %+v, want the alert raised again", q)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `msg="alert dropped undelivered: it could not be delivered within 24h0m0s" title="syncd: 2 recordings quarantined" reason=expired`) {
		t.Errorf("the expiry is not logged:\n%s", logs)
	}
	e.crk.FailDeliveries(0)
	e.clk.Advance(time.Hour)
	e.pass(failed("dtac", loginRefused("dtac")))
	msgs := e.delivered()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "passes in a row, since 2026-05-20 08:00 +07:00") {
		t.Fatalf("delivered:%s", kindsOf(msgs))
	}
}

// TestRoundStopsForAll: a failure every message would share (the chat
// unknown or unreachable, a rate limit, the token) stops the delivery round
// at once; a failure that may be the message's own (a 5xx, Telegram
// failing) or a refusal of the message lets the next messages go.
func TestRoundStopsForAll(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fail      func(*fakecrk.Server)
		wantSends int
	}{
		{"chat not found (404)", func(s *fakecrk.Server) {
			s.FailNextError(fakecrk.EndpointNotify, http.StatusNotFound, "chat_not_found", 1)
		}, 1},
		{"token revoked (401)", func(s *fakecrk.Server) {
			s.FailNextError(fakecrk.EndpointNotify, http.StatusUnauthorized, "token_disabled", 1)
		}, 1},
		{"telegram: chat not found", func(s *fakecrk.Server) { s.FailDeliveriesWith(1, "Bad Request: chat not found") }, 1},
		{"telegram: bot kicked", func(s *fakecrk.Server) { s.FailDeliveriesWith(1, "Forbidden: bot was kicked from the group chat") }, 1},
		{"telegram: too many requests", func(s *fakecrk.Server) { s.FailDeliveriesWith(1, "Too Many Requests: retry after 30") }, 1},
		{"discord: unknown webhook", func(s *fakecrk.Server) { s.FailDeliveriesWith(1, "Discord API error: 404 Unknown Webhook") }, 1},
		{"telegram: 502", func(s *fakecrk.Server) { s.FailDeliveries(1) }, 3},
		{"gateway 500", func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointNotify, http.StatusInternalServerError, 1) }, 3},
		{"refused (422)", func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointNotify, http.StatusUnprocessableEntity, 1) }, 3},
		{"telegram: can't parse entities", func(s *fakecrk.Server) {
			s.FailDeliveriesWith(1, "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12")
		}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, telegram, tokAlerts, nil)
			stopping, cancel := context.WithCancel(context.Background())
			cancel()
			for i := range 3 { // queued, not sent: the daemon was stopping
				q := quarantine("dtac", i+1)
				e.round(stopping, e.al, []syncer.Result{q.res})
			}
			tt.fail(e.crk)
			e.pass(ok("dtac"))
			if n := e.crk.Count(fakecrk.EndpointNotify); n != tt.wantSends {
				t.Errorf("%d sends, want %d", n, tt.wantSends)
			}
			msgs := e.delivered()
			if len(msgs) != tt.wantSends-1 {
				t.Fatalf("delivered:%s", kindsOf(msgs))
			}
			if len(msgs) == 2 && (msgs[0].Title != "syncd: 2 recordings quarantined" || msgs[1].Title != "syncd: 3 recordings quarantined") {
				t.Errorf("delivered out of order:%s", kindsOf(msgs))
			}
		})
	}
}
