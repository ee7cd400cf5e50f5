package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/state"
)

// A refused log-in is not tried again on every pass: portals lock an
// account, and 3CX blocks an address, after repeated failures. After the
// n-th refusal in a row a source waits LoginBackoff·2^(n−1), at most
// LoginBackoffMax, until a pass tries again. A changed configuration (a
// new fingerprint) is tried at once.

// loginGate returns an error when src is backing off after refused
// log-ins with the configuration it has now.
func (s *Syncer) loginGate(ctx context.Context, src string) error {
	lb, err := s.store.LoginBackoff(ctx, src)
	if err != nil {
		return &stateError{err}
	}
	if lb.Refusals == 0 {
		s.setLoginRetry(src, time.Time{})
		return nil
	}
	if lb.Fingerprint != s.cfg.Fingerprint(src) {
		s.log.Info("the source's configuration changed since its log-in was refused: trying at once", "source", src)
		if err := s.store.SetLoginBackoff(ctx, src, state.LoginBackoff{}); err != nil {
			return &stateError{err}
		}
		s.setLoginRetry(src, time.Time{})
		return nil
	}
	s.setLoginRetry(src, lb.Until)
	if now := s.now(); now.Before(lb.Until) {
		return fmt.Errorf("%w: %d log-ins in a row were refused (last: %s); not trying again before %s, so as not to lock the account: fix the credentials (a changed configuration is tried at once)",
			connectors.ErrAuth, lb.Refusals, lb.LastError, lb.Until.In(s.cfg.Location).Format(time.RFC3339))
	}
	return nil
}

// loginResult records the outcome of a pass's log-in and listing.
func (s *Syncer) loginResult(ctx context.Context, src string, err error) error {
	lb, rerr := s.store.LoginBackoff(ctx, src)
	if rerr != nil {
		return &stateError{rerr}
	}
	if err == nil || !errors.Is(err, connectors.ErrAuth) {
		if lb.Refusals == 0 || err != nil {
			return nil // a listing that failed otherwise proves nothing of the log-in
		}
		s.setLoginRetry(src, time.Time{})
		return s.store.SetLoginBackoff(ctx, src, state.LoginBackoff{})
	}
	lb.Refusals++
	wait := s.cfg.LoginBackoff << min(lb.Refusals-1, 20)
	if wait <= 0 || wait > s.cfg.LoginBackoffMax {
		wait = s.cfg.LoginBackoffMax
	}
	lb.Until = s.now().Add(wait)
	lb.Fingerprint = s.cfg.Fingerprint(src)
	lb.LastError = err.Error()
	if len(lb.LastError) > 300 {
		lb.LastError = lb.LastError[:300] + "…"
	}
	s.log.Warn("log-in refused: backing off so as not to lock the account", "source", src,
		"refusals", lb.Refusals, "nextTry", lb.Until.In(s.cfg.Location).Format(time.RFC3339))
	s.setLoginRetry(src, lb.Until)
	if werr := s.store.SetLoginBackoff(ctx, src, lb); werr != nil {
		return &stateError{werr}
	}
	return nil
}

func (s *Syncer) setLoginRetry(src string, until time.Time) {
	v := 0.0
	if !until.IsZero() {
		v = float64(until.Unix())
	}
	s.m.loginRetry.WithLabelValues(src).Set(v)
}
