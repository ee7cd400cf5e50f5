// Package config reads syncd's configuration from the environment (and the
// secret files it names), validates it, and reports every problem at once.
package config

import (
	"log/slog"
	"time"
)

// Defaults of the variables that have one (DESIGN.md, "Configuration").
const (
	DefaultCRKAPIURL      = "https://phone.mcloud.co.th/api/v1"
	DefaultRateLimit      = 600
	DefaultSchedule       = "*/5 * * * *"
	DefaultStateFile      = "syncd.db"
	DefaultStatePath      = "./" + DefaultStateFile
	DefaultListenAddr     = "127.0.0.1:9464"
	DefaultTimezone       = "Asia/Bangkok"
	DefaultPhoneRegion    = "TH"
	DefaultBackfill       = 24 * time.Hour
	DefaultLookback       = 2 * time.Hour
	DefaultSettle         = 2 * time.Minute
	DefaultMaxCall        = 4 * time.Hour
	DefaultConcurrency    = 4
	DefaultLogFormat      = "text"
	DefaultLogLevel       = slog.LevelInfo
	DefaultAlertAfter     = 3
	DefaultLogPhones      = "masked"
	DefaultUnknownDir     = "in"
	DefaultUnhealthyAfter = 3
	MaxConcurrency        = 64
)

// Config is syncd's validated configuration. Load fills it from these
// environment variables (default in parentheses):
//
// CRK Call Recording AI API:
//   - CRK_API_URL (https://phone.mcloud.co.th/api/v1): base URL; https://,
//     or http:// for a loopback host only. A trailing "/" is dropped.
//   - CRK_API_TOKEN (required, secret): business or account key, "crk_…".
//   - CRK_BUSINESS_ID (empty): the business, required with an account key
//     (sent as X-Business-Id).
//   - CRK_RATE_LIMIT (600): CRK requests per minute, shared by every source.
//
// The daemon:
//   - SYNCD_SCHEDULE (*/5 * * * *): cron expression, 5 fields or a
//     descriptor such as "@every 2m" or "@hourly".
//   - SYNCD_STATE_PATH ($STATE_DIRECTORY/syncd.db under systemd, using the
//     first of its colon-separated paths; else ./syncd.db): the bbolt file.
//   - SYNCD_LISTEN_ADDR (127.0.0.1:9464): host:port of /metrics, /healthz,
//     /readyz; set to the empty string to disable the listener.
//   - SYNCD_TIMEZONE (Asia/Bangkok): IANA zone of the calls' local time.
//   - SYNCD_PHONE_REGION (TH): region for turning local numbers into E.164.
//   - SYNCD_BACKFILL (24h): how far back a source's very first pass looks (> 0).
//   - SYNCD_LOOKBACK (2h): how far behind the cursor every pass looks again (≥ 0).
//   - SYNCD_SETTLE (2m): recordings whose call ended less than this ago wait for the next pass (≥ 0).
//   - SYNCD_MAX_CALL_DURATION (4h): the longest call expected; every pass also
//     looks this far behind the cursor, so a long call is sent once it ends (> 0).
//   - SYNCD_CONCURRENCY (4): recordings in flight at once, 1–64.
//   - SYNCD_LOG_FORMAT (text): "text" or "json".
//   - SYNCD_LOG_LEVEL (info): "debug", "info", "warn" or "error".
//   - SYNCD_LOG_PHONES (masked): "masked" logs customer numbers as
//     +66812***678, "full" logs them whole.
//   - SYNCD_UNHEALTHY_AFTER (3): /healthz fails after this many failed
//     passes in a row of any source, 1–1000.
//
// Each kind of source (internal/sources) brings its own variables
// (connectors.Kind.Vars), the first of which enables it: DTAC_USERNAME for
// DTAC One Call, THREECX_BASE_URL for 3CX. Its Kind's Configure checks them
// through this package, so that they are checked, and their problems
// reported, like every other variable.
//
// Alerting through the CRK notification gateway, enabled by
// SYNCD_ALERT_CHANNEL:
//   - SYNCD_ALERT_CHANNEL (empty: off): "in_app", "telegram" or "discord".
//   - SYNCD_ALERT_CHAT_ID: the Telegram chat row id; required with telegram.
//   - SYNCD_ALERT_WEBHOOK_ID: the Discord webhook id; required with discord.
//   - SYNCD_ALERT_AFTER (3): consecutive failed passes of a source that
//     raise an alert, 1 or more.
//   - SYNCD_ALERT_LINK (empty): an absolute http(s) URL sent with every
//     message, such as the operator's runbook.
//
// At least one source must be enabled. Every secret X may instead be given as
// X_FILE, the path of a file holding it (Docker secrets), or, when neither is
// set, as a systemd credential: the file $CREDENTIALS_DIRECTORY/x (the name
// in lower case). Trailing whitespace of a secret file is dropped.
//
// A variable set to the empty string counts as unset, except that an empty
// SYNCD_LISTEN_ADDR disables the listener and an empty variable that has a
// default is a problem (unset it to get the default).
type Config struct {
	CRK CRK

	Schedule   string
	StatePath  string
	ListenAddr string // "" when disabled
	// WebConfigFile is the listener's TLS and basic auth (the Prometheus
	// exporters' web configuration file); "" serves plain HTTP to all.
	WebConfigFile string
	// HealthcheckUser and HealthcheckPassword are the basic auth that
	// syncd's own commands (-healthcheck, -status) send to the listener.
	HealthcheckUser     string
	HealthcheckPassword Secret
	Location            *time.Location
	// PhoneRegion is upper case, e.g. "TH".
	PhoneRegion string
	Backfill    time.Duration
	Lookback    time.Duration
	Settle      time.Duration
	MaxCall     time.Duration
	Concurrency int
	LogFormat   string // "text" or "json"
	LogLevel    slog.Level
	// LogPhones is "masked" or "full".
	LogPhones string
	// UnknownDirection is "in", "out" or "quarantine": what a call whose
	// source does not say its direction is sent as.
	UnknownDirection string
	UnhealthyAfter   int

	// sources are the enabled sources, in the order of sources.All.
	sources []Source

	Alert Alert
}

// CRK is the CRK API client's configuration.
type CRK struct {
	APIURL     string
	Token      Secret
	BusinessID string
	RateLimit  int // requests per minute
}

// Sources returns the names of the enabled sources, in the order of
// sources.All: "dtac", then "3cx".
func (c *Config) Sources() []string {
	var s []string
	for _, src := range c.sources {
		s = append(s, src.Name())
	}
	return s
}

// Source returns the enabled source named name.
func (c *Config) Source(name string) (Source, bool) {
	for _, src := range c.sources {
		if src.Name() == name {
			return src, true
		}
	}
	return Source{}, false
}

// Secrets returns the values of every secret that is set, so that output
// meant for people can be scrubbed of them as a last line of defence.
func (c *Config) Secrets() []string {
	var out []string
	if c.CRK.Token.IsSet() {
		out = append(out, c.CRK.Token.Reveal())
	}
	for _, src := range c.sources {
		for _, s := range src.secrets() {
			out = append(out, s.secret.Reveal())
		}
	}
	return out
}

// SourceFingerprint names source's log-in configuration (base URL, user,
// secret: its Kind's Configured.Login), so that syncd can tell a changed
// configuration after refused log-ins. It is 32 bits of a SHA-256: enough
// to notice a change, too few to help anyone guess the secret from the
// state file where it is kept. It is "" for a source that is not enabled.
func (c *Config) SourceFingerprint(source string) string {
	src, ok := c.Source(source)
	if !ok {
		return ""
	}
	return src.fingerprint
}
