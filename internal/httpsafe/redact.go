package httpsafe

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces what Redact removes.
const Redacted = "[redacted]"

var (
	// headerValue is the value of a credential header echoed back (a proxy
	// page quoting the request), or of such a JSON member. A value already
	// redacted (a configured secret) is taken whole. Values end at space,
	// quotes, angle brackets, separators and closing brackets.
	headerValue = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|cookie)(["']?\s*[:=]\s*["']?)(?:(?:bearer|basic)\s+)?(?:\[redacted\]|[^\s"'<>,;)\]}]+)`)
	// bearer is a Bearer credential anywhere.
	bearer = regexp.MustCompile(`(?i)\b(bearer)\s+(?:\[redacted\]|[^\s"'<>,;)\]}]+)`)
	// crkKey is a CRK API key.
	crkKey = regexp.MustCompile(`crk_[A-Za-z0-9_-]+`)
)

// Redact makes text taken from a foreign answer fit for an error, a log
// line or a status page: every secret given (a password, a client secret,
// a session token; empty ones are skipped), the value of an echoed
// Authorization, Proxy-Authorization or Cookie header, any Bearer
// credential and anything shaped like a CRK key (crk_…) become
// "[redacted]". Apply it before cutting the text short, so that a
// credential is never cut into a shape these rules miss.
func Redact(s string, secrets ...string) string {
	secrets = slices.Clone(secrets)
	// Longest first, so that no secret is half-replaced by a shorter one
	// inside it.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, sec := range secrets {
		if sec != "" && utf8.ValidString(sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	s = headerValue.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	s = crkKey.ReplaceAllString(s, "crk_"+Redacted)
	return s
}
