package fakecrk

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The notification gateway's scopes.
const (
	ScopeViewNotifications   = "view_notifications"
	ScopeManageNotifications = "manage_notifications"
)

// The notification gateway's endpoints.
const (
	EndpointNotify        Endpoint = "notify"         // POST /api/v1/notifications/send
	EndpointDestinations  Endpoint = "destinations"   // GET /api/v1/notifications/destinations
	EndpointTelegramChats Endpoint = "telegram_chats" // GET /api/v1/telegram/chats
)

// The notification channels of POST /notifications/send.
const (
	ChannelTelegram = "telegram"
	ChannelDiscord  = "discord"
	ChannelInApp    = "in_app"
)

const (
	notifySendPath      = apiPathPrefix + "/notifications/send"
	destinationsPath    = apiPathPrefix + "/notifications/destinations"
	telegramChatsPath   = apiPathPrefix + "/telegram/chats"
	maxNotifyBodyBytes  = 64 << 10
	defaultDeliveryFail = "Telegram API error: 502 Bad Gateway"
)

// severities are the ones the fake accepts. The documentation shows only
// "info"; syncd sends "info", "warning" and "critical".
var severities = []string{"info", "warning", "critical"}

// TelegramChat is a Telegram chat linked to a business (a row of
// GET /telegram/chats), for seeding.
type TelegramChat struct {
	BusinessID string
	// ID is the chat row id, the chatId POST /notifications/send takes.
	ID string
	// ChatID is Telegram's own id of the chat, e.g. -1001234567890.
	ChatID   int64
	Title    string
	Inactive bool // isActive: false (shown only; sends still go out)
}

// DiscordWebhook is a Discord webhook linked to a business, for seeding.
// Its URL is never served: the API does not return it.
type DiscordWebhook struct {
	BusinessID string
	ID         string // the webhookId POST /notifications/send takes
	Name       string
}

// Message is one send the gateway accepted (its body validated, its
// destination found), for introspection.
type Message struct {
	BusinessID string
	Channel    string
	ChatID     string // telegram
	WebhookID  string // discord
	Title      string
	Body       string
	Link       string
	Severity   string // as sent; "" when absent
	// Delivered is false when the fake answered {"ok":false} (FailDeliveries).
	Delivered bool
	At        time.Time
}

// GatewayBehaviour chooses among the gateway answers the documentation
// leaves unknown. The zero value is the fake's default.
type GatewayBehaviour struct {
	// FlatDestinations makes GET /notifications/destinations answer
	// {"items":[{"id","kind","name"}]} instead of the nested default
	// {"telegram":{"chats":[…]},"discord":{"webhooks":[…]}}.
	FlatDestinations bool
	// NumericIDs serves chat and webhook ids that are whole numbers as
	// JSON numbers rather than strings.
	NumericIDs bool
	// ReadNeedsView makes GET /notifications/destinations and GET
	// /telegram/chats require view_notifications itself; by default
	// manage_notifications is accepted too.
	ReadNeedsView bool
	// TelegramMarkdown makes Telegram sends whose title or body has an
	// unbalanced Markdown marker (*, _, ` or [ without its closing
	// partner, outside a code span, unless escaped with \) answer
	// {"ok":false,"error":"Bad Request: can't parse entities: …"}, as
	// Telegram does when a gateway sends with parse_mode Markdown.
	TelegramMarkdown bool
}

// refusal is a RefuseMessages rule.
type refusal struct {
	substr  string
	status  int
	errText string
}

// gateway is the notification gateway's state.
type gateway struct {
	mu        sync.Mutex
	chats     []TelegramChat
	webhooks  []DiscordWebhook
	messages  []Message
	failNext  int    // Telegram/Discord deliveries still to answer {"ok":false}
	failError string // their error text
	refuse    refusal
	behaviour GatewayBehaviour
	sent      int // ids of delivered messages
}

// AddTelegramChat links a Telegram chat to its business.
func (s *Server) AddTelegramChat(c TelegramChat) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.chats = append(s.gw.chats, c)
}

// AddDiscordWebhook links a Discord webhook to its business.
func (s *Server) AddDiscordWebhook(w DiscordWebhook) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.webhooks = append(s.gw.webhooks, w)
}

// FailDeliveries makes the next n Telegram or Discord sends answer HTTP 200
// {"ok":false,"error":"…"}, as the gateway does when Telegram or Discord
// fail. In-app sends are not affected. n ≤ 0 clears it.
func (s *Server) FailDeliveries(n int) { s.FailDeliveriesWith(n, defaultDeliveryFail) }

// FailDeliveriesWith is FailDeliveries with the error text chosen.
func (s *Server) FailDeliveriesWith(n int, errText string) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.failNext, s.gw.failError = max(n, 0), errText
}

// RefuseMessages makes every send whose title or body contains substr fail,
// for good, until cleared by an empty substr: with status 200 as
// {"ok":false,"error":errText} (Telegram or Discord refusing the message),
// with another status as that API error carrying errText (e.g. 422
// validation_failed). A refused send is recorded undelivered by Messages
// with status 200 and not at all otherwise, as for other answers.
func (s *Server) RefuseMessages(substr string, status int, errText string) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.refuse = refusal{substr: substr, status: status, errText: errText}
}

// SetGatewayBehaviour replaces the gateway's behaviour knobs; safe at any
// time.
func (s *Server) SetGatewayBehaviour(b GatewayBehaviour) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	s.gw.behaviour = b
}

func (s *Server) gatewayBehaviour() GatewayBehaviour {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return s.gw.behaviour
}

// Messages returns every send the gateway accepted, oldest first, delivered
// or not.
func (s *Server) Messages() []Message {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return slices.Clone(s.gw.messages)
}

// notifyRequest is a validated body of POST /notifications/send.
type notifyRequest struct {
	channel, chatID, webhookID, title, body, link, severity string
}

type notifyResponse struct {
	OK    bool   `json:"ok"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

// notify answers POST /api/v1/notifications/send: validate, find the
// destination in the key's business, then deliver (or fail to, on
// request) and record the message.
func (s *Server) notify(w http.ResponseWriter, r *http.Request, p *principal) {
	req, err := decodeNotify(http.MaxBytesReader(w, r.Body, maxNotifyBodyBytes))
	if err != nil {
		writeAPIError(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
		return
	}
	answer, e := s.deliver(p.business, req)
	if e != nil {
		writeAPIError(w, e.status, e.code, e.message)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// deliver finds req's destination in business and delivers the message
// (or fails to, on request), recording it; an unknown destination is an
// error answer.
func (s *Server) deliver(business string, req *notifyRequest) (notifyResponse, *apiErr) {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	switch req.channel {
	case ChannelTelegram:
		if !slices.ContainsFunc(s.gw.chats, func(c TelegramChat) bool { return c.BusinessID == business && c.ID == req.chatID }) {
			return notifyResponse{}, &apiErr{status: http.StatusNotFound, code: "chat_not_found", message: "Telegram chat not found"}
		}
	case ChannelDiscord:
		if !slices.ContainsFunc(s.gw.webhooks, func(h DiscordWebhook) bool { return h.BusinessID == business && h.ID == req.webhookID }) {
			return notifyResponse{}, &apiErr{status: http.StatusNotFound, code: "discord_webhook_not_found", message: "Discord webhook not found"}
		}
	}
	m := Message{
		BusinessID: business, Channel: req.channel, ChatID: req.chatID, WebhookID: req.webhookID,
		Title: req.title, Body: req.body, Link: req.link, Severity: req.severity, Delivered: true, At: s.now(),
	}
	if r := s.gw.refuse; r.substr != "" && (strings.Contains(req.title, r.substr) || strings.Contains(req.body, r.substr)) {
		if r.status != http.StatusOK {
			return notifyResponse{}, &apiErr{status: r.status, code: apiCodeFor(r.status), message: r.errText}
		}
		m.Delivered = false
		s.gw.messages = append(s.gw.messages, m)
		return notifyResponse{OK: false, Error: r.errText}, nil
	}
	if req.channel == ChannelTelegram && s.gw.behaviour.TelegramMarkdown {
		for _, text := range []string{req.title, req.body} {
			if msg := markdownError(text); msg != "" {
				m.Delivered = false
				s.gw.messages = append(s.gw.messages, m)
				return notifyResponse{OK: false, Error: msg}, nil
			}
		}
	}
	if req.channel != ChannelInApp && s.gw.failNext > 0 {
		s.gw.failNext--
		m.Delivered = false
		s.gw.messages = append(s.gw.messages, m)
		return notifyResponse{OK: false, Error: s.gw.failError}, nil
	}
	s.gw.sent++
	s.gw.messages = append(s.gw.messages, m)
	return notifyResponse{OK: true, ID: "msg-" + strconv.Itoa(s.gw.sent)}, nil
}

// markdownError is Telegram's answer to text sent with parse_mode
// Markdown (the legacy one) when an entity in it does not end: "*" bold,
// "_" italic, "`" code, "```" pre and "[" a link's text, each up to its
// closing partner ("]"; a "(url)" after it is not checked); nothing
// nests, what is inside an entity is not parsed, and "\" escapes the
// next marker outside one. It is "" when text parses.
func markdownError(text string) string {
	for i := 0; i < len(text); i++ {
		c := text[i]
		var end string
		switch c {
		case '\\':
			if i+1 < len(text) && strings.IndexByte("*_`[", text[i+1]) >= 0 {
				i++
			}
			continue
		case '*', '_':
			end = string(c)
		case '`':
			end = "`"
			if strings.HasPrefix(text[i:], "```") {
				end = "```"
			}
		case '[':
			end = "]"
		default:
			continue
		}
		j := strings.Index(text[i+len(end):], end)
		if j < 0 {
			return fmt.Sprintf("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset %d", i)
		}
		i += len(end) + j + len(end) - 1 // the last byte of the closing marker
	}
	return ""
}

// decodeNotify reads and validates a send body; its error is the
// validation message, naming the field at fault.
func decodeNotify(body io.Reader) (*notifyRequest, error) {
	var m map[string]json.RawMessage
	if err := json.NewDecoder(body).Decode(&m); err != nil || m == nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("body: larger than %d bytes", tooBig.Limit)
		}
		return nil, errors.New("body: must be a JSON object")
	}
	req := &notifyRequest{}
	var err error
	if req.channel, _, err = str(m, "channel"); err != nil {
		return nil, err
	}
	switch req.channel {
	case ChannelTelegram, ChannelDiscord, ChannelInApp:
	case "":
		return nil, errors.New("channel: required")
	default:
		return nil, errors.New(`channel: must be "telegram", "discord" or "in_app"`)
	}
	if req.chatID, err = idField(m, "chatId"); err != nil {
		return nil, err
	}
	if req.webhookID, err = idField(m, "webhookId"); err != nil {
		return nil, err
	}
	switch {
	case req.channel == ChannelTelegram && req.chatID == "":
		return nil, errors.New("chatId: required for channel telegram")
	case req.channel == ChannelDiscord && req.webhookID == "":
		return nil, errors.New("webhookId: required for channel discord")
	}
	for _, f := range []struct {
		name string
		val  *string
	}{{"title", &req.title}, {"body", &req.body}} {
		if *f.val, _, err = str(m, f.name); err != nil {
			return nil, err
		}
		if strings.TrimSpace(*f.val) == "" {
			return nil, fmt.Errorf("%s: required", f.name)
		}
	}
	if req.link, _, err = str(m, "link"); err != nil {
		return nil, err
	}
	if req.link != "" {
		u, perr := url.Parse(req.link)
		if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("link: must be an absolute http(s) URL")
		}
	}
	if req.severity, _, err = str(m, "severity"); err != nil {
		return nil, err
	}
	if req.severity != "" && !slices.Contains(severities, req.severity) {
		return nil, fmt.Errorf("severity: must be one of %s", strings.Join(severities, ", "))
	}
	return req, nil
}

// idField reads an optional id that may be a string or a number.
func idField(m map[string]json.RawMessage, name string) (string, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("%s: must be a string", name)
}
