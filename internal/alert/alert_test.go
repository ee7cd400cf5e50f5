package alert_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/syncer"
)

var telegram = alert.Config{Channel: sink.ChannelTelegram, ChatID: chatA, After: 3, Link: "https://wiki.example.com/syncd-runbook"}

// TestFailingThenRecovered: a source failing 5 passes in a row, then
// succeeding, makes exactly one critical alert (at the third failure) and
// one info recovery; a healthy source beside it makes none.
func TestFailingThenRecovered(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	start := e.clk.Now()
	for i := 1; i <= 5; i++ {
		e.pass(failed("dtac", loginRefused("dtac")), ok("3cx"))
		want := 0
		if i >= 3 {
			want = 1
		}
		if got := len(e.delivered()); got != want {
			t.Fatalf("after failed pass %d: %d messages, want %d", i, got, want)
		}
		if got := e.metric("syncd_incidents_open"); got != float64(want) {
			t.Errorf("after failed pass %d: syncd_incidents_open %v", i, got)
		}
	}
	e.pass(synced("dtac", 4), ok("3cx"))
	e.pass(ok("dtac"), ok("3cx"))

	msgs := e.delivered()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want an alert and a recovery: %+v", len(msgs), msgs)
	}
	down, up := msgs[0], msgs[1]
	wantDown := "syncd has failed to sync call recordings from DTAC One Call (dtac) 3 passes in a row, since 2026-05-20 08:00 +07:00.\n" +
		"Last error: the phone system refused syncd's login: check the user name and password (or API client) syncd uses " +
		"(listing dtac from 2026-05-19T08:00:00+07:00 to 2026-05-20T07:58:00+07:00: dtac: login: login refused).\n" +
		"New recordings from this source do not reach CRK until this is fixed. syncd keeps trying on its schedule and catches up afterwards."
	if down.Severity != "critical" || down.Title != "syncd: syncing from DTAC One Call (dtac) has stopped" || down.Body != wantDown ||
		down.Channel != "telegram" || down.ChatID != chatA || down.Link != telegram.Link || down.BusinessID != bizA {
		t.Errorf("alert %+v\nwant body %s", down, wantDown)
	}
	recoveredAt := start.Add(25 * time.Minute).In(bangkok).Format("2006-01-02 15:04 -07:00")
	wantUp := "syncd synced DTAC One Call (dtac) successfully again at " + recoveredAt + ", after 5 passes failed since 2026-05-20 08:00 +07:00."
	if up.Severity != "info" || up.Title != "syncd: syncing from DTAC One Call (dtac) works again" || up.Body != wantUp {
		t.Errorf("recovery %+v\nwant body %s", up, wantUp)
	}
	for kind, want := range map[string]float64{alert.KindSourceDown: 1, alert.KindRecovered: 1, alert.KindQuarantine: 0, alert.KindToken: 0} {
		if got := e.metric("syncd_alerts_sent_total", "kind", kind); got != want {
			t.Errorf("syncd_alerts_sent_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	if got := e.metric("syncd_alerts_failed_total"); got != 0 {
		t.Errorf("syncd_alerts_failed_total = %v", got)
	}
	if got := e.metric("syncd_incidents_open"); got != 0 {
		t.Errorf("syncd_incidents_open = %v after the recovery", got)
	}
	if n := e.crk.Count(fakecrk.EndpointNotify); n != 2 {
		t.Errorf("%d sends, want 2", n)
	}
}

// TestBelowThreshold: failures fewer than After in a row, between
// successes, never alert, and a success after them sends no recovery.
func TestBelowThreshold(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	for range 3 {
		e.pass(failed("dtac", loginRefused("dtac")))
		e.pass(failed("dtac", loginRefused("dtac")))
		e.pass(ok("dtac"))
	}
	if msgs := e.crk.Messages(); len(msgs) != 0 {
		t.Fatalf("messages %+v", msgs)
	}
}

// TestRestartSendsNothingTwice: whichever pass the daemon restarts after
// (state file closed and opened again, a new Alerter), the story of a
// source failing 5 passes and recovering is one alert and one recovery;
// also when the alert's first delivery failed before the restart.
func TestRestartSendsNothingTwice(t *testing.T) {
	for _, failFirst := range []bool{false, true} {
		for after := 1; after <= 6; after++ {
			t.Run(fmt.Sprintf("restart after pass %d, first delivery fails %v", after, failFirst), func(t *testing.T) {
				cfg := telegram
				cfg.RetryBase = time.Minute
				e := newEnv(t, cfg, tokAlerts, nil)
				if failFirst {
					e.crk.FailDeliveries(1)
				}
				for i := 1; i <= 7; i++ {
					if i <= 5 {
						e.pass(failed("dtac", loginRefused("dtac")))
					} else {
						e.pass(synced("dtac", 1))
					}
					if i == after {
						e.restart()
					}
				}
				msgs := e.delivered()
				if len(msgs) != 2 || msgs[0].Severity != "critical" || msgs[1].Severity != "info" {
					t.Fatalf("delivered %+v", msgs)
				}
				wantSends := 2
				if failFirst {
					wantSends = 3
				}
				if n := e.crk.Count(fakecrk.EndpointNotify); n != wantSends {
					t.Errorf("%d sends, want %d", n, wantSends)
				}
				if !strings.Contains(msgs[0].Body, "3 passes in a row, since 2026-05-20 08:00 +07:00") {
					t.Errorf("the alert forgot when the incident began: %s", msgs[0].Body)
				}
			})
		}
	}
}

// TestDeliveryRetried: an {ok:false} delivery is retried on a later pass
// once its own backoff has passed, then delivered; a message queued behind
// it does not wait for it.
func TestDeliveryRetried(t *testing.T) {
	cfg := telegram
	cfg.After, cfg.RetryBase, cfg.RetryMax = 1, 8*time.Minute, time.Hour
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.FailDeliveries(1)

	e.pass(failed("dtac", loginRefused("dtac"))) // 0 min: the alert fails: next in 8 min
	if n, got := e.crk.Count(fakecrk.EndpointNotify), e.metric("syncd_alerts_failed_total"); n != 1 || got != 1 || len(e.delivered()) != 0 {
		t.Fatalf("after the first failure: %d sends, failed_total %v, delivered %+v", n, got, e.delivered())
	}
	e.pass(failed("dtac", loginRefused("dtac")), quarantine("3cx", 1)) // 5 min: the warning goes, the alert waits
	if n, msgs := e.crk.Count(fakecrk.EndpointNotify), e.delivered(); n != 2 || len(msgs) != 1 || msgs[0].Severity != "warning" {
		t.Fatalf("5 min: %d sends, delivered %+v; want the warning only", n, msgs)
	}
	e.pass(failed("dtac", loginRefused("dtac"))) // 10 min: the alert's retry
	msgs := e.delivered()
	if len(msgs) != 2 || msgs[1].Severity != "critical" {
		t.Fatalf("delivered %+v", msgs)
	}
	if n := e.crk.Count(fakecrk.EndpointNotify); n != 3 {
		t.Errorf("%d sends, want 3", n)
	}
	if got := e.metric("syncd_alerts_sent_total", "kind", alert.KindSourceDown); got != 1 {
		t.Errorf("sent{source_down} = %v", got)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "alert not delivered: it is retried on a later pass") ||
		!strings.Contains(logs, "Telegram API error: 502 Bad Gateway") {
		t.Errorf("the failed delivery is not logged:\n%s", logs)
	}
}

// TestDeliveryHTTPErrors: HTTP errors of the gateway are failed deliveries
// too, retried on a later pass.
func TestDeliveryHTTPErrors(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusNotFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			cfg := telegram
			cfg.After, cfg.RetryBase = 1, time.Minute
			e := newEnv(t, cfg, tokAlerts, nil)
			n := 1
			if status == http.StatusTooManyRequests {
				n = 2 // the sink retries a 429 once within the request
			}
			e.crk.FailNext(fakecrk.EndpointNotify, status, n)
			e.pass(failed("3cx", errors.New("3cx: list: 500 Internal Server Error")))
			if got := e.metric("syncd_alerts_failed_total"); got != 1 || len(e.delivered()) != 0 {
				t.Fatalf("failed_total %v, delivered %+v", got, e.delivered())
			}
			e.pass(failed("3cx", errors.New("3cx: list: 500 Internal Server Error")))
			e.pass(ok("3cx"))
			e.pass(ok("3cx")) // the second success in a row ends the incident
			msgs := e.delivered()
			if len(msgs) != 2 || msgs[0].Title != "syncd: syncing from 3CX (3cx) has stopped" || msgs[1].Severity != "info" {
				t.Fatalf("delivered %+v", msgs)
			}
		})
	}
}

// TestRecoveredBeforeDelivery: a source that recovers while its alert
// still waits for delivery drops the alert, and sends no recovery.
func TestRecoveredBeforeDelivery(t *testing.T) {
	cfg := telegram
	cfg.After, cfg.RetryBase = 1, time.Minute
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.FailDeliveries(1)
	e.pass(failed("dtac", loginRefused("dtac")))
	e.pass(ok("dtac"))
	e.pass(ok("dtac"))
	if n, msgs := e.crk.Count(fakecrk.EndpointNotify), e.delivered(); n != 1 || len(msgs) != 0 {
		t.Fatalf("%d sends, delivered %+v", n, msgs)
	}
	if got := e.metric("syncd_incidents_open"); got != 0 {
		t.Errorf("syncd_incidents_open = %v", got)
	}
}

// TestCancelledPassCountsForNothing: a pass stopped by the daemon
// stopping neither counts as a failure nor ends the run of failures.
func TestCancelledPassCountsForNothing(t *testing.T) {
	cfg := telegram
	cfg.After = 2
	e := newEnv(t, cfg, tokAlerts, nil)
	stopped := fmt.Errorf("pass of dtac stopped: %w", context.Canceled)
	e.pass(failed("dtac", loginRefused("dtac")))
	e.pass(failed("dtac", stopped))
	e.pass(failed("dtac", stopped))
	if n := len(e.crk.Messages()); n != 0 {
		t.Fatalf("%d messages after one failure and two stops", n)
	}
	e.pass(failed("dtac", loginRefused("dtac")))
	if msgs := e.delivered(); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "2 passes in a row, since 2026-05-20 08:00 +07:00") {
		t.Fatalf("delivered %+v", msgs)
	}
}

// tokenError is what a pass returns when CRK refuses the token (the real
// error of the sink, from the fake).
func tokenError(t *testing.T, e *env, token string) error {
	t.Helper()
	c, err := sink.New(sink.Config{BaseURL: e.crk.URL(), Token: token, Retry: sink.Retry{Attempts: 1}}, sink.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background(), sink.Recording{DataID: "dtac-1", CallAt: e.clk.Now(), Direction: "in"})
	if err == nil {
		t.Fatal("create passed")
	}
	return fmt.Errorf("pass of dtac stopped: %w", err)
}

// TestTokenAlert: CRK refusing the token raises one critical alert at once,
// whatever After says, and no source alert however long it lasts; a pass
// that syncs again closes it with a recovery.
func TestTokenAlert(t *testing.T) {
	e := newEnv(t, telegram, tokNotify, nil)
	scope := tokenError(t, e, tokNotify) // 403 insufficient_scope: the key lacks manage_call_recording
	for range 5 {
		e.pass(failed("dtac", scope), failed("3cx", scope))
	}
	msgs := e.delivered()
	if len(msgs) != 1 {
		t.Fatalf("delivered %+v", msgs)
	}
	want := "Since 2026-05-20 08:00 +07:00, CRK has refused the API token syncd sends call recordings with: " +
		"CRK says the token lacks a permission syncd needs (pass of dtac stopped: crk create: 403 insufficient\uff3fscope: Token lacks 'manage\uff3fcall\uff3frecording').\n" +
		"No recording reaches CRK until `CRK_API_TOKEN` is replaced with a working token (scope `manage_call_recording`, and `manage_notifications` for these alerts). " +
		"syncd keeps the recordings and sends them once the token works."
	if m := msgs[0]; m.Severity != "critical" || m.Title != "syncd: CRK refuses syncd's API token" || m.Body != want {
		t.Errorf("alert %+v\nwant body %s", m, want)
	}
	e.pass(ok("dtac"), ok("3cx")) // nothing to send: says nothing of the token
	if n := len(e.delivered()); n != 1 {
		t.Fatalf("%d messages after a pass that sent nothing to CRK", n)
	}
	e.pass(synced("dtac", 2), ok("3cx"))
	msgs = e.delivered()
	if len(msgs) != 2 || msgs[1].Title != "syncd: CRK accepts syncd's API token again" || msgs[1].Severity != "info" {
		t.Fatalf("delivered %+v", msgs)
	}
	if got := e.metric("syncd_alerts_sent_total", "kind", alert.KindToken); got != 1 {
		t.Errorf("sent{crk_token} = %v", got)
	}
}

// TestTokenAlertUndeliverable: when the token is revoked the gateway
// refuses the alert about it too: the failure is logged and counted, and
// retried on later passes.
func TestTokenAlertUndeliverable(t *testing.T) {
	cfg := telegram
	cfg.RetryBase = time.Minute
	e := newEnv(t, cfg, tokRevoked, nil)
	revoked := tokenError(t, e, tokRevoked)
	if !errors.Is(revoked, sink.ErrTokenDisabled) {
		t.Fatalf("error %v", revoked)
	}
	e.pass(failed("dtac", revoked))
	e.pass(failed("dtac", revoked))
	if n := len(e.crk.Messages()); n != 0 {
		t.Fatalf("%d messages with a revoked token", n)
	}
	if n := e.crk.Count(fakecrk.EndpointNotify); n != 2 {
		t.Errorf("%d attempts, want one a pass", n)
	}
	if got := e.metric("syncd_alerts_failed_total"); got != 2 {
		t.Errorf("syncd_alerts_failed_total = %v", got)
	}
	if got := e.metric("syncd_incidents_open"); got != 1 {
		t.Errorf("syncd_incidents_open = %v", got)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "the alert about the CRK token could not be delivered") || !strings.Contains(logs, "token_disabled") {
		t.Errorf("the log does not say so:\n%s", logs)
	}
}

// quarantine is a pass of source that quarantined n recordings.
func quarantine(source string, n int) outcome {
	r := syncer.Result{Source: source, Listed: n, New: n, Quarantined: n}
	for i := range n {
		r.Items = append(r.Items, syncer.Item{
			Recording:   connectors.Recording{ID: fmt.Sprint(100 + i), DataID: fmt.Sprintf("%s-%d", source, 100+i)},
			Err:         connectors.ErrGone,
			Quarantined: fmt.Sprintf("opening the audio of %s-%d: audio gone at the source", source, 100+i),
		})
	}
	r.Items = append(r.Items, syncer.Item{Recording: connectors.Recording{DataID: source + "-ok"}})
	return outcome{res: r}
}

// TestQuarantineWarning: a round that quarantined recordings sends one
// warning with the count and the first few dataIds and reasons; a round
// that quarantined none sends nothing.
func TestQuarantineWarning(t *testing.T) {
	e := newEnv(t, alert.Config{Channel: sink.ChannelDiscord, WebhookID: webhookA}, tokAlerts, nil)
	e.pass(quarantine("dtac", 4), quarantine("3cx", 3))
	e.pass(ok("dtac"), ok("3cx"))
	e.pass(quarantine("dtac", 1), ok("3cx"))
	msgs := e.delivered()
	if len(msgs) != 2 {
		t.Fatalf("delivered %+v", msgs)
	}
	want := "The last pass put 7 recordings in quarantine: syncd will not send them again by itself.\n" +
		"- dtac-100 (dtac): opening the audio of dtac-100: audio gone at the source\n" +
		"- dtac-101 (dtac): opening the audio of dtac-101: audio gone at the source\n" +
		"- dtac-102 (dtac): opening the audio of dtac-102: audio gone at the source\n" +
		"- dtac-103 (dtac): opening the audio of dtac-103: audio gone at the source\n" +
		"- 3cx-100 (3cx): opening the audio of 3cx-100: audio gone at the source\n" +
		"and 2 more.\n" +
		"`syncd -status` lists them with their reasons; `syncd -retry-quarantined` sends them again once the cause is fixed."
	if m := msgs[0]; m.Severity != "warning" || m.Title != "syncd: 7 recordings quarantined" || m.Body != want ||
		m.Channel != "discord" || m.WebhookID != webhookA || m.Link != "" {
		t.Errorf("warning %+v\nwant body %s", m, want)
	}
	if m := msgs[1]; m.Title != "syncd: 1 recording quarantined" || !strings.HasPrefix(m.Body, "The last pass put 1 recording in quarantine") {
		t.Errorf("warning %+v", m)
	}
	if got := e.metric("syncd_alerts_sent_total", "kind", alert.KindQuarantine); got != 2 {
		t.Errorf("sent{quarantine} = %v", got)
	}
}

// TestQuarantineBacklogBounded: while the gateway is down, at most 20
// quarantine warnings wait; the oldest go first, counted as dropped.
func TestQuarantineBacklogBounded(t *testing.T) {
	cfg := telegram
	cfg.RetryBase, cfg.RetryMax = time.Minute, time.Minute
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.FailDeliveries(1000)
	for i := range 25 {
		e.pass(quarantine("dtac", i+1))
	}
	if n := len(e.delivered()); n != 0 {
		t.Fatalf("%d delivered with the gateway down", n)
	}
	if n := e.crk.Count(fakecrk.EndpointNotify); n > 2*25 {
		t.Errorf("%d sends in 25 passes with the gateway down, want at most 2 a pass", n)
	}
	e.crk.FailDeliveries(0)
	e.pass(ok("dtac"))
	msgs := e.delivered()
	if len(msgs) != 20 {
		t.Fatalf("%d delivered, want 20", len(msgs))
	}
	if msgs[0].Title != "syncd: 6 recordings quarantined" || msgs[19].Title != "syncd: 25 recordings quarantined" {
		t.Errorf("kept %q … %q, want the newest 20", msgs[0].Title, msgs[19].Title)
	}
	if got := e.metric("syncd_alerts_dropped_total", "reason", "backlog"); got != 5 {
		t.Errorf("dropped{backlog} = %v, want 5", got)
	}
}

// TestNoSecretInMessages: whatever the errors and reasons say, no message
// (nor log line) holds a password, a token, a presigned URL's signature,
// an Authorization header or a stack trace.
func TestNoSecretInMessages(t *testing.T) {
	cfg := telegram
	cfg.After = 1
	e := newEnv(t, cfg, tokAlerts, nil)
	presigned := "https://storage.example.com/crk-audio/b1/rec-1.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260520&X-Amz-Signature=6f1ed002ab5595859014ebf0951522d9"
	errs := map[string]error{
		"dtac": fmt.Errorf("listing dtac: dtac: login: POST https://onecallvoicerecord.dtac.co.th/api/login?username=%%2B66812345678&password=%s: %w", dtacSecret, connectors.ErrAuth),
		"3cx": fmt.Errorf("listing 3cx: 3cx: token: POST https://admin:%s@acme.3cx.co.th/connect/token: client_secret=%s {\"client_secret\":\"%s\"} Authorization: Bearer %s\ngoroutine 1 [running]:\nmain.main()",
			threecxPass, threecxPass, threecxPass, tokAlerts),
		"sip": fmt.Errorf("upload to %s failed with token=%s", presigned, "crk_live_0123456789abcdef"),
	}
	q := quarantine("pbx", 2)
	q.res.Items[0].Quarantined = "reextract: crk_live_0123456789abcdef refused; audio at " + presigned
	q.res.Items[1].Quarantined = "password=" + dtacSecret
	e.pass(failed("dtac", errs["dtac"]), failed("3cx", errs["3cx"]), failed("sip", errs["sip"]), q)

	msgs := e.delivered()
	if len(msgs) != 4 {
		t.Fatalf("delivered %d: %+v", len(msgs), msgs)
	}
	for _, m := range msgs {
		noSecret(t, "message "+m.Title, m.Title+"\n"+m.Body, "crk_live_0123456789abcdef", "AKIAEXAMPLE", "6f1ed002ab5595859014ebf0951522d9")
	}
	bodies := ""
	for _, m := range msgs {
		bodies += m.Body + "\n"
	}
	for _, want := range []string{
		"https://onecallvoicerecord.dtac.co.th/api/login:",   // the URL without its query
		"https://acme.3cx.co.th/connect/token:",              // without the user info
		"https://storage.example.com/crk-audio/b1/rec-1.wav", // the presigned URL without its signature
		"client\uff3fsecret=(redacted)",                      // scrubbed, then stripped of markup
		"Bearer (redacted)",
	} {
		if !strings.Contains(bodies, want) {
			t.Errorf("the messages do not show %q:\n%s", want, bodies)
		}
	}
}

// TestSendTest: -send-test-alert sends one info message at once, queues
// nothing, and says why when it cannot.
func TestSendTest(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	if err := e.al.SendTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := e.delivered()
	if len(msgs) != 1 || msgs[0].Severity != "info" || msgs[0].Title != "syncd: test alert" || msgs[0].ChatID != chatA || msgs[0].Link != telegram.Link {
		t.Fatalf("delivered %+v", msgs)
	}
	e.crk.FailDeliveries(1)
	err := e.al.SendTest(context.Background())
	if !errors.Is(err, sink.ErrDeliveryFailed) ||
		err.Error() != "sending a test alert to telegram chat "+chatA+": crk notify: the telegram delivery failed: Telegram API error: 502 Bad Gateway" {
		t.Fatalf("SendTest: %v", err)
	}
	if got, failed := e.metric("syncd_alerts_sent_total", "kind", alert.KindTest), e.metric("syncd_alerts_failed_total"); got != 1 || failed != 1 {
		t.Errorf("sent{test} %v, failed %v", got, failed)
	}
	e.pass(ok("dtac"))
	if n := e.crk.Count(fakecrk.EndpointNotify); n != 2 {
		t.Errorf("%d sends: a failed test message must not be queued", n)
	}
}

// TestCheck is -test-connection's check: the token holds
// manage_notifications, and the configured chat or webhook is among the
// destinations, whatever their shape. It sends nothing.
func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		cfg     alert.Config
		token   string
		b       fakecrk.GatewayBehaviour
		wantErr string
		is      error
	}{
		{name: "telegram, nested destinations", cfg: telegram, token: tokAlerts},
		{name: "telegram, flat destinations", cfg: telegram, token: tokNotify, b: fakecrk.GatewayBehaviour{FlatDestinations: true}},
		{name: "discord, numeric ids", cfg: alert.Config{Channel: "discord", WebhookID: webhookA}, token: tokAlerts, b: fakecrk.GatewayBehaviour{NumericIDs: true}},
		{name: "discord, flat, numeric ids", cfg: alert.Config{Channel: "discord", WebhookID: webhookA}, token: tokAlerts, b: fakecrk.GatewayBehaviour{FlatDestinations: true, NumericIDs: true}},
		{name: "in_app needs no destination", cfg: alert.Config{Channel: "in_app"}, token: tokNotify, b: fakecrk.GatewayBehaviour{ReadNeedsView: true}},
		{name: "account key", cfg: telegram, token: tokAccount},
		{name: "no manage_notifications", cfg: telegram, token: tokIngest,
			wantErr: "the CRK token lacks the scope manage_notifications that alerting needs (it has: manage_call_recording): create a token with it, or unset SYNCD_ALERT_CHANNEL"},
		{name: "no manage_notifications, in_app", cfg: alert.Config{Channel: "in_app"}, token: tokIngest,
			wantErr: "the CRK token lacks the scope manage_notifications that alerting needs (it has: manage_call_recording): create a token with it, or unset SYNCD_ALERT_CHANNEL"},
		{name: "unknown chat", cfg: alert.Config{Channel: "telegram", ChatID: "-1001234567890"}, token: tokAlerts,
			wantErr: `SYNCD_ALERT_CHAT_ID "-1001234567890" is not among the notification destinations of this business: take the id from GET /notifications/destinations (or GET /telegram/chats for a Telegram chat)`},
		{name: "webhook of another business", cfg: alert.Config{Channel: "discord", WebhookID: "2001"}, token: tokAlerts, b: fakecrk.GatewayBehaviour{FlatDestinations: true},
			wantErr: `SYNCD_ALERT_WEBHOOK_ID "2001" is not among the notification destinations of this business: take the id from GET /notifications/destinations (or GET /telegram/chats for a Telegram chat)`},
		{name: "destinations need view_notifications", cfg: telegram, token: tokNotify, b: fakecrk.GatewayBehaviour{ReadNeedsView: true}, is: alert.ErrUnverifiable,
			wantErr: `the notification destination could not be checked: the token may not list notification destinations (give it view_notifications too), so SYNCD_ALERT_CHAT_ID "` + chatA + `" was not checked: crk destinations: 403 insufficient_scope: Token lacks 'view_notifications'`},
		{name: "revoked token", cfg: telegram, token: tokRevoked, is: sink.ErrTokenDisabled,
			wantErr: "checking the CRK token: crk whoami: 401 token_disabled: Token has been revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg, tt.token, nil)
			e.crk.SetGatewayBehaviour(tt.b)
			err := e.al.Check(context.Background())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("Check:\n got %q\nwant %q", got, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v is not %v", err, tt.is)
			}
			noSecret(t, "Check's error", got)
			if n := e.crk.Count(fakecrk.EndpointNotify); n != 0 {
				t.Errorf("Check sent %d messages", n)
			}
			if tt.cfg.Channel == "in_app" && e.crk.Count(fakecrk.EndpointDestinations) != 0 {
				t.Errorf("Check listed destinations for in_app")
			}
		})
	}
}

func TestNew(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	gw, err := sink.New(sink.Config{BaseURL: e.crk.URL(), Token: tokAlerts}, sink.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	full := alert.Deps{Gateway: gw, Store: e.store}
	tests := []struct {
		name    string
		cfg     alert.Config
		deps    alert.Deps
		wantErr string
	}{
		{"telegram", telegram, full, ""},
		{"discord", alert.Config{Channel: "discord", WebhookID: "1"}, full, ""},
		{"in_app, After defaults", alert.Config{Channel: "in_app"}, full, ""},
		{"off", alert.Config{}, full, "alert: no channel: alerting is off"},
		{"unknown channel", alert.Config{Channel: "sms"}, full, `alert: unknown channel "sms"`},
		{"telegram without chat", alert.Config{Channel: "telegram", WebhookID: "1"}, full, "alert: channel telegram needs a chat id"},
		{"discord without webhook", alert.Config{Channel: "discord", ChatID: "1"}, full, "alert: channel discord needs a webhook id"},
		{"relative link", alert.Config{Channel: "in_app", Link: "/runbook"}, full, "alert: the link is not an absolute http(s) URL"},
		{"negative After", alert.Config{Channel: "in_app", After: -1}, full, "alert: After is -1, want 1 or more"},
		{"no gateway", alert.Config{Channel: "in_app"}, alert.Deps{Store: e.store}, "alert: a gateway is required"},
		{"no store: checks only", alert.Config{Channel: "in_app"}, alert.Deps{Gateway: gw}, ""},
		{"metrics registered twice", alert.Config{Channel: "in_app"}, alert.Deps{Shared: deps.Shared{Registerer: e.reg}, Gateway: gw, Store: e.store},
			`alert: registering metrics: duplicate metrics collector registration attempted`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			al, err := alert.New(tt.cfg, tt.deps)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr || (err == nil) != (al != nil) {
				t.Fatalf("New: %v, %q; want %q", al, got, tt.wantErr)
			}
		})
	}
}

// TestDefaultAfter: After 0 alerts at the third failure in a row.
func TestDefaultAfter(t *testing.T) {
	e := newEnv(t, alert.Config{Channel: "in_app"}, tokAlerts, nil)
	e.pass(failed("dtac", loginRefused("dtac")))
	e.pass(failed("dtac", loginRefused("dtac")))
	if n := len(e.crk.Messages()); n != 0 {
		t.Fatalf("%d messages after 2 failures", n)
	}
	e.pass(failed("dtac", loginRefused("dtac")))
	if msgs := e.delivered(); len(msgs) != 1 || msgs[0].Channel != "in_app" {
		t.Fatalf("delivered %+v", msgs)
	}
}

// TestPlainWords: the last error is said in plain words before its text.
func TestPlainWords(t *testing.T) {
	timeout := &timeoutError{}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("listing dtac: %w", connectors.ErrAuth), "the phone system refused syncd's login"},
		{fmt.Errorf("listing 3cx: %w", connectors.ErrForbidden), "the phone system accepted the login but does not let this account read recordings"},
		{fmt.Errorf("listing dtac: %w", timeout), "the phone system did not answer in time"},
		{fmt.Errorf("listing dtac: %w", context.DeadlineExceeded), "the phone system did not answer in time"},
		{fmt.Errorf("listing dtac: dial: %w", &netError{}), "the phone system could not be reached"},
		{fmt.Errorf("pass of dtac stopped: %w", &sink.APIError{Endpoint: "create", Status: 403, Code: "forbidden_business"}), "CRK refused syncd's API key or business id"},
		{fmt.Errorf("pass of dtac stopped: %w", &sink.NetError{Endpoint: "create", Err: errors.New("connection refused")}), "CRK could not be reached"},
		{fmt.Errorf("pass of dtac stopped: %w", &sink.APIError{Endpoint: "create", Status: 502}), "CRK answered with an error"},
		{errors.New("saving the cursor of dtac: disk full"), "the pass failed"},
	}
	for i, tt := range tests {
		source := fmt.Sprintf("src%d", i)
		e := newEnv(t, alert.Config{Channel: "in_app", After: 1}, tokAlerts, nil)
		e.pass(failed(source, tt.err))
		msgs := e.delivered()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "Last error: "+tt.want) {
			t.Errorf("%v: delivered %+v, want %q", tt.err, msgs, tt.want)
		}
	}
}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

type netError struct{}

func (*netError) Error() string   { return "connection refused" }
func (*netError) Timeout() bool   { return false }
func (*netError) Temporary() bool { return false }

// TestAfterPassWhenStopping: with its context ended (the daemon stopping
// after its grace period), AfterPass still records what the passes did but
// delivers nothing; the next run delivers it.
func TestAfterPassWhenStopping(t *testing.T) {
	cfg := telegram
	cfg.After = 1
	e := newEnv(t, cfg, tokAlerts, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.round(ctx, e.al, []syncer.Result{{Source: "dtac", Err: loginRefused("dtac")}})
	if n := e.crk.Count(fakecrk.EndpointNotify); n != 0 {
		t.Fatalf("%d sends with an ended context", n)
	}
	if got := e.metric("syncd_incidents_open"); got != 1 {
		t.Errorf("syncd_incidents_open = %v", got)
	}
	e.restart()
	e.pass(failed("dtac", loginRefused("dtac")))
	if msgs := e.delivered(); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "failed to sync call recordings from DTAC One Call (dtac) 1 pass in a row") {
		t.Fatalf("delivered %+v", msgs)
	}
}

// TestChecksWithoutState: an Alerter built without a state file (as
// -test-connection builds it, beside a running daemon) checks and sends a
// test message, and its AfterPass does nothing.
func TestChecksWithoutState(t *testing.T) {
	e := newEnv(t, telegram, tokAlerts, nil)
	gw, err := sink.New(sink.Config{BaseURL: e.crk.URL(), Token: tokAlerts}, sink.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	al, err := alert.New(telegram, alert.Deps{Gateway: gw})
	if err != nil {
		t.Fatal(err)
	}
	if err := al.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := al.SendTest(context.Background()); err != nil {
		t.Fatalf("SendTest: %v", err)
	}
	al.AfterPass(context.Background(), []syncer.Result{{Source: "dtac", Err: loginRefused("dtac")}})
	if msgs := e.crk.Messages(); len(msgs) != 1 || msgs[0].Title != "syncd: test alert" {
		t.Fatalf("messages %+v", msgs)
	}
	if got := al.Destination(); got != "telegram chat "+chatA {
		t.Errorf("Destination() = %q", got)
	}
}
