package alert_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/fake/fakecrk"
)

// flapBody is the first line of a flapping message.
var flapBody = regexp.MustCompile(`^Syncing from DTAC One Call \(dtac\) keeps failing and working by turns: of its last (1[5-9]|2[01]) passes, [0-9]+ failed, and it changed between failing and working [0-9]+ times \(as of 2026-05-20 [0-9:]+ \+07:00\)\.\n`)

// passesPerDay is a day of passes at the default schedule, every 5 min.
const passesPerDay = 24 * 60 / 5

// runPattern runs n passes of dtac, failing where pattern (repeated) has
// 'F' and succeeding where it has 'S', beside a healthy 3cx; restartAt > 0
// restarts the daemon after that pass. It returns how many passes failed.
func (e *env) runPattern(pattern string, n, restartAt int) int {
	e.t.Helper()
	fails := 0
	for i := range n {
		if pattern[i%len(pattern)] == 'F' {
			fails++
			e.pass(failed("dtac", loginRefused("dtac")), ok("3cx"))
		} else {
			e.pass(synced("dtac", 1), ok("3cx"))
		}
		if i+1 == restartAt {
			e.restart()
		}
	}
	return fails
}

// kindsOf lists the messages' kinds as "severity:title" lines, for errors.
func kindsOf(msgs []fakecrk.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  %s: %s", m.Severity, m.Title)
	}
	return b.String()
}

// TestFlappingDay: a day of passes every 5 minutes (fake clock, one
// AfterPass a pass, a restart at noon) for the patterns of the flapping
// issue. A source failing 2 passes in 3, or 3 in 4, makes one "flapping"
// message (after the down alert of its first 3 failures, for 3 in 4) and
// no down or recovery message per turn; a steady outage makes one alert
// and one recovery; a single failure below SYNCD_ALERT_AFTER makes none.
func TestFlappingDay(t *testing.T) {
	const (
		flapTitle   = "syncd: syncing from DTAC One Call (dtac) keeps failing on and off"
		downTitle   = "syncd: syncing from DTAC One Call (dtac) has stopped"
		upTitle     = "syncd: syncing from DTAC One Call (dtac) works again"
		steadyTitle = "syncd: syncing from DTAC One Call (dtac) is steady again"
	)
	tests := []struct {
		name      string
		pattern   string
		passes    int
		wantFails int
		want      []string // titles, in order
	}{
		{"fail-fail-success", "FFS", passesPerDay, 192, []string{flapTitle}},
		{"fail-fail-fail-success", "FFFS", passesPerDay, 216, []string{downTitle, flapTitle}},
		{"steady outage", "S" + strings.Repeat("F", passesPerDay-8) + strings.Repeat("S", 7), passesPerDay, passesPerDay - 8, []string{downTitle, upTitle}},
		{"single blip", strings.Repeat("S", 100) + "FF" + strings.Repeat("S", passesPerDay-102), passesPerDay, 2, nil},
		{"flapping, then steady", strings.Repeat("FFS", 40) + strings.Repeat("S", passesPerDay-120), passesPerDay, 80, []string{flapTitle, steadyTitle}},
		{"flapping, then down", strings.Repeat("FFS", 40) + strings.Repeat("F", passesPerDay-130) + strings.Repeat("S", 10), passesPerDay, 80 + passesPerDay - 130,
			[]string{flapTitle, downTitle, upTitle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, telegram, tokAlerts, nil) // SYNCD_ALERT_AFTER=3
			e.crk.SetGatewayBehaviour(fakecrk.GatewayBehaviour{TelegramMarkdown: true})
			if fails := e.runPattern(tt.pattern, tt.passes, tt.passes/2); fails != tt.wantFails {
				t.Fatalf("%d failed passes, want %d", fails, tt.wantFails)
			}
			msgs := e.crk.Messages()
			t.Logf("%s: %d of %d passes failed: %d messages%s", tt.name, tt.wantFails, tt.passes, len(msgs), kindsOf(msgs))
			var got []string
			for _, m := range msgs {
				if !m.Delivered {
					t.Errorf("undelivered: %+v", m)
				}
				got = append(got, m.Title)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("messages:%s\nwant %q", kindsOf(msgs), tt.want)
			}
			if strings.HasPrefix(tt.name, "fail-") && len(msgs) > 2 {
				t.Errorf("%d messages in a day of flapping, want at most 2", len(msgs))
			}
			for _, m := range msgs {
				if m.Title == flapTitle && (m.Severity != "critical" || !flapBody.MatchString(m.Body) ||
					!strings.Contains(m.Body, "Last error: the phone system refused syncd's login")) {
					t.Errorf("flapping message %+v", m)
				}
			}
			open := 0.0
			if strings.HasSuffix(tt.name, "success") {
				open = 1 // still flapping at the end of the day
			}
			if got := e.metric("syncd_incidents_open"); got != open {
				t.Errorf("syncd_incidents_open = %v, want %v", got, open)
			}
			if got := e.metric("syncd_alerts_sent_total", "kind", alert.KindFlapping); strings.HasPrefix(tt.name, "fail-") && got != 0 {
				t.Errorf("sent{flapping} after the restart = %v, want 0 (sent before it)", got)
			}
		})
	}
}

// TestFlappingHoldsBackQueuedAlert: a source that starts flapping while
// its down alert still waits for delivery drops that alert; the flapping
// message goes instead.
func TestFlappingHoldsBackQueuedAlert(t *testing.T) {
	cfg := telegram
	cfg.After, cfg.RetryBase, cfg.RetryMax = 1, time.Minute, time.Minute
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.FailDeliveries(1000) // Telegram is down
	e.runPattern("FS", 30, 0)
	if n := len(e.delivered()); n != 0 {
		t.Fatalf("%d delivered while Telegram is down", n)
	}
	e.crk.FailDeliveries(0)
	e.pass(ok("dtac"))
	msgs := e.delivered()
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0].Title, "keeps failing on and off") {
		t.Fatalf("delivered:%s\nwant the flapping message only", kindsOf(msgs))
	}
}

// TestFlappingInheritsDeliveredAlert: a source whose down alert was
// delivered, that flaps while Telegram is down (the flapping message never
// goes) and is steady again, still gets a message saying it works.
func TestFlappingInheritsDeliveredAlert(t *testing.T) {
	cfg := telegram
	cfg.After, cfg.RetryBase, cfg.RetryMax = 1, time.Minute, time.Minute
	e := newEnv(t, cfg, tokAlerts, nil)
	e.pass(failed("dtac", loginRefused("dtac")))
	e.crk.FailDeliveries(1000)
	e.runPattern("SF", 30, 0)
	e.runPattern("S", 20, 0)
	e.crk.FailDeliveries(0)
	e.pass(ok("dtac"))
	msgs := e.delivered()
	if len(msgs) != 2 || !strings.HasSuffix(msgs[0].Title, "has stopped") || !strings.HasSuffix(msgs[1].Title, "is steady again") {
		t.Fatalf("delivered:%s\nwant the alert, then the end of flapping", kindsOf(msgs))
	}
	if got := e.metric("syncd_incidents_open"); got != 0 {
		t.Errorf("syncd_incidents_open = %v", got)
	}
}
