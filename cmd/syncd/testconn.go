package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/sink"
)

// probeBytes is how much audio -test-connection reads: enough to see it
// flow, not the whole file.
const probeBytes = 4096

// checkLine is one line of -test-connection's output.
type checkLine struct {
	who, what string
	err       error  // nil: ok
	warn      bool   // a problem that does not stop syncing
	detail    string // what was found, when ok
}

// testConnection is `syncd -test-connection`: log in to every source, list
// its last 24 hours, open its newest recording's audio, and check the CRK
// token. It writes nothing, to CRK or to state.
func testConnection(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer, sendTestAlert bool) int {
	a, err := newApp(cfg, log, nil)
	if err != nil {
		fmt.Fprintf(stdout, "syncd: %v\n", err)
		return exitConfig
	}
	lines := checkCRK(ctx, a.crk, cfg.CRK.BusinessID)
	al, err := a.alerter(nil, nil)
	if err != nil {
		fmt.Fprintf(stdout, "syncd: %v\n", err)
		return exitConfig
	}
	if al != nil {
		lines = append(lines, checkAlert(ctx, al, sendTestAlert)...)
	} else if sendTestAlert {
		lines = append(lines, checkLine{who: "alert", what: "send", err: errors.New("alerting is off: set SYNCD_ALERT_CHANNEL")})
	}
	for _, c := range a.sources {
		lines = append(lines, checkSource(ctx, c, time.Now())...)
	}
	failed := false
	secrets := cfg.Secrets()
	for _, l := range lines {
		result, text := "ok", l.detail
		switch {
		case l.err != nil && l.warn:
			result, text = "WARN", l.err.Error()
		case l.err != nil:
			result, text, failed = "FAIL", l.err.Error(), true
		}
		fmt.Fprintln(stdout, redact(fmt.Sprintf("%-5s %-6s %-4s %s", l.who, l.what, result, text), secrets))
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

func checkCRK(ctx context.Context, crk *sink.Client, businessID string) []checkLine {
	id, err := crk.WhoAmI(ctx)
	if err != nil {
		return []checkLine{{who: "crk", what: "token", err: explainCRK(err)}}
	}
	detail := fmt.Sprintf("%s key, scopes: %s", id.Level, strings.Join(id.Scopes, ", "))
	if id.Business != nil {
		detail = fmt.Sprintf("business key of %q (%s), scopes: %s", id.Business.Name, id.Business.ID, strings.Join(id.Scopes, ", "))
	}
	lines := []checkLine{{who: "crk", what: "token", detail: detail}}
	if err := id.Authorize(businessID); err != nil {
		return append(lines, checkLine{who: "crk", what: "scope", err: err})
	}
	what := sink.ScopeIngest
	if id.Level == "account" {
		what = fmt.Sprintf("%s on business %q (%s)", sink.ScopeAll, id.BusinessName(businessID), businessID)
	}
	lines = append(lines, checkLine{who: "crk", what: "scope", detail: what})
	if err := id.CanVerify(); err != nil {
		lines = append(lines, checkLine{who: "crk", what: "verify", err: err, warn: true})
	} else {
		lines = append(lines, checkLine{who: "crk", what: "verify", detail: "can read recordings back (checks after a crash)"})
	}
	return lines
}

// checkAlert checks the alerting scope and destination, and sends one test
// message when asked.
func checkAlert(ctx context.Context, al *alert.Alerter, send bool) []checkLine {
	l := checkLine{who: "alert", what: "dest", detail: "can send to " + al.Destination()}
	if err := al.Check(ctx); err != nil {
		l.err, l.warn = err, errors.Is(err, alert.ErrUnverifiable)
	}
	lines := []checkLine{l}
	if send {
		s := checkLine{who: "alert", what: "send", detail: "test message delivered to " + al.Destination()}
		if err := al.SendTest(ctx); err != nil {
			s.err = err
		}
		lines = append(lines, s)
	}
	return lines
}

// explainCRK says in plain words what a token failure means.
func explainCRK(err error) error {
	switch {
	case errors.Is(err, sink.ErrInvalidToken):
		return fmt.Errorf("CRK_API_TOKEN is wrong or expired (%w)", err)
	case errors.Is(err, sink.ErrTokenDisabled):
		return fmt.Errorf("CRK_API_TOKEN was revoked: create a new one (%w)", err)
	case errors.Is(err, sink.ErrMissingToken):
		return fmt.Errorf("CRK did not receive the token: is a proxy dropping the Authorization header? (%w)", err)
	}
	var ne *sink.NetError
	if errors.As(err, &ne) {
		return fmt.Errorf("cannot reach CRK at CRK_API_URL: %w", err)
	}
	return err
}

// checkSource logs in, lists the last 24 hours and reads the first bytes of
// the newest recording whose audio opens.
func checkSource(ctx context.Context, c connectors.Connector, now time.Time) []checkLine {
	name := c.Name()
	if err := c.Check(ctx); err != nil {
		return []checkLine{{who: name, what: "login", err: err}}
	}
	lines := []checkLine{{who: name, what: "login", detail: "logged in"}}
	recs, err := c.List(ctx, now.Add(-24*time.Hour), now)
	if err != nil {
		return append(lines, checkLine{who: name, what: "list", err: err})
	}
	lines = append(lines, checkLine{who: name, what: "list", detail: fmt.Sprintf("%d recordings in the last 24 h", len(recs))})
	slices.SortFunc(recs, func(a, b connectors.Recording) int { return cmp.Compare(b.CallAt.UnixNano(), a.CallAt.UnixNano()) })
	var lastErr error
	tried := 0
	for _, r := range recs {
		if r.Invalid != nil {
			continue // quarantined by a pass; not a test of the audio
		}
		if tried++; tried > 3 {
			break
		}
		n, ct, err := probeAudio(ctx, c, r)
		if err == nil {
			return append(lines, checkLine{who: name, what: "audio", detail: fmt.Sprintf("read %d bytes of %s (%s)", n, r.DataID, ct)})
		}
		lastErr = fmt.Errorf("%s: %w", r.DataID, err)
		if !errors.Is(err, connectors.ErrNotReady) && !errors.Is(err, connectors.ErrGone) {
			break
		}
	}
	if lastErr != nil {
		return append(lines, checkLine{who: name, what: "audio", err: lastErr})
	}
	return append(lines, checkLine{who: name, what: "audio", detail: "no recording in the last 24 h to open"})
}

func probeAudio(ctx context.Context, c connectors.Connector, r connectors.Recording) (int64, string, error) {
	a, err := c.Open(ctx, r)
	if err != nil {
		return 0, "", err
	}
	defer a.Body.Close()
	n, err := io.CopyN(io.Discard, a.Body, probeBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, a.ContentType, fmt.Errorf("reading the audio: %w", err)
	}
	return n, a.ContentType, nil
}

// redact hides any secret that should somehow have reached a line.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
