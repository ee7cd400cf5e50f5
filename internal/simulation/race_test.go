//go:build race

package simulation

// Under the race detector everything runs several times slower: fewer
// seeds and days fit the same budget, and more seeds at once than cores
// only thrash.
const (
	raceEnabled    = true
	ciSeeds        = 4
	ciDays         = 10
	workersPerProc = 2
)
