package threecx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
)

// token is an access token and when to stop using it.
type token struct {
	value     string
	refreshAt time.Time // renew from here on, before it expires
	expires   time.Time
}

// tokenSource hands out the current access token and renews it, one log-in
// at a time: 3CX keeps one valid token per client, so a second log-in in
// flight would revoke the token the first one returns.
type tokenSource struct {
	login func(ctx context.Context) (*token, error)
	now   func() time.Time
	sem   chan struct{} // holds the one log-in in flight

	mu  sync.Mutex
	cur *token
}

func newTokenSource(login func(context.Context) (*token, error), now func() time.Time) *tokenSource {
	return &tokenSource{login: login, now: now, sem: make(chan struct{}, 1)}
}

func (s *tokenSource) current() *token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// get returns the current token, logging in first when there is none or it
// is due for renewal.
func (s *tokenSource) get(ctx context.Context) (*token, error) {
	if t := s.current(); t != nil && s.now().Before(t.refreshAt) {
		return t, nil
	}
	return s.renew(ctx, nil)
}

// renew logs in again, unless, by the time this caller's turn comes, the
// current token is a fresh one other than stale (the token the PBX just
// refused): then another caller has renewed it already.
func (s *tokenSource) renew(ctx context.Context, stale *token) (*token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	if t := s.current(); t != nil && t != stale && s.now().Before(t.refreshAt) {
		return t, nil
	}
	t, err := s.login(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cur = t
	s.mu.Unlock()
	return t, nil
}

// Token lifetimes outside (0, maxLifetime] are not believed.
const maxLifetime = 24 * time.Hour

// newToken works out how long access lives. expires_in is minutes before
// 3CX 20.0.9 and seconds from it, so it is not trusted: the JWT's own exp
// claim is, when present and sane (as exp−iat when iat is there too, which
// is immune to clock skew); otherwise expires_in is read as seconds, the
// shorter reading (60 when missing). It renews at 80% of the lifetime, and
// at least min(5s, half of it) before expiry.
func newToken(access string, expiresIn float64, issued time.Time, log *slog.Logger) *token {
	life, from := jwtLifetime(access, issued)
	if life == 0 {
		from = "expires_in read as seconds"
		life = 60 * time.Second
		if expiresIn > 0 && expiresIn <= maxLifetime.Seconds() {
			life = time.Duration(expiresIn * float64(time.Second))
		}
	}
	margin := life / 5
	if floor := min(5*time.Second, life/2); margin < floor {
		margin = floor
	}
	log.Debug("3cx access token obtained", "lifetime", life, "from", from, "expires_in", expiresIn)
	return &token{value: access, refreshAt: issued.Add(life - margin), expires: issued.Add(life)}
}

// jwtLifetime reads the lifetime from a JWT's exp (and iat) claims, without
// checking its signature; 0 when it cannot.
func jwtLifetime(access string, now time.Time) (time.Duration, string) {
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		return 0, ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, ""
	}
	var claims struct {
		Exp *float64 `json:"exp"`
		Iat *float64 `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil || !finite(*claims.Exp) {
		return 0, ""
	}
	var life time.Duration
	from := "JWT exp−iat"
	if claims.Iat != nil && finite(*claims.Iat) && *claims.Iat > 0 {
		life = seconds(*claims.Exp - *claims.Iat)
	} else {
		from = "JWT exp"
		life = seconds(*claims.Exp - float64(now.UnixNano())/1e9)
	}
	if life <= 0 || life > maxLifetime {
		return 0, ""
	}
	return life, from
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// seconds converts s seconds to a Duration, saturating rather than
// overflowing (absurd values are then refused as not sane).
func seconds(s float64) time.Duration {
	if s > maxLifetime.Seconds()*2 {
		return maxLifetime * 2
	}
	if s < 0 {
		return -1
	}
	return time.Duration(s * float64(time.Second))
}
