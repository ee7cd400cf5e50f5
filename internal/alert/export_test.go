package alert

import (
	"context"

	"github.com/crkai/syncd/internal/state"
)

// Queue is the message queue in store, oldest first, for the tests of
// package alert_test.
func Queue(ctx context.Context, store *state.Store) ([]Delivery, error) {
	var q []Delivery
	err := viewAlerts(ctx, store, func(tx alertTx) error {
		var err error
		q, err = tx.Deliveries()
		return err
	})
	return q, err
}
