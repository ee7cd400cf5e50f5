//go:build !race

package simulation

// The CI budget: seeds × days that fit well under two minutes on two
// cores. A pass spends most of its time waiting (the state file's write
// batching), so several seeds run per core.
const (
	raceEnabled    = false
	ciSeeds        = 10
	ciDays         = 14
	workersPerProc = 4
)
