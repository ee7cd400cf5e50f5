package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/state"
)

// retryQuarantined is `syncd -retry-quarantined`. A running daemon holds
// the state file, so the daemon is asked first, on its control socket;
// where none answers, the command opens the file itself.
func retryQuarantined(ctx context.Context, cfg *config.Config, sel state.Selection, stdout, stderr io.Writer) int {
	sock := controlSocket(cfg.StatePath)
	n, err := askRetry(ctx, sock, sel)
	var none *errNoDaemon
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "moved %s back to pending, through the running daemon; its next pass asks CRK what became of any whose processing may have been asked for, then sends what is missing\n", quarantinedRecordings(n))
		return exitOK
	case !errors.As(err, &none):
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	if _, err := os.Stat(cfg.StatePath); errors.Is(err, fs.ErrNotExist) {
		// Opening would create an empty file, and "moved 0" would look
		// like nothing to retry: most likely SYNCD_STATE_PATH is not the
		// daemon's.
		fmt.Fprintf(stderr, "syncd: there is no state file at %s: set SYNCD_STATE_PATH to the daemon's (under systemd /var/lib/syncd/syncd.db; see docs/operator-commands.md)\n", cfg.StatePath)
		return exitFailed
	}
	store, err := state.Open(ctx, cfg.StatePath, state.Options{Timeout: lockWait})
	if err != nil {
		if errors.Is(err, state.ErrLocked) {
			fmt.Fprintf(stderr, "syncd: %v\nThe daemon holds the state file, and its control socket %s does not answer (%v).\n"+
				"Run this command as the daemon's user or as root (see docs/operator-commands.md), or stop the daemon (systemctl stop syncd), run -retry-quarantined, then start it again.\n",
				err, sock, none.err)
		} else {
			fmt.Fprintf(stderr, "syncd: %v\n", err)
		}
		return exitFailed
	}
	defer store.Close()
	n, err = store.RetryQuarantined(ctx, sel)
	if err != nil {
		fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "moved %s back to pending; the next pass asks CRK what became of any whose processing may have been asked for, then sends what is missing\n", quarantinedRecordings(n))
	return exitOK
}

// quarantinedRecordings is "1 quarantined recording", "2 quarantined
// recordings".
func quarantinedRecordings(n int) string {
	if n == 1 {
		return "1 quarantined recording"
	}
	return fmt.Sprintf("%d quarantined recordings", n)
}
