package fakecrk

import (
	"net/http"
)

type businessJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type whoamiResponse struct {
	Level      string         `json:"level,omitempty"`
	UserID     string         `json:"userId,omitempty"`
	Business   *businessJSON  `json:"business,omitempty"`
	Scopes     []string       `json:"scopes"`
	Businesses []businessJSON `json:"businesses,omitzero"`
}

// whoami answers GET /api/v1/meta/whoami: the key's level and scopes, and
// its business or (account keys) the businesses it can reach.
func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p *principal) {
	t := p.token
	resp := whoamiResponse{Level: t.Level, Scopes: t.Scopes}
	if resp.Scopes == nil {
		resp.Scopes = []string{}
	}
	switch t.Level {
	case LevelAccount:
		resp.UserID = t.UserID
		resp.Businesses = []businessJSON{}
		for _, id := range s.members[t.UserID] {
			if b, ok := s.businesses[id]; ok {
				resp.Businesses = append(resp.Businesses, businessJSON(b))
			}
		}
	default:
		b, ok := s.businesses[t.BusinessID]
		if !ok {
			b = Business{ID: t.BusinessID}
		}
		bj := businessJSON(b)
		resp.Business = &bj
		if t.OmitLevel {
			resp.Level = ""
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
