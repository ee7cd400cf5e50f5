package dtac

import (
	"strings"
	"testing"
)

func TestExcerpt(t *testing.T) {
	const pw = "hunter2-long-password"
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Service Unavailable", "Service Unavailable"},
		{"html", "<html><head><title>Error</title><style>p{color:red}</style><script>var a=1;</script></head>" +
			"<body><h1>502 Bad&nbsp;Gateway</h1>\n\n<p>nginx &amp; co</p></body></html>", "Error 502 Bad Gateway nginx & co"},
		{"uppercase script", "<SCRIPT>alert(1)</SCRIPT>ok", "ok"},
		{"unclosed script", "before<script>never closed", "before"},
		{"control characters", "a\x00b\x1bc\td", "abc d"},
		{"invalid UTF-8", "ok\xff\xfe", "ok"},
		{"thai", "<p>เกิดข้อผิดพลาด</p>", "เกิดข้อผิดพลาด"},
		{"long", strings.Repeat("é", 200), strings.Repeat("é", maxExcerpt) + "…"},
		{"password", "user x password " + pw + " refused", "user x password [redacted] refused"},
		{"password html-escaped", "password <b>" + strings.ReplaceAll(pw, "-", "&#45;") + "</b>", "password [redacted]"},
		{"password cut by a read limit", "password " + pw[:10], "password [redacted]"},
	} {
		if got := excerpt([]byte(tc.in), pw); got != tc.want {
			t.Errorf("%s: excerpt = %q, want %q", tc.name, got, tc.want)
		}
	}
}
