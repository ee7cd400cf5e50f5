package config

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"github.com/robfig/cron/v3"
)

// empty records that a variable with a default was set to "".
func (b *builder) empty(name, def string) {
	b.add(name, "is set but empty: unset it to use the default (%s)", def)
}

// baseURL checks an absolute https:// URL (http:// only for a loopback
// host, since what travels with it must not travel in clear) and returns it
// without a trailing "/". With allowPath false, only "/" may follow the
// host. The URL is never echoed: it could hold credentials.
func (b *builder) baseURL(name, raw, def, what string, allowPath bool) string {
	return b.checkURL(name, raw, def, what, allowPath, false)
}

// checkURL is baseURL; with plainHTTP, http:// is allowed for any host (a
// server on the customer's own network that serves no TLS).
func (b *builder) checkURL(name, raw, def, what string, allowPath, plainHTTP bool) string {
	if raw == "" {
		b.empty(name, def)
		return ""
	}
	u, ok := b.parseURL(name, raw)
	if !ok {
		return ""
	}
	n := len(b.problems)
	switch {
	case u.Scheme == "" || u.Host == "" || u.Hostname() == "" || u.Opaque != "":
		b.add(name, "must be an absolute URL such as https://host")
	case u.Scheme == "http":
		if !plainHTTP && !isLoopback(u.Hostname()) {
			b.add(name, "http:// is allowed only for a loopback host (127.0.0.1, ::1, localhost), as %s must not travel in clear: use https://", what)
		}
	case u.Scheme != "https" && plainHTTP:
		b.add(name, "scheme %q is not supported: use http:// or https://", u.Scheme)
	case u.Scheme != "https":
		b.add(name, "scheme %q is not supported: use https://", u.Scheme)
	}
	if u.User != nil {
		b.add(name, "must not hold a user name or password")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		b.add(name, "must not have a query (?…) or a fragment (#…)")
	}
	if !allowPath && u.Path != "" && u.Path != "/" {
		b.add(name, "must have no path: give only the scheme, the host and the port if any, such as https://pbx.example.com")
	}
	if len(b.problems) > n {
		return ""
	}
	return strings.TrimRight(raw, "/")
}

// parseURL parses raw, recording a problem if it is not a URL. The problem
// gives only the parser's reason, not raw, which could hold credentials.
func (b *builder) parseURL(name, raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		b.add(name, "is not a URL: %v", err)
		return nil, false
	}
	return u, true
}

// isLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// checkToken checks the form of the CRK key without ever printing it.
func (b *builder) checkToken(t resolvedSecret) {
	v := t.secret.Reveal()
	if !strings.HasPrefix(v, "crk_") {
		b.add(t.from, `does not start with "crk_": it must be a CRK business or account key`)
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		b.add(t.from, "contains spaces or control characters")
	}
}

// parseInt parses a whole number, recording a problem when it is not one.
func (b *builder) parseInt(name, raw string, def int) (int, bool) {
	if raw == "" {
		b.empty(name, strconv.Itoa(def))
		return 0, false
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		b.add(name, "%q is not a whole number", raw)
		return 0, false
	}
	return n, true
}

func (b *builder) positiveInt(name, raw string, def int, unit string) int {
	n, ok := b.parseInt(name, raw, def)
	if ok && n <= 0 {
		b.add(name, "must be a positive whole number (%s), not %d", unit, n)
	}
	return n
}

func (b *builder) intRange(name, raw string, def, lo, hi int) int {
	n, ok := b.parseInt(name, raw, def)
	if ok && (n < lo || n > hi) {
		b.add(name, "must be from %d to %d, not %d", lo, hi, n)
	}
	return n
}

// logPhones is SYNCD_LOG_PHONES: "masked" or "full".
func (b *builder) logPhones(name, raw string) string {
	switch v := strings.ToLower(raw); v {
	case "masked", "full":
		return v
	case "":
		b.empty(name, DefaultLogPhones)
	default:
		b.add(name, "%q is neither masked nor full", raw)
	}
	return DefaultLogPhones
}

func (b *builder) unknownDirection(name, raw string) string {
	switch v := strings.ToLower(raw); v {
	case "in", "out", "quarantine":
		return v
	case "":
		b.empty(name, DefaultUnknownDir)
	default:
		b.add(name, "%q is none of in, out, quarantine", raw)
	}
	return DefaultUnknownDir
}

// CronParser is the parser of SYNCD_SCHEDULE, shared with the daemon's
// scheduler so that what validates is what runs.
func CronParser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// schedule checks raw the way the daemon's scheduler will parse it: 5 fields
// or a descriptor (@every 2m, @hourly, …).
func (b *builder) schedule(name, raw string) string {
	if raw == "" {
		b.empty(name, DefaultSchedule)
		return ""
	}
	if _, err := CronParser().Parse(raw); err != nil {
		b.add(name, "%q is not a cron schedule (5 fields such as */5 * * * *, or a descriptor such as @every 2m): %v", raw, err)
	}
	return raw
}

// listenAddr returns raw, which is "" (disabled) or host:port.
func (b *builder) listenAddr(name, raw string) string {
	if raw == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(raw)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		b.add(name, "%q is not host:port (such as 127.0.0.1:9464; empty disables the listener): %v", raw, err)
		return raw
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		b.add(name, "port %q is not a number from 1 to 65535", port)
	}
	return raw
}

func (b *builder) location(name, raw string) *time.Location {
	if raw == "" {
		b.empty(name, DefaultTimezone)
		return nil
	}
	loc, err := time.LoadLocation(raw)
	if err != nil {
		b.add(name, "%q is not a time zone: use an IANA name such as Asia/Bangkok or UTC", raw)
		return nil
	}
	return loc
}

func (b *builder) region(name, raw string) string {
	if raw == "" {
		b.empty(name, DefaultPhoneRegion)
		return ""
	}
	r := strings.ToUpper(raw)
	if !phonenumbers.GetSupportedRegions()[r] {
		b.add(name, "%q is not a region known to libphonenumber: use a two-letter country code such as TH", raw)
	}
	return r
}

// duration parses Go duration syntax; it must be > 0, or ≥ 0 with zeroOK.
func (b *builder) duration(name, raw, def string, zeroOK bool) time.Duration {
	if raw == "" {
		b.empty(name, def)
		return 0
	}
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		b.add(name, "%q is not a duration: use Go duration syntax like 24h, 90m", raw)
	case zeroOK && d < 0:
		b.add(name, "must not be negative")
	case !zeroOK && d <= 0:
		b.add(name, "must be more than 0")
	}
	return d
}

func (b *builder) logFormat(name, raw string) string {
	if raw == "" {
		b.empty(name, DefaultLogFormat)
		return ""
	}
	f := strings.ToLower(raw)
	if f != "text" && f != "json" {
		b.add(name, "%q is not a log format: use text or json", raw)
	}
	return f
}

func (b *builder) logLevel(name, raw string) slog.Level {
	var l slog.Level
	switch strings.ToLower(raw) {
	case "":
		b.empty(name, "info")
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		b.add(name, "%q is not a log level: use debug, info, warn or error", raw)
	}
	return l
}

// parseBool parses a boolean as strconv does (true, false, 1, 0, …).
func (b *builder) parseBool(name, raw, def string) bool {
	if raw == "" {
		b.empty(name, def)
		return false
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		b.add(name, "%q is not a boolean: use true or false", raw)
	}
	return v
}
