package fakecrk

import (
	"encoding/json"
	"net/http"
	"strconv"
)

type chatJSON struct {
	ID       any    `json:"id"`
	ChatID   int64  `json:"chatId"`
	Title    string `json:"title"`
	IsActive bool   `json:"isActive"`
}

type webhookJSON struct {
	ID   any    `json:"id"`
	Name string `json:"name"`
}

type flatDestination struct {
	ID   any    `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// nestedDestinations is the default shape of GET /notifications/destinations.
type nestedDestinations struct {
	Telegram struct {
		Chats []chatJSON `json:"chats"`
	} `json:"telegram"`
	Discord struct {
		Webhooks []webhookJSON `json:"webhooks"`
	} `json:"discord"`
}

// itemsOf is the {"items":[…]} shape.
type itemsOf[T any] struct {
	Items []T `json:"items"`
}

// destinations answers GET /api/v1/notifications/destinations: the key's
// business's Telegram chats and Discord webhooks, in the shape the
// GatewayBehaviour chooses (the documentation does not give one).
func (s *Server) destinations(w http.ResponseWriter, _ *http.Request, p *principal) {
	s.gw.mu.Lock()
	b := s.gw.behaviour
	chats, hooks := s.gw.chatsOf(p.business), s.gw.webhooksOf(p.business)
	s.gw.mu.Unlock()

	if b.FlatDestinations {
		out := itemsOf[flatDestination]{Items: []flatDestination{}}
		for _, c := range chats {
			out.Items = append(out.Items, flatDestination{ID: jsonID(c.ID, b.NumericIDs), Kind: ChannelTelegram, Name: c.Title})
		}
		for _, h := range hooks {
			out.Items = append(out.Items, flatDestination{ID: jsonID(h.ID, b.NumericIDs), Kind: ChannelDiscord, Name: h.Name})
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	var out nestedDestinations
	out.Telegram.Chats = chatRows(chats, b.NumericIDs)
	out.Discord.Webhooks = []webhookJSON{}
	for _, h := range hooks {
		out.Discord.Webhooks = append(out.Discord.Webhooks, webhookJSON{ID: jsonID(h.ID, b.NumericIDs), Name: h.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

// telegramChats answers GET /api/v1/telegram/chats: the key's business's
// linked chats as {"items":[{"id","chatId","title","isActive"}]}.
func (s *Server) telegramChats(w http.ResponseWriter, _ *http.Request, p *principal) {
	s.gw.mu.Lock()
	numeric := s.gw.behaviour.NumericIDs
	chats := s.gw.chatsOf(p.business)
	s.gw.mu.Unlock()
	writeJSON(w, http.StatusOK, itemsOf[chatJSON]{Items: chatRows(chats, numeric)})
}

func chatRows(chats []TelegramChat, numeric bool) []chatJSON {
	rows := []chatJSON{}
	for _, c := range chats {
		rows = append(rows, chatJSON{ID: jsonID(c.ID, numeric), ChatID: c.ChatID, Title: c.Title, IsActive: !c.Inactive})
	}
	return rows
}

// chatsOf is the chats of business; the caller holds mu.
func (g *gateway) chatsOf(business string) []TelegramChat {
	var out []TelegramChat
	for _, c := range g.chats {
		if c.BusinessID == business {
			out = append(out, c)
		}
	}
	return out
}

// webhooksOf is the webhooks of business; the caller holds mu.
func (g *gateway) webhooksOf(business string) []DiscordWebhook {
	var out []DiscordWebhook
	for _, h := range g.webhooks {
		if h.BusinessID == business {
			out = append(out, h)
		}
	}
	return out
}

// jsonID is id as a JSON number when numeric is set and id is a whole
// number, else as a string.
func jsonID(id string, numeric bool) any {
	if numeric {
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			return json.Number(id)
		}
	}
	return id
}

// readScopes are the scopes that may read the gateway's destinations.
func (s *Server) readScopes() []string {
	if s.gatewayBehaviour().ReadNeedsView {
		return []string{ScopeViewNotifications}
	}
	return []string{ScopeViewNotifications, ScopeManageNotifications}
}
