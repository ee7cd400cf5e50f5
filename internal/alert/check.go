package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crkai/syncd/internal/sink"
)

// ErrUnverifiable is wrapped by Check when the token may send but not list
// destinations, so the configured chat or webhook id could not be checked:
// a warning rather than a failure.
var ErrUnverifiable = errors.New("the notification destination could not be checked")

// Check verifies, for `syncd -test-connection`, that the token holds
// manage_notifications and that the configured Telegram chat or Discord
// webhook appears in GET /notifications/destinations. It sends nothing.
func (a *Alerter) Check(ctx context.Context) error {
	id, err := a.gw.WhoAmI(ctx)
	if err != nil {
		return fmt.Errorf("checking the CRK token: %w", err)
	}
	if !id.Has(sink.ScopeNotifyAll) {
		return fmt.Errorf("the CRK token lacks the scope %s that alerting needs (it has: %s): create a token with it, or unset SYNCD_ALERT_CHANNEL",
			sink.ScopeNotifyAll, strings.Join(id.Scopes, ", "))
	}
	variable, want := "", ""
	switch a.cfg.Channel {
	case sink.ChannelTelegram:
		variable, want = "SYNCD_ALERT_CHAT_ID", a.cfg.ChatID
	case sink.ChannelDiscord:
		variable, want = "SYNCD_ALERT_WEBHOOK_ID", a.cfg.WebhookID
	default:
		return nil // the in-app feed needs no destination
	}
	raw, err := a.gw.Destinations(ctx)
	switch {
	case errors.Is(err, sink.ErrInsufficientScope):
		return fmt.Errorf("%w: the token may not list notification destinations (give it view_notifications too), so %s %q was not checked: %w",
			ErrUnverifiable, variable, want, err)
	case err != nil:
		return fmt.Errorf("listing the notification destinations: %w", err)
	}
	if !sink.DestinationHas(raw, want) {
		return fmt.Errorf("%s %q is not among the notification destinations of this business: take the id from GET /notifications/destinations (or GET /telegram/chats for a Telegram chat)",
			variable, want)
	}
	return nil
}
