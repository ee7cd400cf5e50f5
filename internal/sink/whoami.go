package sink

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Business is one business as CRK names it.
type Business struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Identity is what /meta/whoami says of the token.
type Identity struct {
	// Level is "business" or "account". Older deployments leave it out for
	// business keys; WhoAmI fills it in.
	Level      string     `json:"level"`
	Business   *Business  `json:"business,omitempty"`
	UserID     string     `json:"userId,omitempty"`
	Scopes     []string   `json:"scopes"`
	Businesses []Business `json:"businesses,omitempty"`
}

// The scopes syncd cares about.
const (
	ScopeIngest    = "manage_call_recording"
	ScopeAll       = "manage_all"
	ScopeViewAll   = "view_recording_all"
	ScopeViewSelf  = "view_recording_self"
	ScopeNotifyAll = "manage_notifications"
)

// WhoAmI checks the token with GET /meta/whoami.
func (c *Client) WhoAmI(ctx context.Context) (*Identity, error) {
	var id Identity
	if err := c.do(ctx, call{endpoint: "whoami", method: http.MethodGet, path: "meta/whoami", out: &id, idempotent: true}); err != nil {
		return nil, err
	}
	if id.Level == "" {
		switch {
		case id.Business != nil:
			id.Level = "business"
		case id.Businesses != nil || id.UserID != "":
			id.Level = "account"
		default:
			return nil, fmt.Errorf("crk whoami: the answer names neither a business nor an account")
		}
	}
	return &id, nil
}

// Has reports whether the token holds scope (manage_all holds every one).
func (id *Identity) Has(scope string) bool {
	return slices.Contains(id.Scopes, scope) || slices.Contains(id.Scopes, ScopeAll)
}

// Authorize says whether the token may ingest recordings for businessID
// (CRK_BUSINESS_ID, "" when unset), and if not, what to change.
func (id *Identity) Authorize(businessID string) error {
	switch id.Level {
	case "account":
		if businessID == "" {
			return fmt.Errorf("CRK_API_TOKEN is an account key: set CRK_BUSINESS_ID to one of its businesses: %s", listBusinesses(id.Businesses))
		}
		if !slices.ContainsFunc(id.Businesses, func(b Business) bool { return b.ID == businessID }) {
			return fmt.Errorf("CRK_BUSINESS_ID %q is not a business this account key reaches; it reaches: %s", businessID, listBusinesses(id.Businesses))
		}
		if !id.Has(ScopeIngest) {
			return fmt.Errorf("the account key lacks %s (it has: %s)", ScopeAll, strings.Join(id.Scopes, ", "))
		}
	case "business":
		if id.Business != nil && businessID != "" && businessID != id.Business.ID {
			return fmt.Errorf("CRK_BUSINESS_ID %q differs from the business key's own business %q: unset CRK_BUSINESS_ID", businessID, id.Business.ID)
		}
		if !id.Has(ScopeIngest) {
			return fmt.Errorf("the token lacks the scope %s that syncd needs (it has: %s): create a token with it", ScopeIngest, strings.Join(id.Scopes, ", "))
		}
	default:
		return fmt.Errorf("unknown key level %q", id.Level)
	}
	return nil
}

// CanVerify says whether the token may read recordings back, which syncd
// needs to tell, after a crash, whether a re-extraction already went through.
// view_recording_self is not enough: it shows only recordings linked to the
// token's user, and syncd's are linked to nobody.
func (id *Identity) CanVerify() error {
	if id.Has(ScopeViewAll) {
		return nil
	}
	return fmt.Errorf("the token lacks %s: after a crash between asking for AI processing and recording it, syncd cannot check CRK and will quarantine those recordings instead of paying twice", ScopeViewAll)
}

// BusinessName is the name of the business syncd works for, for display.
func (id *Identity) BusinessName(businessID string) string {
	if id.Business != nil {
		return id.Business.Name
	}
	for _, b := range id.Businesses {
		if b.ID == businessID {
			return b.Name
		}
	}
	return ""
}

func listBusinesses(bs []Business) string {
	if len(bs) == 0 {
		return "(none)"
	}
	parts := make([]string, 0, len(bs))
	for _, b := range bs {
		parts = append(parts, fmt.Sprintf("%s (%s)", b.ID, b.Name))
	}
	return strings.Join(parts, ", ")
}
