package alert

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/sink"
)

func TestClassify(t *testing.T) {
	delivery := func(text string) error { return &sink.DeliveryError{Channel: "telegram", Message: text} }
	api := func(status int, code string) error {
		return fmt.Errorf("notify: %w", &sink.APIError{Endpoint: "notify", Status: status, Code: code, RetryAfter: 7 * time.Second})
	}
	for _, tt := range []struct {
		err  error
		want failure
		wait time.Duration
	}{
		{delivery("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 4"), failRefused, 0},
		{delivery("Bad Request: message is too long"), failRefused, 0},
		{delivery("Bad Request: message text is empty"), failRefused, 0},
		{delivery("Discord API error: 400 Bad Request: Invalid Form Body"), failRefused, 0},
		{delivery("Telegram API error: 400"), failRefused, 0},
		{delivery("Bad Request: chat not found"), failAll, 0},
		{delivery("Forbidden: bot was blocked by the user"), failAll, 0},
		{delivery("Discord API error: 404 Unknown Webhook"), failAll, 0},
		{delivery("Telegram API error: 403"), failAll, 0},
		{delivery("Too Many Requests: retry after 30"), failRateLimited, 30 * time.Second},
		{delivery("Telegram API error: 429 Too Many Requests: retry after 5"), failRateLimited, 5 * time.Second},
		{delivery("Telegram API error: 429"), failRateLimited, 0},
		{delivery("Telegram API error: 502 Bad Gateway"), failTransient, 0},
		{delivery("no reason given"), failTransient, 0},
		{delivery("timeout"), failTransient, 0},
		{api(422, "validation_failed"), failRefused, 0},
		{api(400, "bad_request"), failRefused, 0},
		{api(413, ""), failRefused, 0},
		{api(404, "chat_not_found"), failAll, 0},
		{api(404, "discord_webhook_not_found"), failAll, 0},
		{api(401, "token_disabled"), failAll, 0},
		{api(403, "insufficient_scope"), failAll, 0},
		{api(429, "rate_limited"), failRateLimited, 7 * time.Second},
		{api(408, ""), failTransient, 0},
		{api(500, "internal_error"), failTransient, 0},
		{api(503, ""), failTransient, 0},
		{&sink.NetError{Endpoint: "notify", Err: errors.New("connection refused")}, failTransient, 0},
		{errors.New("something else"), failTransient, 0},
	} {
		if got, wait := classify(tt.err); got != tt.want || wait != tt.wait {
			t.Errorf("classify(%v) = %v, %v; want %v, %v", tt.err, got, wait, tt.want, tt.wait)
		}
	}
}

// pattern is the pass history of passes ('F' failed), oldest first.
func pattern(passes string) passHistory {
	h := passHistory{Key: "dtac"}
	for _, c := range passes {
		record(&h, c == 'F')
	}
	return h
}

func TestChangePercent(t *testing.T) {
	for _, tt := range []struct {
		passes   string
		min, max float64
	}{
		{"", 0, 0},
		{"F", 0, 0},
		{strings.Repeat("F", 40), 0, 0},
		{strings.Repeat("S", 40), 0, 0},
		{strings.Repeat("FS", 20), 100, 100},
		{strings.Repeat("S", 30) + "F", 6.25, 6.25},        // one change, the newest
		{strings.Repeat("S", 30) + "FS", 12.3, 12.5},       // a blip
		{strings.Repeat("FFS", 14), flapHigh, 70},          // 2 in 3 flaps
		{strings.Repeat("FFFS", 11), flapHigh, 52},         // 3 in 4 flaps
		{strings.Repeat("FSSSS", 9), 38, flapHigh - 1},     // 1 in 5 does not
		{strings.Repeat("FFFFFFFFFS", 5), 10, flapLow - 3}, // an outage that worked once in 10
	} {
		got := changePercent(pattern(tt.passes))
		if got < tt.min-1e-9 || got > tt.max+1e-9 || math.IsNaN(got) {
			t.Errorf("changePercent(%q) = %.2f, want %.2f to %.2f", tt.passes, got, tt.min, tt.max)
		}
	}
	// Every phase of the flapping patterns is above flapHigh, of the
	// others below it.
	for p, flaps := range map[string]bool{"FFS": true, "FFFS": true, "FS": true, "FSSSS": false, "FFFFS": false, "FFFFFFFFFS": false} {
		for phase := range len(p) {
			got := changePercent(pattern(strings.Repeat(p, 30)[phase:]))
			if (got >= flapHigh) != flaps {
				t.Errorf("%s at phase %d: %.2f %%, flapping %v", p, phase, got, flaps)
			}
		}
	}
	// The window: older passes are forgotten.
	h := pattern(strings.Repeat("FS", 30) + strings.Repeat("S", flapWindow))
	if got := changePercent(h); got != 0 || h.Count != flapWindow || h.Failed != 0 {
		t.Errorf("after a full window of successes: %.2f %%, %+v", got, h)
	}
	if n, failed, changes := windowCounts(pattern(strings.Repeat("FFS", 10))); n != flapWindow || failed != 14 || changes != 13 {
		t.Errorf("windowCounts = %d, %d, %d", n, failed, changes)
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"dtac: login: login refused", 300, "dtac: login: login refused"},
		{"crk create: 403 insufficient_scope", 300, "crk create: 403 insufficient\uff3fscope"},
		{"*a* _b_ `c` [d](e) <f> & ~g~ |h| \\ @here", 300, "\u2217a\u2217 \uff3fb\uff3f 'c' (d)(e) \u2039f\u203a \uff06 \u223cg\u223c \u00a6h\u00a6 \u2216 \uff20here"},
		{"rtl \u202eevil\u202c and tab\there", 300, "rtl  evil  and tab here"},
		{strings.Repeat("ก", 400), 300, strings.Repeat("ก", 299) + "…"},
		{strings.Repeat("_", 10), 5, "\uff3f\uff3f\uff3f\uff3f…"},
	} {
		if got := quote(tt.in, tt.n); got != tt.want {
			t.Errorf("quote(%q, %d)\n got %q\nwant %q", tt.in, tt.n, got, tt.want)
		}
	}
}
