package fakecrk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const (
	tokNotify     = "crk_notify_8a8b8c"     // business A: manage_notifications
	tokNotifyView = "crk_notifyview_9a9b9c" // business A: view_notifications
	tokNotifyB    = "crk_notifyb_0d0e0f"    // business B: manage_notifications

	chatA    = "11111111-2222-4333-8444-555555555555"
	chatB    = "c-b-1"
	hookA    = "wh-a-1"
	hookNumA = "4242"
)

// startGateway runs a fake with the standard keys, notification keys, a
// Telegram chat and two Discord webhooks in business A, and a chat in B.
func startGateway(t *testing.T) *Server {
	t.Helper()
	s, _ := start(t, func(o *Options) {
		o.Tokens[tokNotify] = Token{BusinessID: BizA, Scopes: []string{ScopeManageNotifications}}
		o.Tokens[tokNotifyView] = Token{BusinessID: BizA, Scopes: []string{ScopeViewNotifications}}
		o.Tokens[tokNotifyB] = Token{BusinessID: BizB, Scopes: []string{ScopeManageNotifications}}
		o.TelegramChats = []TelegramChat{
			{BusinessID: BizA, ID: chatA, ChatID: -1001234567890, Title: "Acme ops"},
			{BusinessID: BizB, ID: chatB, ChatID: -1009, Title: "Support", Inactive: true},
		}
		o.DiscordWebhooks = []DiscordWebhook{{BusinessID: BizA, ID: hookA, Name: "alerts"}}
	})
	s.AddDiscordWebhook(DiscordWebhook{BusinessID: BizA, ID: hookNumA, Name: "numbers"})
	return s
}

func TestNotifySend(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		biz    string
		body   string
		status int
		code   string // error code, or "" for {"ok":true}
		want   *Message
	}{
		{name: "telegram", token: tokNotify,
			body:   `{"channel":"telegram","chatId":"` + chatA + `","title":"T","body":"B","link":"https://runbook.example.com/x?y=1","severity":"critical"}`,
			status: 200, want: &Message{BusinessID: BizA, Channel: "telegram", ChatID: chatA, Title: "T", Body: "B", Link: "https://runbook.example.com/x?y=1", Severity: "critical", Delivered: true}},
		{name: "discord, numeric id", token: tokNotify,
			body:   `{"channel":"discord","webhookId":4242,"title":"T","body":"B","severity":"warning"}`,
			status: 200, want: &Message{BusinessID: BizA, Channel: "discord", WebhookID: hookNumA, Title: "T", Body: "B", Severity: "warning", Delivered: true}},
		{name: "in_app without severity", token: tokNotify, body: `{"channel":"in_app","title":"T","body":"B"}`,
			status: 200, want: &Message{BusinessID: BizA, Channel: "in_app", Title: "T", Body: "B", Delivered: true}},
		{name: "account key naming business A", token: TokAccount, biz: BizA, body: `{"channel":"discord","webhookId":"` + hookA + `","title":"T","body":"B","severity":"info"}`,
			status: 200, want: &Message{BusinessID: BizA, Channel: "discord", WebhookID: hookA, Title: "T", Body: "B", Severity: "info", Delivered: true}},

		{name: "not JSON", token: tokNotify, body: `hello`, status: 422, code: "validation_failed"},
		{name: "JSON array", token: tokNotify, body: `[]`, status: 422, code: "validation_failed"},
		{name: "no channel", token: tokNotify, body: `{"title":"T","body":"B"}`, status: 422, code: "validation_failed"},
		{name: "unknown channel", token: tokNotify, body: `{"channel":"sms","title":"T","body":"B"}`, status: 422, code: "validation_failed"},
		{name: "telegram without chatId", token: tokNotify, body: `{"channel":"telegram","title":"T","body":"B"}`, status: 422, code: "validation_failed"},
		{name: "discord without webhookId", token: tokNotify, body: `{"channel":"discord","chatId":"` + chatA + `","title":"T","body":"B"}`, status: 422, code: "validation_failed"},
		{name: "empty title", token: tokNotify, body: `{"channel":"in_app","title":" ","body":"B"}`, status: 422, code: "validation_failed"},
		{name: "no body", token: tokNotify, body: `{"channel":"in_app","title":"T"}`, status: 422, code: "validation_failed"},
		{name: "title not a string", token: tokNotify, body: `{"channel":"in_app","title":5,"body":"B"}`, status: 422, code: "validation_failed"},
		{name: "relative link", token: tokNotify, body: `{"channel":"in_app","title":"T","body":"B","link":"/runbook"}`, status: 422, code: "validation_failed"},
		{name: "unknown severity", token: tokNotify, body: `{"channel":"in_app","title":"T","body":"B","severity":"fatal"}`, status: 422, code: "validation_failed"},
		{name: "chatId of an object", token: tokNotify, body: `{"channel":"telegram","chatId":{},"title":"T","body":"B"}`, status: 422, code: "validation_failed"},

		{name: "unknown chat", token: tokNotify, body: `{"channel":"telegram","chatId":"nope","title":"T","body":"B"}`, status: 404, code: "chat_not_found"},
		{name: "chat of another business", token: tokNotify, body: `{"channel":"telegram","chatId":"` + chatB + `","title":"T","body":"B"}`, status: 404, code: "chat_not_found"},
		{name: "unknown webhook", token: tokNotify, body: `{"channel":"discord","webhookId":"nope","title":"T","body":"B"}`, status: 404, code: "discord_webhook_not_found"},
		{name: "webhook of another business", token: tokNotifyB, body: `{"channel":"discord","webhookId":"` + hookA + `","title":"T","body":"B"}`, status: 404, code: "discord_webhook_not_found"},

		{name: "no notification scope", token: TokFull, body: `{"channel":"in_app","title":"T","body":"B"}`, status: 403, code: "insufficient_scope"},
		{name: "view scope only", token: tokNotifyView, body: `{"channel":"in_app","title":"T","body":"B"}`, status: 403, code: "insufficient_scope"},
		{name: "revoked key", token: TokOff, body: `{"channel":"in_app","title":"T","body":"B"}`, status: 401, code: "token_disabled"},
		{name: "account key without business", token: TokAccount, body: `{"channel":"in_app","title":"T","body":"B"}`, status: 400, code: "business_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startGateway(t)
			a := do(t, s, client(t, false), call{method: "POST", path: "/notifications/send", token: tt.token, business: tt.biz, body: tt.body})
			if a.status != tt.status {
				t.Fatalf("status %d %s, want %d", a.status, a.body, tt.status)
			}
			msgs := s.Messages()
			if tt.code != "" {
				if got := a.apiError(t).Code; got != tt.code {
					t.Errorf("code %q, want %q", got, tt.code)
				}
				if len(msgs) != 0 {
					t.Errorf("a refused send was recorded: %+v", msgs)
				}
				return
			}
			var ok notifyResponse
			a.decode(t, &ok)
			if !ok.OK || ok.ID == "" || ok.Error != "" {
				t.Errorf("answer %s", a.body)
			}
			if len(msgs) != 1 {
				t.Fatalf("messages %+v", msgs)
			}
			got := msgs[0]
			if got.At.IsZero() {
				t.Errorf("message without a time")
			}
			got.At = (*tt.want).At
			if !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("message\n got %+v\nwant %+v", got, *tt.want)
			}
		})
	}
}

// TestFailDeliveries: the next n Telegram/Discord sends answer 200
// {"ok":false}; in-app sends are not affected and do not use them up.
func TestFailDeliveries(t *testing.T) {
	s := startGateway(t)
	c := client(t, true)
	send := func(body string) notifyResponse {
		t.Helper()
		a := do(t, s, c, call{method: "POST", path: "/notifications/send", token: tokNotify, body: body})
		if a.status != http.StatusOK {
			t.Fatalf("status %d %s", a.status, a.body)
		}
		var r notifyResponse
		a.decode(t, &r)
		return r
	}
	tg := `{"channel":"telegram","chatId":"` + chatA + `","title":"T","body":"B"}`
	dc := `{"channel":"discord","webhookId":"` + hookA + `","title":"T","body":"B"}`
	in := `{"channel":"in_app","title":"T","body":"B"}`

	s.FailDeliveries(2)
	if r := send(in); !r.OK {
		t.Fatalf("in_app: %+v", r)
	}
	if r := send(tg); r.OK || r.Error != defaultDeliveryFail {
		t.Fatalf("telegram: %+v", r)
	}
	s.FailDeliveriesWith(1, "Discord API error: 404 Unknown Webhook")
	if r := send(dc); r.OK || r.Error != "Discord API error: 404 Unknown Webhook" {
		t.Fatalf("discord: %+v", r)
	}
	if r := send(tg); !r.OK {
		t.Fatalf("after the failures: %+v", r)
	}
	var delivered []bool
	for _, m := range s.Messages() {
		delivered = append(delivered, m.Delivered)
	}
	if want := []bool{true, false, false, true}; !reflect.DeepEqual(delivered, want) {
		t.Errorf("delivered %v, want %v", delivered, want)
	}
	if n := s.Requests(EndpointNotify, 200); n != 4 {
		t.Errorf("%d answers 200, want 4", n)
	}
}

// TestNotifyFaults: FailNext and DropNext apply to the gateway endpoints;
// an injected failure sends nothing.
func TestNotifyFaults(t *testing.T) {
	s := startGateway(t)
	c := client(t, true)
	in := call{method: "POST", path: "/notifications/send", token: tokNotify, body: `{"channel":"in_app","title":"T","body":"B"}`}
	s.FailNext(EndpointNotify, 500, 1)
	s.FailNext(EndpointDestinations, 429, 1)
	if a := do(t, s, c, in); a.status != 500 || a.apiError(t).Code != "internal_error" {
		t.Fatalf("send: %d %s", a.status, a.body)
	}
	if a := do(t, s, c, call{method: "GET", path: "/notifications/destinations", token: tokNotify}); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Fatalf("destinations: %d %s", a.status, a.body)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages after an injected failure", n)
	}
	s.DropNext(EndpointNotify, 1)
	if _, err := try(s, c, in); err == nil {
		t.Fatal("a dropped send answered")
	}
	if msgs := s.Messages(); len(msgs) != 1 || !msgs[0].Delivered {
		t.Fatalf("a dropped send does its work: %+v", msgs)
	}
	if a := do(t, s, c, in); a.status != 200 {
		t.Fatalf("after the faults: %d %s", a.status, a.body)
	}
	if n := s.Count(EndpointNotify); n != 3 {
		t.Errorf("Count(notify) = %d, want 3", n)
	}
}

func TestDestinations(t *testing.T) {
	tests := []struct {
		name  string
		b     GatewayBehaviour
		token string
		want  string
	}{
		{name: "nested (default)", token: tokNotify,
			want: `{"telegram":{"chats":[{"id":"` + chatA + `","chatId":-1001234567890,"title":"Acme ops","isActive":true}]},` +
				`"discord":{"webhooks":[{"id":"wh-a-1","name":"alerts"},{"id":"4242","name":"numbers"}]}}`},
		{name: "nested, numeric ids", token: tokNotify, b: GatewayBehaviour{NumericIDs: true},
			want: `{"telegram":{"chats":[{"id":"` + chatA + `","chatId":-1001234567890,"title":"Acme ops","isActive":true}]},` +
				`"discord":{"webhooks":[{"id":"wh-a-1","name":"alerts"},{"id":4242,"name":"numbers"}]}}`},
		{name: "flat", token: tokNotifyView, b: GatewayBehaviour{FlatDestinations: true},
			want: `{"items":[{"id":"` + chatA + `","kind":"telegram","name":"Acme ops"},{"id":"wh-a-1","kind":"discord","name":"alerts"},{"id":"4242","kind":"discord","name":"numbers"}]}`},
		{name: "flat, numeric ids", token: tokNotify, b: GatewayBehaviour{FlatDestinations: true, NumericIDs: true},
			want: `{"items":[{"id":"` + chatA + `","kind":"telegram","name":"Acme ops"},{"id":"wh-a-1","kind":"discord","name":"alerts"},{"id":4242,"kind":"discord","name":"numbers"}]}`},
		{name: "another business", token: tokNotifyB,
			want: `{"telegram":{"chats":[{"id":"c-b-1","chatId":-1009,"title":"Support","isActive":false}]},"discord":{"webhooks":[]}}`},
		{name: "another business, flat", token: tokNotifyB, b: GatewayBehaviour{FlatDestinations: true},
			want: `{"items":[{"id":"c-b-1","kind":"telegram","name":"Support"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startGateway(t)
			s.SetGatewayBehaviour(tt.b)
			a := do(t, s, client(t, false), call{method: "GET", path: "/notifications/destinations", token: tt.token})
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if !jsonEqual(t, a.body, tt.want) {
				t.Errorf("body\n got %s\nwant %s", a.body, tt.want)
			}
		})
	}
}

func TestTelegramChats(t *testing.T) {
	s := startGateway(t)
	c := client(t, true)
	a := do(t, s, c, call{method: "GET", path: "/telegram/chats", token: TokAccount, business: BizB})
	if want := `{"items":[{"id":"c-b-1","chatId":-1009,"title":"Support","isActive":false}]}`; a.status != 200 || !jsonEqual(t, a.body, want) {
		t.Fatalf("%d %s, want %s", a.status, a.body, want)
	}
	a = do(t, s, c, call{method: "GET", path: "/telegram/chats", token: tokNotifyView})
	if want := `{"items":[{"id":"` + chatA + `","chatId":-1001234567890,"title":"Acme ops","isActive":true}]}`; a.status != 200 || !jsonEqual(t, a.body, want) {
		t.Fatalf("%d %s, want %s", a.status, a.body, want)
	}
	if a := do(t, s, c, call{method: "POST", path: "/telegram/chats", token: tokNotify}); a.status != 405 || a.header.Get("Allow") != "GET" {
		t.Fatalf("POST: %d %v", a.status, a.header)
	}
}

// TestGatewayReadScopes: reading destinations takes view_notifications or
// manage_notifications, or only the former with ReadNeedsView.
func TestGatewayReadScopes(t *testing.T) {
	for _, tt := range []struct {
		needView bool
		token    string
		status   int
	}{
		{false, tokNotify, 200}, {false, tokNotifyView, 200}, {false, TokFull, 403}, {false, TokAccount, 400},
		{true, tokNotify, 403}, {true, tokNotifyView, 200},
	} {
		s := startGateway(t)
		s.SetGatewayBehaviour(GatewayBehaviour{ReadNeedsView: tt.needView})
		for _, path := range []string{"/notifications/destinations", "/telegram/chats"} {
			a := do(t, s, client(t, false), call{method: "GET", path: path, token: tt.token})
			if a.status != tt.status {
				t.Errorf("ReadNeedsView %v, %.12s…, %s: %d %s, want %d", tt.needView, tt.token, path, a.status, a.body, tt.status)
			}
		}
	}
}

func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// TestRefuseMessages: sends whose title or body holds the substring are
// refused for good, as {"ok":false} or as an API error; others pass;
// clearing the rule lets them through.
func TestRefuseMessages(t *testing.T) {
	s := startGateway(t)
	c := client(t, true)
	send := func(title string) answer {
		t.Helper()
		return do(t, s, c, call{method: "POST", path: "/notifications/send", token: tokNotify,
			body: `{"channel":"telegram","chatId":"` + chatA + `","title":"` + title + `","body":"B"}`})
	}
	s.RefuseMessages("poison", http.StatusOK, "Bad Request: message is too long")
	for range 2 {
		a := send("a poison pill")
		var r notifyResponse
		a.decode(t, &r)
		if a.status != 200 || r.OK || r.Error != "Bad Request: message is too long" {
			t.Fatalf("refused send: %d %s", a.status, a.body)
		}
	}
	if a := send("fine"); a.status != 200 {
		t.Fatalf("other send: %d %s", a.status, a.body)
	}
	s.RefuseMessages("poison", http.StatusUnprocessableEntity, "body: not allowed")
	if a := send("poison"); a.status != 422 || a.apiError(t).Code != "validation_failed" || a.apiError(t).Message != "body: not allowed" {
		t.Fatalf("422 refusal: %d %s", a.status, a.body)
	}
	s.RefuseMessages("", 0, "")
	if a := send("poison"); a.status != 200 {
		t.Fatalf("after clearing: %d %s", a.status, a.body)
	}
	var delivered []bool
	for _, m := range s.Messages() {
		delivered = append(delivered, m.Delivered)
	}
	if want := []bool{false, false, true, true}; !reflect.DeepEqual(delivered, want) {
		t.Errorf("delivered %v, want %v", delivered, want)
	}
}

// TestTelegramMarkdown: with TelegramMarkdown, a Telegram send with an
// unbalanced Markdown marker in its title or body is refused as Telegram
// refuses it; balanced, escaped or coded markers pass, and other channels
// are not checked.
func TestTelegramMarkdown(t *testing.T) {
	for _, tt := range []struct {
		text string
		bad  int // byte offset of the entity that does not end; -1 when it parses
	}{
		{"plain text: (dtac) 3 passes.", -1},
		{"*bold* and _italic_ and `code` and [link](https://x.example)", -1},
		{"```\npre with * and _ inside\n```", -1},
		{"`manage_call_recording` in code", -1},
		{`escaped \* and \_ and \[`, -1},
		{"token lacks manage_call_recording and manage_notifications", 44}, // the third _
		{"5 * 3", 2},
		{"an [unclosed link", 3},
		{"a `code span", 2},
		{"``` unclosed pre ``", 0},
	} {
		got := markdownError(tt.text)
		want := ""
		if tt.bad >= 0 {
			want = fmt.Sprintf("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset %d", tt.bad)
		}
		if got != want {
			t.Errorf("markdownError(%q) = %q, want %q", tt.text, got, want)
		}
	}

	s := startGateway(t)
	c := client(t, true)
	s.SetGatewayBehaviour(GatewayBehaviour{TelegramMarkdown: true})
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"channel":"telegram","chatId":"` + chatA + `","title":"T","body":"token_disabled"}`, false},
		{`{"channel":"telegram","chatId":"` + chatA + `","title":"a *title","body":"B"}`, false},
		{`{"channel":"telegram","chatId":"` + chatA + `","title":"T","body":"` + "`token_disabled`" + `"}`, true},
		{`{"channel":"discord","webhookId":"` + hookA + `","title":"T","body":"token_disabled"}`, true},
		{`{"channel":"in_app","title":"T","body":"token_disabled"}`, true},
	} {
		a := do(t, s, c, call{method: "POST", path: "/notifications/send", token: tokNotify, body: tt.body})
		var r notifyResponse
		a.decode(t, &r)
		if a.status != 200 || r.OK != tt.ok || (!r.OK && !strings.HasPrefix(r.Error, "Bad Request: can't parse entities")) {
			t.Errorf("%s: %d %s, want ok %v", tt.body, a.status, a.body, tt.ok)
		}
	}
}
