package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

const (
	tokNotify     = "crk_notify_1f2e3d4c5b6a" // business A: manage_notifications
	tokNotifyView = "crk_nview_6a5b4c3d2e1f"  // business A: view_notifications
	chatRow       = "9f3c1a2b-0000-4000-8000-000000000001"
	webhookRow    = "77"
)

// startGateway is the fake with notification keys, a Telegram chat and a
// Discord webhook in business A.
func startGateway(t *testing.T) *fakecrk.Server {
	t.Helper()
	return startFake(t, func(o *fakecrk.Options) {
		o.Tokens[tokNotify] = fakecrk.Token{BusinessID: fakecrk.BizA, Scopes: []string{fakecrk.ScopeManageNotifications}}
		o.Tokens[tokNotifyView] = fakecrk.Token{BusinessID: fakecrk.BizA, Scopes: []string{fakecrk.ScopeViewNotifications}}
		o.TelegramChats = []fakecrk.TelegramChat{{BusinessID: fakecrk.BizA, ID: chatRow, ChatID: -100123, Title: "Ops"}}
		o.DiscordWebhooks = []fakecrk.DiscordWebhook{{BusinessID: fakecrk.BizA, ID: webhookRow, Name: "alerts"}}
	})
}

// TestNotifyJSON: the exact body and headers the gateway gets for each
// channel, and what it delivered.
func TestNotifyJSON(t *testing.T) {
	tests := []struct {
		name  string
		token string
		biz   string
		n     sink.Notification
		want  map[string]any
	}{
		{
			name: "telegram", token: tokNotify,
			n: sink.Notification{Channel: sink.ChannelTelegram, ChatID: chatRow, Title: "syncd: dtac is failing",
				Body: "ไม่สามารถเข้าสู่ระบบ", Link: "https://wiki.example.com/runbook", Severity: "critical"},
			want: map[string]any{"channel": "telegram", "chatId": chatRow, "title": "syncd: dtac is failing",
				"body": "ไม่สามารถเข้าสู่ระบบ", "link": "https://wiki.example.com/runbook", "severity": "critical"},
		},
		{
			name: "discord", token: tokNotify,
			n:    sink.Notification{Channel: sink.ChannelDiscord, WebhookID: webhookRow, Title: "t", Body: "b", Severity: "warning"},
			want: map[string]any{"channel": "discord", "webhookId": webhookRow, "title": "t", "body": "b", "severity": "warning"},
		},
		{
			name: "in_app through an account key", token: fakecrk.TokAccount, biz: fakecrk.BizA,
			n:    sink.Notification{Channel: sink.ChannelInApp, Title: "t", Body: "b", Severity: "info"},
			want: map[string]any{"channel": "in_app", "title": "t", "body": "b", "severity": "info"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startGateway(t)
			base, rc := record(t, srv)
			c := newClient(t, base, tt.token, func(c *sink.Config, d *sink.Deps) { c.BusinessID = tt.biz })
			if err := c.Notify(t.Context(), tt.n); err != nil {
				t.Fatal(err)
			}
			sent := rc.requests(http.MethodPost, "/api/v1/notifications/send")
			if len(sent) != 1 {
				t.Fatalf("%d sends", len(sent))
			}
			var got map[string]any
			if err := json.Unmarshal(sent[0].Body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body\n got %s\nwant %v", sent[0].Body, tt.want)
			}
			if h := sent[0].Header; h.Get("Authorization") != "Bearer "+tt.token || h.Get("X-Business-Id") != tt.biz ||
				h.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", h)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || !msgs[0].Delivered || msgs[0].Title != tt.n.Title || msgs[0].Body != tt.n.Body || msgs[0].BusinessID != fakecrk.BizA {
				t.Errorf("delivered %+v", msgs)
			}
		})
	}
}

// TestNotifyDeliveryFailure: {"ok": false} is a *DeliveryError that says
// why, and is not retried in the request; the next send goes through.
func TestNotifyDeliveryFailure(t *testing.T) {
	srv := startGateway(t)
	c := newClient(t, srv.URL(), tokNotify, nil)
	n := sink.Notification{Channel: sink.ChannelTelegram, ChatID: chatRow, Title: "t", Body: "b", Severity: "critical"}
	srv.FailDeliveriesWith(1, "Telegram API error: 429 Too Many Requests: retry after 5")
	err := c.Notify(t.Context(), n)
	var de *sink.DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, sink.ErrDeliveryFailed) || de.Channel != "telegram" ||
		err.Error() != "crk notify: the telegram delivery failed: Telegram API error: 429 Too Many Requests: retry after 5" {
		t.Fatalf("notify: %v (%T)", err, err)
	}
	if sink.Permanent(err) || sink.IsAuth(err) {
		t.Errorf("a delivery failure is none of the API's error classes: %v", err)
	}
	if n := srv.Count(fakecrk.EndpointNotify); n != 1 {
		t.Fatalf("%d sends, want 1: a delivery failure is not retried in the request", n)
	}
	if err := c.Notify(t.Context(), n); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if msgs := srv.Messages(); len(msgs) != 2 || msgs[0].Delivered || !msgs[1].Delivered {
		t.Fatalf("messages %+v", msgs)
	}
}

// TestNotifyErrors: the gateway's HTTP errors are typed APIErrors; a send
// is retried only where it surely did not act.
func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		n        sink.Notification
		fail     int // FailNext status, 0 none
		failN    int
		status   int
		code     string
		sentinel error
		requests int
		ok       bool // delivered in the end
	}{
		{name: "unknown chat", token: tokNotify, n: sink.Notification{Channel: "telegram", ChatID: "nope", Title: "t", Body: "b"},
			status: 404, code: "chat_not_found", requests: 1},
		{name: "unknown webhook", token: tokNotify, n: sink.Notification{Channel: "discord", WebhookID: "nope", Title: "t", Body: "b"},
			status: 404, code: "discord_webhook_not_found", requests: 1},
		{name: "invalid payload", token: tokNotify, n: sink.Notification{Channel: "telegram", Title: "t", Body: "b"},
			status: 422, code: "validation_failed", sentinel: sink.ErrValidation, requests: 1},
		{name: "no scope", token: tokNotifyView, n: sink.Notification{Channel: "in_app", Title: "t", Body: "b"},
			status: 403, code: "insufficient_scope", sentinel: sink.ErrInsufficientScope, requests: 1},
		{name: "revoked token", token: fakecrk.TokOff, n: sink.Notification{Channel: "in_app", Title: "t", Body: "b"},
			status: 401, code: "token_disabled", sentinel: sink.ErrTokenDisabled, requests: 1},
		{name: "server fault is not retried (the send may have gone out)", token: tokNotify,
			n: sink.Notification{Channel: "in_app", Title: "t", Body: "b"}, fail: 500, failN: 1,
			status: 500, code: "internal_error", sentinel: sink.ErrInternal, requests: 1},
		{name: "rate limited is retried", token: tokNotify, n: sink.Notification{Channel: "in_app", Title: "t", Body: "b"},
			fail: 429, failN: 2, requests: 3, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startGateway(t)
			srv.FailNext(fakecrk.EndpointNotify, tt.fail, tt.failN)
			c := newClient(t, srv.URL(), tt.token, nil)
			err := c.Notify(t.Context(), tt.n)
			noSecret(t, "error", errText(err), tokNotify, tokNotifyView)
			if n := srv.Count(fakecrk.EndpointNotify); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if tt.ok {
				if err != nil || len(srv.Messages()) != 1 {
					t.Fatalf("notify: %v, messages %+v", err, srv.Messages())
				}
				return
			}
			ae := apiError(t, err)
			if ae.Status != tt.status || ae.Code != tt.code || ae.Endpoint != "notify" {
				t.Errorf("error %+v", ae)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v is not %v", err, tt.sentinel)
			}
			if errors.Is(err, sink.ErrDeliveryFailed) {
				t.Errorf("an HTTP error is a delivery failure: %v", err)
			}
		})
	}
}

// TestNotifyAnswers: answers the fake does not give.
func TestNotifyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "ok with extra fields", body: `{"ok":true,"id":17,"deliveredAt":"2026-05-20T01:00:00Z"}`},
		{name: "no ok field", body: `{"id":"n-1"}`},
		{name: "201", status: 201, body: `{"ok":true}`},
		{name: "204", status: 204},
		{name: "failure without a reason", body: `{"ok":false}`, wantErr: "crk notify: the discord delivery failed: no reason given"},
		{name: "failure with a null reason", body: `{"ok":false,"error":null}`, wantErr: "crk notify: the discord delivery failed: no reason given"},
		{name: "failure with an object reason", body: `{"ok":false,"error":{"code":50027,"message":"Invalid Webhook Token"}}`,
			wantErr: `crk notify: the discord delivery failed: {"code":50027,"message":"Invalid Webhook Token"}`},
		{name: "failure naming the webhook URL", body: `{"ok":false,"error":"POST https://discord.com/api/webhooks/123/s3cretT0ken?wait=true: 401 Unauthorized"}`,
			wantErr: "crk notify: the discord delivery failed: POST https://discord.com: 401 Unauthorized"},
		// The success body is undocumented: only an explicit "ok": false is
		// a failed delivery. Counting anything else as one would send the
		// same message again and again.
		{name: "ok of another type", body: `{"ok":"yes"}`},
		{name: "not JSON", body: `<html>ok</html>`},
		{name: "empty 200", body: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := stub(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/notifications/send" || r.Method != http.MethodPost {
					http.Error(w, "unexpected request", http.StatusTeapot)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(max(tt.status, 200))
				_, _ = w.Write([]byte(tt.body))
			})
			c := newClient(t, base, tokHTTPTest, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 1 })
			err := c.Notify(t.Context(), sink.Notification{Channel: sink.ChannelDiscord, WebhookID: "1", Title: "t", Body: "b"})
			if got := errText(err); got != tt.wantErr {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
			noSecret(t, "error", errText(err), "s3cretT0ken")
		})
	}
}

// TestNotifySharesTheLimiter: a send waits for the rate limiter it shares
// with ingest like every other CRK call.
func TestNotifySharesTheLimiter(t *testing.T) {
	srv := startGateway(t)
	limiter := sink.NewLimiter(1)
	ingest := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { d.Limiter = limiter })
	alerts := newClient(t, srv.URL(), tokNotify, func(c *sink.Config, d *sink.Deps) { d.Limiter = limiter })
	if _, err := ingest.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := alerts.Notify(ctx, sink.Notification{Channel: "in_app", Title: "t", Body: "b"})
	if err == nil || !strings.HasPrefix(err.Error(), "crk notify: waiting for the rate limiter: ") {
		t.Fatalf("notify: %v", err)
	}
	if n := srv.Count(fakecrk.EndpointNotify); n != 0 {
		t.Fatalf("%d sends past the limiter", n)
	}
}

// TestNotifyMetrics: sends and destination reads are counted by endpoint.
func TestNotifyMetrics(t *testing.T) {
	srv := startGateway(t)
	reg := prometheus.NewRegistry()
	c := newClient(t, srv.URL(), tokNotify, func(c *sink.Config, d *sink.Deps) { d.Registerer = reg })
	srv.FailDeliveries(1)
	_ = c.Notify(t.Context(), sink.Notification{Channel: "telegram", ChatID: chatRow, Title: "t", Body: "b"})
	_ = c.Notify(t.Context(), sink.Notification{Channel: "telegram", ChatID: "nope", Title: "t", Body: "b"})
	if _, err := c.Destinations(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP syncd_crk_requests_total Requests to the CRK API and its storage, by endpoint and HTTP status ("error" when no answer came).
# TYPE syncd_crk_requests_total counter
syncd_crk_requests_total{code="200",endpoint="destinations"} 1
syncd_crk_requests_total{code="200",endpoint="notify"} 1
syncd_crk_requests_total{code="404",endpoint="notify"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "syncd_crk_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestDestinations: the answer comes back as it was, whatever its shape,
// and DestinationHas finds the configured ids in each.
func TestDestinations(t *testing.T) {
	for _, b := range []fakecrk.GatewayBehaviour{{}, {FlatDestinations: true}, {NumericIDs: true}, {FlatDestinations: true, NumericIDs: true}} {
		srv := startGateway(t)
		srv.SetGatewayBehaviour(b)
		for _, tok := range []string{tokNotify, tokNotifyView} {
			c := newClient(t, srv.URL(), tok, nil)
			raw, err := c.Destinations(t.Context())
			if err != nil {
				t.Fatalf("%+v: %v", b, err)
			}
			for id, want := range map[string]bool{chatRow: true, webhookRow: true, "-100123": false, "Ops": false, "": false} {
				if got := sink.DestinationHas(raw, id); got != want {
					t.Errorf("%+v: DestinationHas(%s, %q) = %v", b, raw, id, got)
				}
			}
		}
	}

	srv := startGateway(t)
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
	if _, err := c.Destinations(t.Context()); !errors.Is(err, sink.ErrInsufficientScope) {
		t.Fatalf("without a notification scope: %v", err)
	}
	srv.FailNext(fakecrk.EndpointDestinations, 503, 1)
	n := newClient(t, srv.URL(), tokNotify, nil)
	if _, err := n.Destinations(t.Context()); err != nil {
		t.Fatalf("a read is retried after a 503: %v", err)
	}
	if got := srv.Count(fakecrk.EndpointDestinations); got != 3 {
		t.Errorf("%d destination reads, want 3", got)
	}
}

func TestDestinationHas(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		id   string
		want bool
	}{
		{"nested string", `{"telegram":{"chats":[{"id":"c1","title":"x"}]}}`, "c1", true},
		{"nested number", `{"discord":{"webhooks":[{"id":42,"name":"x"}]}}`, "42", true},
		{"large number keeps its digits", `{"items":[{"id":9007199254740993}]}`, "9007199254740993", true},
		{"flat", `{"items":[{"id":"w1","kind":"discord"}]}`, "w1", true},
		{"top-level array", `[{"id":"a"},{"id":"b"}]`, "b", true},
		{"deep", `{"a":{"b":[[{"c":{"d":[{"id":"deep"}]}}]]}}`, "deep", true},
		{"object that also has children", `{"id":"parent","children":[{"id":"child"}]}`, "child", true},
		{"top-level object id", `{"id":"self"}`, "self", true},
		{"not an id field", `{"items":[{"chatId":"c1","webhookId":"c1","name":"c1"}]}`, "c1", false},
		{"a string element is no object", `{"ids":["c1"]}`, "c1", false},
		{"id of another type", `{"items":[{"id":true},{"id":null},{"id":["c1"]}]}`, "c1", false},
		{"different id", `{"items":[{"id":"c2"}]}`, "c1", false},
		{"case matters", `{"items":[{"id":"C1"}]}`, "c1", false},
		{"empty id never matches", `{"items":[{"id":""}]}`, "", false},
		{"empty answer", ``, "c1", false},
		{"not JSON", `<html>c1</html>`, "c1", false},
		{"empty object", `{}`, "c1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sink.DestinationHas(json.RawMessage(tt.raw), tt.id); got != tt.want {
				t.Errorf("DestinationHas(%s, %q) = %v, want %v", tt.raw, tt.id, got, tt.want)
			}
		})
	}
}
