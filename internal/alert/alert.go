// Package alert tells a business when syncing breaks, through the CRK
// notification gateway: after each pass of every source it opens, raises
// and closes incidents (a source failing pass after pass, a source failing
// and working by turns, the CRK token refused), warns of recordings put in
// quarantine, and delivers each message once, retrying failed deliveries
// on later passes, each message on its own, and giving up on a message the
// gateway refuses or cannot deliver for a day. Incidents and undelivered
// messages live in the state file, so a restart neither repeats a message
// nor forgets an open incident.
package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// DefaultAfter is how many failed passes in a row raise a source's alert
// when Config.After is zero.
const DefaultAfter = 3

// Defaults of the backoff between delivery attempts of one message.
const (
	DefaultRetryBase = time.Minute
	DefaultRetryMax  = time.Hour
)

// Bounds on one message's delivery, after which it is dropped (logged at
// warning level and counted in syncd_alerts_dropped_total{reason}).
const (
	// MaxAge is how long a message may wait for delivery: one that could
	// not be delivered within a day is stale. An incident still open
	// raises its alert again, up to date, at its next failed pass.
	MaxAge = 24 * time.Hour
	// MaxRefusals is how many times the gateway may refuse a message
	// itself (an HTTP 4xx other than 401, 403, 404, 408 and 429, or
	// {"ok":false} saying the message is bad, e.g. Telegram's "can't
	// parse entities"). More than one, in case a refusal was the
	// gateway's passing mistake; retrying longer would not help.
	MaxRefusals = 3
)

// TokenKey is the incident key of the CRK token failing; the other keys
// are source names.
const TokenKey = "crk-token"

// Kinds of message, the label of syncd_alerts_sent_total.
const (
	KindSourceDown = "source_down" // a source failed After passes in a row
	KindToken      = "crk_token"   // CRK refuses the token
	KindQuarantine = "quarantine"  // a pass quarantined recordings
	KindFlapping   = "flapping"    // a source fails and works by turns
	KindRecovered  = "recovered"   // an alerted incident is over
	KindTest       = "test"        // SendTest
)

var kinds = []string{KindSourceDown, KindToken, KindQuarantine, KindFlapping, KindRecovered, KindTest}

// Config is the alerting configuration (SYNCD_ALERT_*).
type Config struct {
	Channel   string // sink.ChannelInApp, sink.ChannelTelegram or sink.ChannelDiscord
	ChatID    string // the Telegram chat row id; telegram only
	WebhookID string // the Discord webhook id; discord only
	// After is how many failed passes of a source in a row raise its
	// alert; 0 means DefaultAfter.
	After int
	Link  string // optional, sent with every message (a runbook, say)
	// RetryBase and RetryMax bound the wait before retrying a message
	// whose delivery failed (doubling from RetryBase); zero values take
	// DefaultRetryBase and DefaultRetryMax.
	RetryBase, RetryMax time.Duration
}

// Gateway is what alerting needs of CRK; *sink.Client is the one in use,
// sharing the rate limiter of ingest.
type Gateway interface {
	Notify(ctx context.Context, n sink.Notification) error
	Destinations(ctx context.Context) (json.RawMessage, error)
	WhoAmI(ctx context.Context) (*sink.Identity, error)
}

// Deps are what an Alerter is built with. Gateway is required.
type Deps struct {
	deps.Shared
	Gateway Gateway
	// Store holds the incidents and the message queue. It may be nil for
	// an Alerter that only runs Check and SendTest (-test-connection,
	// which must not open the state file a running daemon holds).
	Store *state.Store
	// Location is the zone of the times in messages (SYNCD_TIMEZONE); nil
	// means UTC.
	Location *time.Location
	// Secrets are values that must never reach a message or a log line
	// (config.Config.Secrets): a last line of defence behind the scrubbing.
	Secrets []string
}

// Alerter raises and delivers alerts. Its methods are safe for concurrent
// use; AfterPass calls are serialised.
type Alerter struct {
	cfg     Config
	gw      Gateway
	store   *state.Store
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	secrets []string
	m       *metrics

	mu sync.Mutex // serialises AfterPass
}

// New checks cfg and returns an Alerter. It does no I/O.
func New(cfg Config, d Deps) (*Alerter, error) {
	switch cfg.Channel {
	case sink.ChannelTelegram:
		if cfg.ChatID == "" {
			return nil, errors.New("alert: channel telegram needs a chat id")
		}
	case sink.ChannelDiscord:
		if cfg.WebhookID == "" {
			return nil, errors.New("alert: channel discord needs a webhook id")
		}
	case sink.ChannelInApp:
	case "":
		return nil, errors.New("alert: no channel: alerting is off")
	default:
		return nil, fmt.Errorf("alert: unknown channel %q", cfg.Channel)
	}
	if cfg.Link != "" {
		if u, err := url.Parse(cfg.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("alert: the link is not an absolute http(s) URL")
		}
	}
	if cfg.After < 0 {
		return nil, fmt.Errorf("alert: After is %d, want 1 or more", cfg.After)
	}
	if cfg.After == 0 {
		cfg.After = DefaultAfter
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if d.Gateway == nil {
		return nil, errors.New("alert: a gateway is required")
	}
	sh := d.Shared.Defaulted()
	m, err := newMetrics(sh.Registerer)
	if err != nil {
		return nil, err
	}
	a := &Alerter{cfg: cfg, gw: d.Gateway, store: d.Store, log: sh.Logger, now: sh.Now, loc: d.Location, m: m}
	if a.loc == nil {
		a.loc = time.UTC
	}
	for _, s := range d.Secrets {
		if len(s) >= 4 {
			a.secrets = append(a.secrets, s)
		}
	}
	return a, nil
}

// AfterPass is called after each pass of every source with what passAll
// returned, after Streaks.Record of the same results (whose counts of
// failures in a row it reads). It updates the incidents, queues the
// messages they call for, then delivers what is due. It never fails: what
// goes wrong is logged and counted.
func (a *Alerter) AfterPass(ctx context.Context, results []syncer.Result) {
	if a.store == nil {
		a.log.Error("alerting: no state file: built for checks only")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	// The state file is local and quick: what the passes did is recorded
	// even when ctx has ended (the daemon stopping); only delivery waits.
	local := context.WithoutCancel(ctx)
	err := updateAlerts(local, a.store, func(tx alertTx) error { return a.apply(tx, now, results) })
	if err != nil {
		a.log.Error("alerting: saving the incidents failed", "err", a.scrub(err.Error()))
	}
	if ctx.Err() == nil {
		a.flush(ctx)
	}
	a.countOpen(local)
}

// Destination names where messages go, for display: "telegram chat <id>",
// "discord webhook <id>" or "the in-app feed".
func (a *Alerter) Destination() string {
	switch a.cfg.Channel {
	case sink.ChannelTelegram:
		return fmt.Sprintf("telegram chat %s", a.cfg.ChatID)
	case sink.ChannelDiscord:
		return fmt.Sprintf("discord webhook %s", a.cfg.WebhookID)
	}
	return "the in-app feed"
}

// countOpen sets syncd_incidents_open from the state file.
func (a *Alerter) countOpen(ctx context.Context) {
	open := 0
	err := viewAlerts(ctx, a.store, func(tx alertTx) error {
		incs, err := tx.Incidents()
		for _, inc := range incs {
			if inc.Raised() {
				open++
			}
		}
		return err
	})
	if err != nil {
		a.log.Warn("alerting: reading the incidents failed", "err", a.scrub(err.Error()))
		return
	}
	a.m.open.Set(float64(open))
}
