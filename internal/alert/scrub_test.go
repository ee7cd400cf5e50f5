package alert

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	a := &Alerter{secrets: []string{"hunter2-secret"}}
	tests := []struct {
		name, in, want string
	}{
		{"plain text stays", "dtac: login: login refused", "dtac: login: login refused"},
		{"presigned URL loses its query",
			`PUT "https://s3.example.com/b/k.wav?X-Amz-Signature=abc&X-Amz-Credential=AKIA": 403`,
			`PUT "https://s3.example.com/b/k.wav": 403`},
		{"user info and fragment", "GET https://u:p4ss@pbx.example.com/xapi/v1#frag failed", "GET https://pbx.example.com/xapi/v1 failed"},
		{"trailing punctuation stays outside", "see https://pbx.example.com/a?token=x.", "see https://pbx.example.com/a."},
		{"URL that does not parse", "dial https://[::1/x?sig=1 failed", "dial [url] failed"},
		{"CRK key", "token crk_live_AbC-123_xyz refused", "token crk_[redacted] refused"},
		{"Authorization header", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"},
		{"basic auth", "header Basic dXNlcjpwYXNz=", "header Basic [redacted]"},
		{"form fields", "password=s3cr3t&user=x client_secret=abc; api_key=k", "password=[redacted]&user=x client_secret=[redacted]; api_key=[redacted]"},
		{"JSON fields", `{"password": "s3cr3t","user":"x","accessToken":"t"}`, `{"password":"[redacted]","user":"x","accessToken":"[redacted]"}`},
		{"error codes are not secrets", "crk create: 401 invalid_token: Invalid or expired token", "crk create: 401 invalid_token: Invalid or expired token"},
		{"configured secret", "login as +66812345678 with hunter2-secret failed", "login as +66812345678 with [redacted] failed"},
		{"first line only", "panic: boom\ngoroutine 1 [running]:\nmain.main()", "panic: boom"},
		{"invalid UTF-8", "bad \xff byte", "bad ? byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.scrub(tt.in); got != tt.want {
				t.Errorf("scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer text", 5, "a lo…"},
		{strings.Repeat("ก", 8), 4, "กกก…"},
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	a := &Alerter{cfg: Config{RetryBase: DefaultRetryBase, RetryMax: DefaultRetryMax}}
	for n, want := range map[int]string{1: "1m0s", 2: "2m0s", 3: "4m0s", 6: "32m0s", 7: "1h0m0s", 40: "1h0m0s", 1000: "1h0m0s"} {
		if got := a.backoff(n).String(); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
