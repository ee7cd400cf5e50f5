package dtac

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timestampLayouts are the forms a recording's timestamp is read in: the
// portal's "2006-01-02 15:04:05" in UTC, and, to be safe, the same with an
// offset or "Z". A "T" separator is read as a space first, and fractional
// seconds are accepted by time.Parse after the seconds of any layout.
var timestampLayouts = [...]string{
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z0700",
}

// parseTimestamp reads a recording's start. Without an offset it is UTC.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == 't') {
		s = s[:10] + " " + s[11:]
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil && t.Year() >= 1970 {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %s is not a time like \"2006-01-02 15:04:05\" (UTC)", quoteShort(s))
}

// quoteShort quotes a value the portal sent, cut to a readable length
// (at most about 48 bytes of quoted text).
func quoteShort(s string) string {
	const max = 48
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		q := strconv.QuoteRune(r)
		q = q[1 : len(q)-1] // without the single quotes
		if r == '"' {
			q = `\"`
		} else if r == '\'' {
			q = "'"
		}
		if b.Len()-1+len(q) > max {
			b.WriteString(`"…`)
			return b.String()
		}
		b.WriteString(q)
	}
	b.WriteByte('"')
	return b.String()
}
