package httpsafe_test

import (
	"testing"

	"github.com/crkai/syncd/internal/httpsafe"
)

func TestRedact(t *testing.T) {
	const (
		pw    = "hunter2-horse"
		token = "0f8e2a6c-1111-4222-8333-944445555666"
	)
	for _, tc := range []struct{ in, want string }{
		{"nothing secret here", "nothing secret here"},
		{"Authorization: Bearer crk_live_AbC-123_x\r\nHost: crk", "Authorization: [redacted]\r\nHost: crk"},
		{"<td>Authorization</td><td>Bearer crk_live_AbC</td>", "<td>Authorization</td><td>Bearer [redacted]</td>"},
		{`{"message":"bad token crk_live_AbC-123 for user"}`, `{"message":"bad token crk_[redacted] for user"}`},
		{`{"headers":{"authorization":"Bearer eyJhbGciOi.eyJzdWIi.sig"}}`, `{"headers":{"authorization":"[redacted]"}}`},
		{"authorization=" + token, "authorization=[redacted]"},
		{"Authorization: " + token, "Authorization: [redacted]"},
		{"session " + token + " expired", "session [redacted] expired"},
		{"user x password " + pw + ".", "user x password [redacted]."},
		{"bearer abc.def", "bearer [redacted]"},
		{"Cookie: JSESSIONID=ABCDEF; Path=/", "Cookie: [redacted]; Path=/"},
		{"Authorization must be given", "Authorization must be given"},
	} {
		if got := httpsafe.Redact(tc.in, "", pw, token); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A secret inside a longer one: the longer goes whole.
	if got := httpsafe.Redact("key abcdef", "abc", "abcdef"); got != "key [redacted]" {
		t.Errorf("nested secrets: %q", got)
	}
}

func TestRedactKeepsClosingBrackets(t *testing.T) {
	if got := httpsafe.Redact("{Authorization: Bearer abc.def} (bearer xyz)"); got != "{Authorization: [redacted]} (bearer [redacted])" {
		t.Errorf("Redact = %q", got)
	}
}

// TestRedactSecretWithAClosingBracket: a configured secret goes whole even
// where the patterns would stop at one of its characters.
func TestRedactSecretWithAClosingBracket(t *testing.T) {
	const tok = "ab)cd]ef"
	if got := httpsafe.Redact("Authorization: Bearer "+tok+" x", tok); got != "Authorization: [redacted] x" {
		t.Errorf("Redact = %q", got)
	}
}
