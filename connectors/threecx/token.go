package threecx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crkai/syncd/connectors/internal/remote"
)

// token is an access token and when to stop using it, with the refresh
// token a user log-in returned (none for an API client).
type token struct {
	value     string
	refreshAt time.Time // renew from here on, before it expires
	expires   time.Time
	// refresh is the refresh token ("" when none), sent back as the
	// refreshCookie cookie and the refresh_token form field.
	refresh       string
	refreshCookie string
}

// Refresh tokens that keep failing are not tried again for a while: a
// failed refresh may count as a failed sign-in against 3CX's
// anti-hacking limit, and each one costs a request before the full
// sign-in anyway.
const (
	maxRefreshFailures = 3
	refreshPause       = 6 * time.Hour
	unsupportedPause   = 24 * time.Hour
)

// errRefreshUnsupported is a PBX answering unsupported_grant_type to a
// refresh.
var errRefreshUnsupported = errors.New("the PBX does not support refresh tokens (unsupported_grant_type)")

// tokenSource hands out the current access token and renews it, one
// renewal at a time (a remote.Session): 3CX keeps one valid token per
// client, so a second log-in in flight would revoke the token the first
// one returns. It renews only when a request needs a token (no background
// renewal): with the refresh token when the current one has one, else, or
// when that fails, by a full sign-in. A request whose token the PBX
// refuses (401) gets one renewal; a 403 is the role, not the token.
type tokenSource struct {
	login   func(ctx context.Context) (*token, error)
	refresh func(ctx context.Context, old *token) (*token, error) // nil: never
	now     func() time.Time
	log     *slog.Logger
	session *remote.Session[*token]

	// Guarded by the session's one renewal at a time.
	refreshFailures int       // in a row
	refreshOffUntil time.Time // no refresh tried before this

	logins    atomic.Uint64 // full sign-in requests sent
	refreshes atomic.Uint64 // refresh requests sent
}

func newTokenSource(login func(context.Context) (*token, error), refresh func(context.Context, *token) (*token, error), now func() time.Time, log *slog.Logger) *tokenSource {
	s := &tokenSource{login: login, refresh: refresh, now: now, log: log}
	s.session = remote.NewSession(remote.Login[*token]{
		Login:  s.renewNow,
		Usable: func(t *token) bool { return t != nil && s.now().Before(t.refreshAt) },
		Wrap:   func(err error) error { return fmt.Errorf("3cx: %w", err) },
		Refused: func(resp *http.Response, _ *token) (string, bool) {
			return "HTTP 401", resp.StatusCode == http.StatusUnauthorized
		},
		Relogins: 1,
		Now:      now,
	})
	return s
}

func (s *tokenSource) current() *token { return s.session.Current() }

// get returns the current token, renewing it first when there is none or
// it is due for renewal.
func (s *tokenSource) get(ctx context.Context) (*token, error) { return s.session.Token(ctx) }

// renew gets a new token, unless, by the time this caller's turn comes,
// the current token is a fresh one other than stale (the token the PBX
// just refused): then another caller has renewed it already.
func (s *tokenSource) renew(ctx context.Context, stale *token) (*token, error) {
	return s.session.Renew(ctx, stale)
}

// renewNow renews old (nil when there is none): with its refresh token
// when it has one, else by a full sign-in.
func (s *tokenSource) renewNow(ctx context.Context, old *token) (*token, error) {
	if t, ok := s.tryRefresh(ctx, old); ok {
		return t, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.logins.Add(1)
	return s.login(ctx)
}

// tryRefresh renews old with its refresh token, when it has one and
// refreshing has not been failing. A failure is logged, not returned: the
// caller signs in instead.
func (s *tokenSource) tryRefresh(ctx context.Context, old *token) (*token, bool) {
	if s.refresh == nil || old == nil || old.refresh == "" || s.now().Before(s.refreshOffUntil) {
		return nil, false
	}
	s.refreshes.Add(1)
	t, err := s.refresh(ctx, old)
	if err == nil {
		s.refreshFailures = 0
		return t, true
	}
	if ctx.Err() != nil {
		return nil, false
	}
	s.refreshFailures++
	switch {
	case errors.Is(err, errRefreshUnsupported):
		s.refreshOffUntil = s.now().Add(unsupportedPause)
		s.log.Info("the PBX does not refresh tokens; signing in instead", "err", err, "retry_after", unsupportedPause)
	case s.refreshFailures >= maxRefreshFailures:
		s.refreshOffUntil, s.refreshFailures = s.now().Add(refreshPause), 0
		s.log.Warn("the PBX refused the refresh token several times in a row; signing in instead for a while", "err", err, "retry_after", refreshPause)
	default:
		s.log.Info("the PBX refused the refresh token; signing in again", "err", err)
	}
	return nil, false
}

// Token lifetimes outside (0, maxLifetime] are not believed.
const maxLifetime = 24 * time.Hour

// newToken works out how long access lives. expires_in is minutes before
// 3CX 20.0.9 and seconds from it, so it is not trusted: the JWT's own exp
// claim is, when present and sane (as exp−iat when iat is there too, which
// is immune to clock skew); otherwise expires_in is read as seconds, the
// shorter reading (60 when missing). It is used until 90% of the lifetime
// (renewed lazily, when a request needs it past that), and renewed at
// least min(5s, half of it) before expiry.
func newToken(access string, expiresIn float64, issued time.Time, log *slog.Logger) *token {
	life, from := jwtLifetime(access, issued)
	if life == 0 {
		from = "expires_in read as seconds"
		life = 60 * time.Second
		if expiresIn > 0 && expiresIn <= maxLifetime.Seconds() {
			life = time.Duration(expiresIn * float64(time.Second))
		}
	}
	margin := life / 10
	if floor := min(5*time.Second, life/2); margin < floor {
		margin = floor
	}
	log.Debug("access token obtained", "lifetime", life, "from", from, "expires_in", expiresIn)
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
