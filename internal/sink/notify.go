package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// The channels of the notification gateway.
const (
	ChannelInApp    = "in_app"
	ChannelTelegram = "telegram"
	ChannelDiscord  = "discord"
)

// ErrDeliveryFailed matches a *DeliveryError.
var ErrDeliveryFailed = errors.New("notification not delivered")

// Notification is one message for the notification gateway.
type Notification struct {
	Channel   string // ChannelInApp, ChannelTelegram or ChannelDiscord
	ChatID    string // the Telegram chat row id; telegram only
	WebhookID string // the Discord webhook id; discord only
	Title     string
	Body      string
	Link      string // optional
	Severity  string // "info", "warning" or "critical"
}

type notifyBody struct {
	Channel   string `json:"channel"`
	ChatID    string `json:"chatId,omitempty"`
	WebhookID string `json:"webhookId,omitempty"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link,omitempty"`
	Severity  string `json:"severity,omitempty"`
}

// DeliveryError is the gateway accepting a message but Telegram or Discord
// failing to deliver it: HTTP 200 with {"ok": false, "error": "..."}. The
// same message may be delivered by sending it again later.
type DeliveryError struct {
	Channel string
	// Message is the gateway's error, shortened, with URLs cut to their
	// host (a Discord webhook URL holds its secret in its path).
	Message string
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("crk notify: the %s delivery failed: %s", e.Channel, e.Message)
}

// Is makes errors.Is(err, ErrDeliveryFailed) true.
func (e *DeliveryError) Is(target error) bool { return target == ErrDeliveryFailed }

// Notify sends n right away with POST /notifications/send (scope
// manage_notifications), through the shared rate limiter. Sending twice
// delivers twice, so it is retried only where the sink retries requests that
// surely did not act (429, a refused connection); a delivery failure
// ({"ok": false}) is a *DeliveryError, never retried here: the caller sends
// again on a later pass.
func (c *Client) Notify(ctx context.Context, n Notification) error {
	var raw json.RawMessage
	err := c.do(ctx, call{
		endpoint: "notify", method: http.MethodPost, path: "notifications/send", data: true, optionalOut: true,
		body: notifyBody(n),
		out:  &raw,
	})
	if err != nil {
		return err
	}
	// Only an explicit false is a failure: the documentation shows
	// {"ok": false} for failures and does not pin down the success body.
	var out struct {
		OK    *bool           `json:"ok"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &out) != nil || out.OK == nil || *out.OK {
		return nil
	}
	return &DeliveryError{Channel: n.Channel, Message: c.gatewayReason(out.Error)}
}

// gatewayReason renders the "error" of an {"ok": false} answer: a string as
// it is, anything else as its JSON, both shortened, cut of URLs and
// scrubbed of credentials.
func (c *Client) gatewayReason(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(bytes.TrimSpace(raw))
	}
	if s == "" || s == "null" {
		return "no reason given"
	}
	return c.excerpt([]byte(urlTail.ReplaceAllString(s, "$1")))
}

// urlTail matches a URL, less trailing punctuation; its first group is the
// scheme and host.
var urlTail = regexp.MustCompile(`(?i)\b(https?://[^/\s?#"'<>]+)(?:[^\s"'<>]*[^\s"'<>.,;:!?)\]])?`)

// Destinations lists where notifications can go, with GET
// /notifications/destinations. The shape of the answer is not documented,
// so it is returned as it came: look ids up with DestinationHas.
func (c *Client) Destinations(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, call{endpoint: "destinations", method: http.MethodGet, path: "notifications/destinations", out: &raw, data: true, idempotent: true})
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// DestinationHas reports whether raw, an answer of Destinations, holds an
// object whose "id" is id, at any depth, the id being a JSON string or a
// number. Invalid JSON holds nothing.
func DestinationHas(raw json.RawMessage, id string) bool {
	if id == "" {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return false
	}
	return hasID(v, id)
}

func hasID(v any, id string) bool {
	switch v := v.(type) {
	case map[string]any:
		switch x := v["id"].(type) {
		case string:
			if x == id {
				return true
			}
		case json.Number:
			if x.String() == id {
				return true
			}
		}
		for _, child := range v {
			if hasID(child, id) {
				return true
			}
		}
	case []any:
		for _, child := range v {
			if hasID(child, id) {
				return true
			}
		}
	}
	return false
}
