package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
)

// RefusalHold is how long a refused log-in (an error wrapping
// connectors.ErrAuth) stands as every caller's answer: a portal that
// counts refused log-ins towards locking the account, or blocking the
// address, sees one however many workers need a token at once. The
// syncer's own back-off between passes is far longer.
const RefusalHold = 30 * time.Second

// Login is how a Session logs in and when it logs in again.
type Login[T comparable] struct {
	// Login logs in. current is the token held now (the zero token when
	// none): a connector that renews with it may. Its error is the detail
	// that Wrap turns into the caller's error.
	Login func(ctx context.Context, current T) (T, error)
	// Usable reports whether the token held may still be sent. Nil: any
	// token but the zero one.
	Usable func(T) bool
	// Wrap makes every error of a log-in (Login's own, or a caller's
	// context ending while it waits) the connector's error: "dtac: log in
	// as … at …: %w". Nil leaves them as they are.
	Wrap func(error) error

	// Refused reports whether an answer refuses the token it was sent
	// with, and how to name the refusal in an error ("HTTP 401"). Nil: a
	// 401 or a 403. It may read the body ahead, leaving resp.Body whole.
	Refused func(resp *http.Response, token T) (string, bool)
	// Relogins is how many fresh log-ins one request gets when the portal
	// keeps refusing its token.
	Relogins int
	// Wait is the wait before the n-th fresh log-in of a request after its
	// first (n ≥ 1). Nil: none.
	Wait func(n int) time.Duration

	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Session holds a portal's token and logs in one caller at a time: a
// caller that needs a token while a log-in is in progress waits for it and
// takes its outcome, the token or the error, rather than logging in again.
// A refused log-in stands for RefusalHold. It is safe for concurrent use.
type Session[T comparable] struct {
	cfg Login[T]
	sem chan struct{} // held by the log-in in progress

	mu        sync.Mutex
	token     T
	attempts  uint64    // log-ins tried so far
	lastErr   error     // of the last log-in, if it failed for a reason others share
	refusedAt time.Time // when the last log-in was refused (lastErr wraps ErrAuth)
	waiting   int       // callers waiting for the log-in in progress
}

// NewSession returns a Session that logs in as cfg says.
func NewSession[T comparable](cfg Login[T]) *Session[T] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wrap == nil {
		cfg.Wrap = func(err error) error { return err }
	}
	return &Session[T]{cfg: cfg, sem: make(chan struct{}, 1)}
}

// Current is the token held now (the zero token when none).
func (s *Session[T]) Current() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// Logins is how many log-ins the Session has tried.
func (s *Session[T]) Logins() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Waiting is how many callers wait for the log-in in progress.
func (s *Session[T]) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

func (s *Session[T]) usable(t T) bool {
	var zero T
	if s.cfg.Usable == nil {
		return t != zero
	}
	return s.cfg.Usable(t)
}

// Token returns the token held, logging in first when there is none or it
// is no longer usable.
func (s *Session[T]) Token(ctx context.Context) (T, error) {
	if t := s.Current(); s.usable(t) {
		return t, nil
	}
	var zero T
	return s.Renew(ctx, zero)
}

// Renew returns a usable token other than stale, the token a request was
// just refused with: the one a log-in got while this caller waited for its
// turn, or a fresh one. If the log-in this caller waited for failed (not
// for its own caller's cancellation), or a log-in was refused less than
// RefusalHold ago, Renew returns that error rather than log in again.
func (s *Session[T]) Renew(ctx context.Context, stale T) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, s.cfg.Wrap(err)
	}
	s.mu.Lock()
	seen := s.attempts
	s.waiting++
	s.mu.Unlock()
	var err error
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		err = fmt.Errorf("waiting for a log-in in progress: %w", ctx.Err())
	}
	s.mu.Lock()
	s.waiting--
	s.mu.Unlock()
	if err != nil {
		return zero, s.cfg.Wrap(err)
	}
	defer func() { <-s.sem }()

	s.mu.Lock()
	cur, attempts, lastErr, refusedAt := s.token, s.attempts, s.lastErr, s.refusedAt
	s.mu.Unlock()
	switch {
	case cur != stale && s.usable(cur):
		return cur, nil
	case lastErr != nil && attempts != seen:
		return zero, s.cfg.Wrap(lastErr) // the log-in this caller waited for failed
	case lastErr != nil && !refusedAt.IsZero() && s.cfg.Now().Sub(refusedAt) < RefusalHold:
		return zero, s.cfg.Wrap(lastErr)
	}

	tok, err := s.cfg.Login(ctx, cur)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	s.lastErr, s.refusedAt = nil, time.Time{}
	switch {
	case err == nil:
		s.token = tok
		return tok, nil
	case ctx.Err() == nil: // not this caller's own cancellation: others share it
		s.lastErr = err
		if errors.Is(err, connectors.ErrAuth) {
			s.refusedAt = s.cfg.Now()
		}
	}
	return zero, s.cfg.Wrap(err)
}

// Do sends an authorised request: send makes it with the token given. The
// token is the one held (a log-in first when there is none); when the
// portal refuses it (Login.Refused), Do logs in afresh and sends the
// request again, up to Login.Relogins times, waiting Login.Wait(n) before
// the n-th fresh log-in after the first. what names the request in its
// errors ("dtac: list recordings at host, page 2").
//
// A token refused right after a fresh log-in has been invalidated again (a
// person logged in to the portal with the same account, say): when the
// portal still refuses it, the error is this request's alone. It wraps
// neither connectors.ErrAuth (only a refused log-in does) nor
// connectors.ErrForbidden, so that the request is tried again later. An
// error of a log-in is returned as the Session's Wrap made it.
func (s *Session[T]) Do(ctx context.Context, p *Portal, what string, send func(ctx context.Context, token T) (*http.Response, error)) (*http.Response, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return nil, err
	}
	for relogins := 0; ; relogins++ {
		resp, err := send(ctx, tok)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		refused, ok := s.refused(resp, tok)
		if !ok {
			return resp, nil
		}
		Drain(resp)
		if relogins >= s.cfg.Relogins {
			times := ""
			if relogins > 1 {
				times = fmt.Sprintf(", %d times", relogins)
			}
			return nil, fmt.Errorf("%s: %s even with a fresh token%s: the %s keeps invalidating the session "+
				"(is someone logging in to the %s with the same account?); it will be tried again later", what, refused, times, p.Called, p.Called)
		}
		if relogins > 0 && s.cfg.Wait != nil {
			wait := s.cfg.Wait(relogins)
			p.Log.DebugContext(ctx, "a fresh token was refused too; logging in again after a wait", "answer", refused, "wait", wait)
			if err := deps.Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: waiting to log in again: %w", what, err)
			}
		} else {
			p.Log.DebugContext(ctx, "token refused, logging in again", "answer", refused)
		}
		if tok, err = s.Renew(ctx, tok); err != nil {
			return nil, err
		}
	}
}

func (s *Session[T]) refused(resp *http.Response, tok T) (string, bool) {
	if s.cfg.Refused != nil {
		return s.cfg.Refused(resp, tok)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Sprintf("HTTP %d", resp.StatusCode), true
	}
	return "", false
}
