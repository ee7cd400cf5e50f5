package fakecrk

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// principal is who an authorised API request acts as.
type principal struct {
	token    Token
	business string // the business a data endpoint works on; "" on whoami
}

// has reports whether the key holds scope (manage_all holds every scope).
func (p *principal) has(scope string) bool {
	return slices.Contains(p.token.Scopes, scope) || slices.Contains(p.token.Scopes, ScopeManageAll)
}

// authorize applies, in order, the token, business, scope and rate-limit
// rules of every /api/v1 request.
func (s *Server) authorize(r *http.Request, rt route) (*principal, *apiErr) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &apiErr{status: http.StatusUnauthorized, code: "missing_token", message: "Missing Authorization header"}
	}
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, &apiErr{status: http.StatusUnauthorized, code: "invalid_token", message: "Authorization must be a Bearer token"}
	}
	raw = strings.TrimSpace(raw)
	t, ok := s.tokens[raw]
	if !ok {
		return nil, &apiErr{status: http.StatusUnauthorized, code: "invalid_token", message: "Invalid or expired token"}
	}
	if t.Disabled {
		return nil, &apiErr{status: http.StatusUnauthorized, code: "token_disabled", message: "Token has been revoked"}
	}
	p := &principal{token: t}
	if rt.data {
		if t.Level == LevelAccount {
			biz := strings.TrimSpace(r.Header.Get("X-Business-Id"))
			if biz == "" {
				return nil, &apiErr{status: http.StatusBadRequest, code: "business_required", message: "X-Business-Id header is required for account keys"}
			}
			if _, known := s.businesses[biz]; !known || !slices.Contains(s.members[t.UserID], biz) {
				return nil, &apiErr{status: http.StatusForbidden, code: "forbidden_business", message: "Business not accessible with this key"}
			}
			p.business = biz
		} else {
			p.business = t.BusinessID
		}
	}
	if len(rt.scope) > 0 && !slices.ContainsFunc(rt.scope, p.has) {
		return nil, &apiErr{status: http.StatusForbidden, code: "insufficient_scope", message: "Token lacks '" + rt.scope[0] + "'"}
	}
	if wait, ok := s.limiter.take(raw, s.now()); !ok {
		secs := int64((wait + time.Second - 1) / time.Second)
		return nil, &apiErr{status: http.StatusTooManyRequests, code: "rate_limited", message: "Too many requests",
			retryAfter: strconv.FormatInt(max(1, secs), 10)}
	}
	return p, nil
}
