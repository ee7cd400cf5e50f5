//go:build race

package fakedtac

// raceEnabled: the race detector slows JSON encoding and HTTP several
// times over, so timing bounds stretch with it.
const raceEnabled = true
