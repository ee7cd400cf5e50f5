package alert

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

const redacted = "[redacted]"

var (
	// anyURL is a URL up to a space or a quote.
	anyURL = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://[^\s"'<>]+`)
	// crkToken is a CRK key.
	crkToken = regexp.MustCompile(`crk_[A-Za-z0-9_\-]+`)
	// authHeader is the credential of an Authorization header.
	authHeader = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+`)
	// secretParam is name=value where the name says secret (a query or a
	// form outside a URL); secretJSON is "name":"value".
	secretParam = regexp.MustCompile(`(?i)\b([a-z0-9_\-]*(?:password|passwd|pwd|secret|token|signature|credential|api_?key))=[^\s&,;"']+`)
	secretJSON  = regexp.MustCompile(`(?i)"([a-z0-9_\-]*(?:password|passwd|pwd|secret|token|signature|credential|api_?key))"\s*:\s*"[^"]*"`)
)

// scrub makes s fit for a message or a log line: its first line only (no
// stack trace), URLs without credentials, query or fragment (presigned
// URLs carry their signature there), and no CRK key, Authorization
// credential, secret-looking parameter or configured secret.
func (a *Alerter) scrub(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(strings.ToValidUTF8(s, "?"))
	s = anyURL.ReplaceAllStringFunc(s, scrubURL)
	s = authHeader.ReplaceAllString(s, "$1 "+redacted)
	s = crkToken.ReplaceAllString(s, "crk_"+redacted)
	s = secretParam.ReplaceAllString(s, "$1="+redacted)
	s = secretJSON.ReplaceAllString(s, `"$1":"`+redacted+`"`)
	for _, sec := range a.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

// scrubURL is u without user info, query and fragment; a URL that does
// not parse is dropped whole.
func scrubURL(raw string) string {
	trail := ""
	for raw != "" && strings.ContainsRune(".,;:)]", rune(raw[len(raw)-1])) {
		trail = raw[len(raw)-1:] + trail
		raw = raw[:len(raw)-1]
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[url]" + trail
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String() + trail
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// markup turns, in quoted text, each character that the gateway's
// renderers could read as markup into a look-alike that none reads so:
// Telegram's Markdown (* _ ` [ ]) and HTML (< > &) parse modes, where an
// unbalanced marker makes Telegram refuse the whole message, and Discord's
// markdown (also ~ | \ and @everyone pings). The characters that are
// markup only in Telegram's MarkdownV2 (. - ! ( ) { } + = #) are kept:
// every sentence of every message has them, so a gateway sending with
// MarkdownV2 without escaping would refuse all messages alike; at a
// line's start (Discord lists and quotes) quoted text never stands.
var markup = strings.NewReplacer(
	"*", "\u2217", // ∗ asterisk operator
	"_", "\uff3f", // ＿ fullwidth low line
	"`", "'",
	"[", "(",
	"]", ")",
	"<", "\u2039", // ‹
	">", "\u203a", // ›
	"&", "\uff06", // ＆
	"~", "\u223c", // ∼ tilde operator
	"|", "\u00a6", // ¦ broken bar
	"\\", "\u2216", // ∖ set minus
	"@", "\uff20", // ＠
)

// quote makes s, already scrubbed, fit to stand inside a message: no
// markup (see markup), no control or invisible formatting character (a
// right-to-left override, say), at most n runes.
func quote(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	return clip(markup.Replace(s), n)
}
