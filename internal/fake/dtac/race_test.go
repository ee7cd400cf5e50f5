//go:build race

package dtac

// raceEnabled: the race detector slows JSON encoding and HTTP several
// times over, so timing bounds stretch with it.
const raceEnabled = true
