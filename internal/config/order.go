package config

import (
	"slices"
	"strings"
)

// rank is the position in DESIGN.md's configuration table (the order
// problems are listed in) of the variable a problem is about: the first of
// several ("A/B"), X for X_FILE.
func rank(v string) int {
	order := [...]string{
		"CRK_API_URL", "CRK_API_TOKEN", "CRK_BUSINESS_ID", "CRK_RATE_LIMIT",
		"SYNCD_SCHEDULE", "SYNCD_STATE_PATH", "SYNCD_LISTEN_ADDR", "SYNCD_TIMEZONE",
		"SYNCD_PHONE_REGION", "SYNCD_BACKFILL", "SYNCD_LOOKBACK", "SYNCD_SETTLE", "SYNCD_MAX_CALL_DURATION",
		"SYNCD_CONCURRENCY", "SYNCD_LOG_FORMAT", "SYNCD_LOG_LEVEL",
		"SYNCD_LOG_PHONES", "SYNCD_UNKNOWN_DIRECTION", "SYNCD_UNHEALTHY_AFTER",
		"DTAC_USERNAME", "DTAC_PASSWORD", "DTAC_BASE_URL",
		"THREECX_BASE_URL", "THREECX_CLIENT_ID", "THREECX_CLIENT_SECRET",
		"THREECX_USERNAME", "THREECX_PASSWORD", "THREECX_INCLUDE_INTERNAL",
		"SYNCD_ALERT_CHANNEL", "SYNCD_ALERT_CHAT_ID", "SYNCD_ALERT_WEBHOOK_ID", "SYNCD_ALERT_AFTER", "SYNCD_ALERT_LINK",
	}
	v, _, _ = strings.Cut(v, "/")
	v = strings.TrimSuffix(v, "_FILE")
	if i := slices.Index(order[:], v); i >= 0 {
		return i
	}
	return len(order)
}

// sortProblems puts problems in table order, keeping the order in which
// problems about the same variable were found.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return rank(a.Var) - rank(b.Var) })
}
