package config

import (
	"slices"
	"strings"

	"github.com/crkai/syncd/internal/sources"
)

// problemOrder is the order of DESIGN.md's configuration table, in which
// problems are listed: CRK, the daemon, each kind's variables in the order
// of sources.All, alerting.
var problemOrder = func() []string {
	order := []string{
		"CRK_API_URL", "CRK_API_TOKEN", "CRK_BUSINESS_ID", "CRK_RATE_LIMIT",
		"SYNCD_SCHEDULE", "SYNCD_STATE_PATH", "SYNCD_LISTEN_ADDR", "SYNCD_WEB_CONFIG_FILE", "SYNCD_HEALTHCHECK_USER", "SYNCD_HEALTHCHECK_PASSWORD", "SYNCD_TIMEZONE",
		"SYNCD_PHONE_REGION", "SYNCD_BACKFILL", "SYNCD_LOOKBACK", "SYNCD_SETTLE", "SYNCD_MAX_CALL_DURATION",
		"SYNCD_CONCURRENCY", "SYNCD_LOG_FORMAT", "SYNCD_LOG_LEVEL",
		"SYNCD_LOG_PHONES", "SYNCD_UNKNOWN_DIRECTION", "SYNCD_UNHEALTHY_AFTER",
	}
	for _, k := range sources.All() {
		for _, v := range k.Vars {
			order = append(order, v.Name)
		}
	}
	return append(order, "SYNCD_ALERT_CHANNEL", "SYNCD_ALERT_CHAT_ID", "SYNCD_ALERT_WEBHOOK_ID", "SYNCD_ALERT_AFTER", "SYNCD_ALERT_LINK")
}()

// rank is the position in problemOrder of the variable a problem is about:
// the first of several ("A/B"), X for X_FILE.
func rank(v string) int {
	v, _, _ = strings.Cut(v, "/")
	v = strings.TrimSuffix(v, "_FILE")
	if i := slices.Index(problemOrder, v); i >= 0 {
		return i
	}
	return len(problemOrder)
}

// sortProblems puts problems in table order, keeping the order in which
// problems about the same variable were found.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return rank(a.Var) - rank(b.Var) })
}
