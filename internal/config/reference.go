package config

import (
	"strings"

	"github.com/crkai/syncd/internal/sources"
)

// Var is one environment variable as people read about it: in `syncd -h`
// and the README. Reference lists every one the configuration reads
// (a test keeps the two in step).
type Var struct {
	Name    string
	Default string // "" when none; "required" when it must be given
	Help    string
}

// Reference is every variable syncd reads, in the order of the README:
// CRK, the daemon, alerting, then each kind of source's own (its Kind's
// Vars). Secrets (marked) may also be given as NAME_FILE or a systemd
// credential.
var Reference = append([]Var{
	{"CRK_API_URL", DefaultCRKAPIURL, "CRK base URL (https://, or http:// to a loopback host)"},
	{"CRK_API_TOKEN", "required", "business or account key, crk_… (secret)"},
	{"CRK_BUSINESS_ID", "", "the business, with an account key (sent as X-Business-Id)"},
	{"CRK_RATE_LIMIT", "600", "CRK requests per minute, shared by every source"},
	{"SYNCD_SCHEDULE", DefaultSchedule, "cron expression (5 fields, or @every 2m), in SYNCD_TIMEZONE"},
	{"SYNCD_STATE_PATH", "$STATE_DIRECTORY/syncd.db, else ./syncd.db", "the state file"},
	{"SYNCD_LISTEN_ADDR", DefaultListenAddr, "the status page at /, /metrics, /healthz, /readyz, /status; empty: no listener"},
	{"SYNCD_WEB_CONFIG_FILE", "", "TLS and basic auth of the listener: a Prometheus web configuration file (docs/web-config.md)"},
	{"SYNCD_HEALTHCHECK_USER", "", "the user -healthcheck and -status send when the web configuration asks for basic auth"},
	{"SYNCD_HEALTHCHECK_PASSWORD", "", "that user's password, in clear (secret)"},
	{"SYNCD_TIMEZONE", DefaultTimezone, "zone of the calls' local time"},
	{"SYNCD_PHONE_REGION", DefaultPhoneRegion, "region for turning local numbers into E.164"},
	{"SYNCD_BACKFILL", "24h", "how far back a source's first pass looks"},
	{"SYNCD_LOOKBACK", "2h", "how far behind the cursor every pass looks again"},
	{"SYNCD_SETTLE", "2m", "calls that ended less than this ago wait for the next pass"},
	{"SYNCD_MAX_CALL_DURATION", "4h", "the longest call expected"},
	{"SYNCD_CONCURRENCY", "4", "recordings in flight at once (1–64)"},
	{"SYNCD_LOG_FORMAT", DefaultLogFormat, "text or json"},
	{"SYNCD_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SYNCD_LOG_PHONES", DefaultLogPhones, "masked or full"},
	{"SYNCD_UNKNOWN_DIRECTION", DefaultUnknownDir, "a call whose source does not say its direction: in, out or quarantine"},
	{"SYNCD_UNHEALTHY_AFTER", "3", "failed passes in a row before /healthz fails"},
	{"SYNCD_ALERT_CHANNEL", "", "telegram, discord or in_app: alerts through CRK's gateway"},
	{"SYNCD_ALERT_CHAT_ID", "", "the Telegram chat (with telegram)"},
	{"SYNCD_ALERT_WEBHOOK_ID", "", "the Discord webhook (with discord)"},
	{"SYNCD_ALERT_AFTER", "3", "failed passes in a row before a source-down alert"},
	{"SYNCD_ALERT_LINK", "", "a link every alert carries (a runbook)"},
}, sourceReference()...)

// sourceReference is every kind's variables, as Reference lists them.
func sourceReference() []Var {
	var out []Var
	for _, k := range sources.All() {
		for _, v := range k.Vars {
			help := v.Help
			if v.Secret {
				help = strings.TrimSpace(help + " (secret)")
			}
			out = append(out, Var{Name: v.Name, Default: v.Default, Help: help})
		}
	}
	return out
}
