package config

import (
	"strings"
	"unicode"
)

// The alert channels of SYNCD_ALERT_CHANNEL.
const (
	AlertInApp    = "in_app"
	AlertTelegram = "telegram"
	AlertDiscord  = "discord"
)

// Alert is the configuration of alerting through the CRK notification
// gateway. It is the zero value when alerting is off.
type Alert struct {
	Channel   string // AlertInApp, AlertTelegram or AlertDiscord; "" = off
	ChatID    string // telegram only
	WebhookID string // discord only
	After     int    // failed passes of a source in a row that raise an alert
	Link      string // "" when unset
}

// Enabled reports whether alerting is on (SYNCD_ALERT_CHANNEL is set).
func (a Alert) Enabled() bool { return a.Channel != "" }

func (b *builder) alert() Alert {
	e := b.env
	if e.AlertChannel == "" {
		const off = "is set but SYNCD_ALERT_CHANNEL is not: alerting is off"
		for _, v := range []struct{ name, value string }{
			{"SYNCD_ALERT_CHAT_ID", e.AlertChatID},
			{"SYNCD_ALERT_WEBHOOK_ID", e.AlertWebhookID},
			{"SYNCD_ALERT_AFTER", e.AlertAfter.value},
			{"SYNCD_ALERT_LINK", e.AlertLink},
		} {
			if v.value != "" {
				b.add(v.name, off)
			}
		}
		return Alert{}
	}

	a := Alert{Channel: strings.ToLower(e.AlertChannel), ChatID: e.AlertChatID, WebhookID: e.AlertWebhookID, After: DefaultAlertAfter}
	switch a.Channel {
	case AlertTelegram:
		b.alertID("SYNCD_ALERT_CHAT_ID", a.ChatID, "telegram", "the chat row id from GET /telegram/chats or GET /notifications/destinations")
		b.alertIDUnused("SYNCD_ALERT_WEBHOOK_ID", a.WebhookID, "telegram", "a webhook id is for discord")
	case AlertDiscord:
		b.alertID("SYNCD_ALERT_WEBHOOK_ID", a.WebhookID, "discord", "the webhook id from GET /notifications/destinations")
		b.alertIDUnused("SYNCD_ALERT_CHAT_ID", a.ChatID, "discord", "a chat id is for telegram")
	case AlertInApp:
		b.alertIDUnused("SYNCD_ALERT_CHAT_ID", a.ChatID, "in_app", "the in-app feed needs no destination")
		b.alertIDUnused("SYNCD_ALERT_WEBHOOK_ID", a.WebhookID, "in_app", "the in-app feed needs no destination")
	default:
		b.add("SYNCD_ALERT_CHANNEL", "%q is not an alert channel: use in_app, telegram or discord, or leave it empty to turn alerting off", e.AlertChannel)
	}
	if e.AlertAfter.set {
		if n, ok := b.parseInt("SYNCD_ALERT_AFTER", e.AlertAfter.value, DefaultAlertAfter); ok {
			a.After = n
			if n < 1 {
				b.add("SYNCD_ALERT_AFTER", "must be 1 or more (failed passes in a row), not %d", n)
			}
		}
	}
	a.Link = b.alertLink("SYNCD_ALERT_LINK", e.AlertLink)
	return a
}

// alertID checks the id the channel needs.
func (b *builder) alertID(name, id, channel, where string) {
	switch {
	case id == "":
		b.add(name, "is required when SYNCD_ALERT_CHANNEL is %s: %s", channel, where)
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		b.add(name, "contains spaces or control characters")
	}
}

// alertIDUnused records an id set for a channel that does not use it.
func (b *builder) alertIDUnused(name, id, channel, why string) {
	if id != "" {
		b.add(name, "is set but SYNCD_ALERT_CHANNEL is %s: %s", channel, why)
	}
}

// alertLink checks the optional link: an absolute http(s) URL without
// credentials (it is shown in every message). It is never echoed.
func (b *builder) alertLink(name, raw string) string {
	if raw == "" {
		return ""
	}
	u, ok := b.parseURL(name, raw)
	if !ok {
		return ""
	}
	n := len(b.problems)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		b.add(name, "must be an absolute http:// or https:// URL, such as https://wiki.example.com/syncd")
	}
	if u.User != nil {
		b.add(name, "must not hold a user name or password: it is shown in every message")
	}
	if len(b.problems) > n {
		return ""
	}
	return raw
}
