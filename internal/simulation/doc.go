// Package simulation plays months of syncd's operation in seconds, from a
// seed, and checks its guarantees: a deterministic simulation test in the
// spirit of FoundationDB's simulation testing and TigerBeetle's VOPR.
//
// A World is one deployment on simulated clocks: a simulated phone system
// (calls arriving over time, late, twice, invalid, with audio not ready or
// gone, listings failing), the CRK fake over loopback HTTP with its faults
// (500s before and after acting, 503 outages, 429s, dropped connections,
// expired upload URLs, three processingStatus vocabularies), the real
// state file, sink client and syncer, and, between passes, crashes at any
// request (the process's memory is lost, only the state file survives),
// host clock jumps, configuration changes, a lost state file and operator
// retries. After every pass and at the end it checks the invariants I0–I5
// (see invariants.go). Given a seed, a run at Concurrency 1 is identical
// every time; Report.Digest says so. Seeds at Concurrency 4 replay the
// same world, not the same interleaving.
//
// Running it:
//
//	go test ./internal/simulation                      # the CI budget of seeds
//	go test ./internal/simulation -run TestSimulation -sim.seed=12345 -sim.days=60 -v
//	go test ./internal/simulation -run TestSimulation -sim.seeds=2000 -sim.first=1 -sim.days=120 -timeout 24h
//
// A campaign runs a few seeds per core at once (-sim.workers); two cores
// play about 8 seed-days a second, so the one above takes most of a day
// there and scales with the cores.
//
// -v on one seed prints every violation found (up to ten of each
// invariant) with its recording's history.
package simulation
