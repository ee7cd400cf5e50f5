// Package phone turns the phone numbers sources report into E.164.
package phone

import (
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// E164 returns raw in E.164 form ("+66812345678"), reading a number without
// a country code as one of region (an ISO 3166 code such as "TH"). A number
// that cannot be read as a valid one is returned as given, trimmed: the
// source's own value is better than nothing.
func E164(raw, region string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		// Sources drop the "+" of international numbers ("66812345678").
		if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "0") {
			if n2, err2 := phonenumbers.Parse("+"+s, region); err2 == nil && phonenumbers.IsValidNumber(n2) {
				return phonenumbers.Format(n2, phonenumbers.E164)
			}
		}
		return s
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

// Mask hides the middle of a phone number for logs: "+66812345678" becomes
// "+66812***678". Numbers too short to be a customer's (extensions) are
// returned as given.
func Mask(s string) string {
	r := []rune(s)
	if len(r) < 8 {
		return s
	}
	keep := min(6, len(r)-5)
	return string(r[:keep]) + "***" + string(r[len(r)-3:])
}

// inText is a phone number inside free text (a quarantine reason, a
// source's error): E.164 with its "+", or a national number with its
// leading 0. Recording ids (dtac-…, 3cx-host-123, orkweb-host-123) are not
// matched: the logs show them whole, and -retry-quarantined selects by
// them.
var inText = regexp.MustCompile(`\+\d{8,15}\b|\b0\d{8,9}\b`)

// MaskText masks, as Mask does, every phone number in free text.
func MaskText(s string) string { return inText.ReplaceAllStringFunc(s, Mask) }
