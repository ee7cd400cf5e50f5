package alert

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/sources"
)

// Severities of the messages.
const (
	severityCritical = "critical"
	severityWarning  = "warning"
	severityInfo     = "info"
)

// Bounds on what one message quotes, so that it stays well inside what
// Telegram and Discord accept.
const (
	maxQuoted      = 5   // quarantined recordings listed by dataId
	maxDetailRunes = 300 // an error's own text
	maxReasonRunes = 160 // a quarantine reason
	maxIDRunes     = 80  // a dataId
	maxSourceRunes = 40  // a source's name
)

// sourceName is the source as people know it, its kind's title:
// "DTAC One Call (dtac)"; or the name of a source syncd does not know,
// quoted.
func sourceName(key string) string {
	if k, ok := sources.Find(key); ok {
		return fmt.Sprintf("%s (%s)", k.Title, key)
	}
	return quote(key, maxSourceRunes)
}

// when formats t for a message, in the calls' zone.
func (a *Alerter) when(t time.Time) string { return t.In(a.loc).Format("2006-01-02 15:04 -07:00") }

// passes is "1 pass" or "n passes".
func passes(n int) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}

// alertFor is the critical message of a raised incident, whose source
// failed inARow passes in a row.
func (a *Alerter) alertFor(inc Incident, inARow int) Delivery {
	if inc.Key == TokenKey {
		return Delivery{
			Key: inc.Key, Kind: KindToken, Severity: severityCritical,
			Title: "syncd: CRK refuses syncd's API token",
			Body: fmt.Sprintf("Since %s, CRK has refused the API token syncd sends call recordings with: %s.\n"+
				"No recording reaches CRK until `CRK_API_TOKEN` is replaced with a working token "+
				"(scope `manage_call_recording`, and `manage_notifications` for these alerts). "+
				"syncd keeps the recordings and sends them once the token works.",
				a.when(inc.Since), inc.LastError),
		}
	}
	name := sourceName(inc.Key)
	return Delivery{
		Key: inc.Key, Kind: KindSourceDown, Severity: severityCritical,
		Title: fmt.Sprintf("syncd: syncing from %s has stopped", name),
		Body: fmt.Sprintf("syncd has failed to sync call recordings from %s %s in a row, since %s.\n"+
			"Last error: %s.\n"+
			"New recordings from this source do not reach CRK until this is fixed. "+
			"syncd keeps trying on its schedule and catches up afterwards.",
			name, passes(inARow), a.when(inc.Since), inc.LastError),
	}
}

// recoveryFor is the info message that closes an alerted incident; up is
// when it began to work again.
func (a *Alerter) recoveryFor(inc Incident, up time.Time) Delivery {
	if inc.Key == TokenKey {
		return Delivery{
			Key: inc.Key, Kind: KindRecovered, Severity: severityInfo,
			Title: "syncd: CRK accepts syncd's API token again",
			Body: fmt.Sprintf("Recordings reach CRK again as of %s; CRK had refused the token since %s.",
				a.when(up), a.when(inc.Since)),
		}
	}
	name := sourceName(inc.Key)
	return Delivery{
		Key: inc.Key, Kind: KindRecovered, Severity: severityInfo,
		Title: fmt.Sprintf("syncd: syncing from %s works again", name),
		Body: fmt.Sprintf("syncd synced %s successfully again at %s, after %s failed since %s.",
			name, a.when(up), passes(inc.Failures), a.when(inc.Since)),
	}
}

// flappingFor is the critical message of a source that fails and works by
// turns; h is its pass history.
func (a *Alerter) flappingFor(inc Incident, source string, h passHistory) Delivery {
	name := sourceName(source)
	n, failed, changes := windowCounts(h)
	var b strings.Builder
	fmt.Fprintf(&b, "Syncing from %s keeps failing and working by turns: of its last %d passes, %d failed, "+
		"and it changed between failing and working %d times (as of %s).\n", name, n, failed, changes, a.when(inc.Since))
	if inc.LastError != "" {
		fmt.Fprintf(&b, "Last error: %s.\n", inc.LastError)
	}
	b.WriteString("Recordings missed while it fails are caught up when it works. " +
		"Until it is steady again, syncd sends no message each time this source fails or recovers; one message will say when it is steady.")
	return Delivery{
		Key: inc.Key, Kind: KindFlapping, Severity: severityCritical,
		Title: fmt.Sprintf("syncd: syncing from %s keeps failing on and off", name),
		Body:  b.String(),
	}
}

// steadyFor is the info message that closes an alerted flapping incident.
func (a *Alerter) steadyFor(inc Incident, source string, now time.Time) Delivery {
	name := sourceName(source)
	return Delivery{
		Key: inc.Key, Kind: KindRecovered, Severity: severityInfo,
		Title: fmt.Sprintf("syncd: syncing from %s is steady again", name),
		Body: fmt.Sprintf("Syncing from %s works steadily again as of %s; it had been failing on and off since %s.",
			name, a.when(now), a.when(inc.Since)),
	}
}

type quarantinedItem struct{ source, dataID, reason string }

// quarantineFor is the warning about the recordings one round quarantined.
func (a *Alerter) quarantineFor(items []quarantinedItem) Delivery {
	n := len(items)
	noun := "recordings"
	if n == 1 {
		noun = "recording"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The last pass put %d %s in quarantine: syncd will not send them again by itself.\n", n, noun)
	for _, it := range items[:min(n, maxQuoted)] {
		fmt.Fprintf(&b, "- %s (%s): %s\n", quote(a.scrub(it.dataID), maxIDRunes), quote(it.source, maxSourceRunes),
			quote(a.scrub(it.reason), maxReasonRunes))
	}
	if n > maxQuoted {
		fmt.Fprintf(&b, "and %d more.\n", n-maxQuoted)
	}
	b.WriteString("`syncd -status` lists them with their reasons; `syncd -retry-quarantined` sends them again once the cause is fixed.")
	return Delivery{
		Kind: KindQuarantine, Severity: severityWarning,
		Title: fmt.Sprintf("syncd: %d %s quarantined", n, noun),
		Body:  b.String(),
	}
}

// testMessage is what SendTest sends.
func testMessage() Delivery {
	return Delivery{
		Kind: KindTest, Severity: severityInfo,
		Title: "syncd: test alert",
		Body: "This is a test message from syncd -test-connection -send-test-alert. " +
			"syncd sends its alerts about failing syncs here.",
	}
}

// plainError says in plain words what went wrong, then quotes the error,
// scrubbed, stripped of markup and shortened.
func (a *Alerter) plainError(err error) string {
	return fmt.Sprintf("%s (%s)", plainWords(err), quote(a.scrub(err.Error()), maxDetailRunes))
}

// plainWords is what err means, for the owner of the business.
func plainWords(err error) string {
	var ne *sink.NetError
	var ae *sink.APIError
	var netErr net.Error
	switch {
	case errors.Is(err, sink.ErrTokenDisabled):
		return "CRK says the token was revoked"
	case errors.Is(err, sink.ErrInvalidToken):
		return "CRK says the token is wrong or has expired"
	case errors.Is(err, sink.ErrInsufficientScope):
		return "CRK says the token lacks a permission syncd needs"
	case sink.IsAuth(err):
		return "CRK refused syncd's API key or business id"
	case errors.As(err, &ne):
		return "CRK could not be reached"
	case errors.As(err, &ae):
		return "CRK answered with an error"
	case errors.Is(err, connectors.ErrAuth):
		return "the phone system refused syncd's login: check the user name and password (or API client) syncd uses"
	case errors.Is(err, connectors.ErrForbidden):
		return "the phone system accepted the login but does not let this account read recordings"
	case errors.As(err, &netErr) && netErr.Timeout(): // context.DeadlineExceeded too
		return "the phone system did not answer in time"
	case errors.As(err, &netErr):
		return "the phone system could not be reached"
	}
	return "the pass failed"
}
