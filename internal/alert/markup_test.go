package alert_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/alert"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/syncer"
)

// hostile is quoted text full of markup: Telegram Markdown and HTML,
// Discord markdown and mentions, unbalanced.
const hostile = "*bold _it `code [link](https://evil.example/x) <b>tag</b> & ~strike~ ||spoiler|| \\ @everyone"

// TestMessagesPassTelegramMarkdown: with a gateway that renders Telegram
// Markdown (and refuses an unbalanced marker as Telegram does), every kind
// of message goes through, whatever its quoted errors, dataIds, reasons and
// source names hold; the quoted text keeps none of its markup, and is
// bounded.
func TestMessagesPassTelegramMarkdown(t *testing.T) {
	cfg := telegram
	cfg.After = 1
	e := newEnv(t, cfg, tokAlerts, nil)
	e.crk.SetGatewayBehaviour(fakecrk.GatewayBehaviour{TelegramMarkdown: true})

	long := strings.Repeat("ก_", 400) // 800 runes of Thai and markers
	weird := "pbx_*[1]"
	q := syncer.Result{Source: weird, Listed: 2, New: 2, Quarantined: 2, Items: []syncer.Item{
		{Recording: connectors.Recording{DataID: "rec_1*[" + long}, Quarantined: hostile},
		{Recording: connectors.Recording{DataID: "rec`2"}, Quarantined: long},
	}}
	down := fmt.Errorf("listing dtac: %s: %w", hostile, connectors.ErrAuth)
	scope := tokenError(t, e, tokNotify) // 403 insufficient_scope: Token lacks 'manage_call_recording'
	e.pass(failed("dtac", down), failed(weird, errors.New(long)), outcome{res: q})
	e.pass(failed("3cx", scope))
	e.pass(synced("dtac", 1), ok(weird), ok("3cx"))
	e.pass(synced("dtac", 1), ok(weird), ok("3cx")) // the recoveries
	e.runPattern("FS", 30, 0)                       // flapping
	e.runPattern("S", 30, 0)                        // steady again
	if err := e.al.SendTest(context.Background()); err != nil {
		t.Fatal(err)
	}

	msgs := e.crk.Messages()
	kinds := map[string]int{} // by title
	for _, m := range msgs {
		if !m.Delivered {
			t.Errorf("refused: %s\n%s", m.Title, m.Body)
		}
		noSecret(t, "message "+m.Title, m.Title+"\n"+m.Body)
		for _, bad := range []string{"*bold", "_it", "`code", "[link]", "<b>", "&", "~strike~", "||", "@everyone", "\\"} {
			if strings.Contains(m.Title+m.Body, bad) {
				t.Errorf("%q is quoted as is in %s\n%s", bad, m.Title, m.Body)
			}
		}
		if n := len([]rune(m.Body)); n > 2000 {
			t.Errorf("a body of %d runes: %s", n, m.Title)
		}
		kinds[m.Title]++
	}
	for _, want := range []string{alert.KindSourceDown, alert.KindToken, alert.KindQuarantine, alert.KindRecovered, alert.KindFlapping, alert.KindTest} {
		if got := e.metric("syncd_alerts_sent_total", "kind", want); got == 0 {
			t.Errorf("no %s message went out: %v", want, kinds)
		}
	}
	if got := e.metric("syncd_alerts_failed_total"); got != 0 {
		t.Errorf("syncd_alerts_failed_total = %v", got)
	}
	var quar string
	for _, m := range msgs {
		if strings.HasSuffix(m.Title, "quarantined") {
			quar = m.Body
		}
	}
	if !strings.Contains(quar, "- rec\uff3f1\u2217(") || !strings.Contains(quar, "(pbx\uff3f\u2217(1)): \u2217bold \uff3fit 'code (link)(https://evil.example/x) \u2039b\u203atag\u2039/b\u203a \uff06 \u223cstrike\u223c \u00a6\u00a6spoiler\u00a6\u00a6 \u2216 \uff20everyone") {
		t.Errorf("quarantine warning:\n%s", quar)
	}
}
