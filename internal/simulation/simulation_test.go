package simulation

import (
	"flag"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagSeed        = flag.Uint64("sim.seed", 0, "run this one seed (0: the budget's seeds)")
	flagSeeds       = flag.Int("sim.seeds", 0, "how many seeds to run, from -sim.first (0: the CI budget)")
	flagFirst       = flag.Uint64("sim.first", 1, "the first seed of -sim.seeds")
	flagDays        = flag.Int("sim.days", 0, "simulated days per seed, before the quiet day (0: the CI budget)")
	flagConcurrency = flag.Int("sim.concurrency", 0, "the syncer's concurrency for every seed (0: the seed's choice)")
	flagWorkers     = flag.Int("sim.workers", 0, "seeds run at once (0: a few per GOMAXPROCS)")
)

var invariants = []string{I0, I1, I2, I3, I4, I5}

// replay is the command that plays r's seed again.
func replay(r *Report) string {
	cmd := fmt.Sprintf("go test ./internal/simulation -run TestSimulation -sim.seed=%d -sim.days=%d", r.Seed, r.Days)
	if *flagConcurrency > 0 {
		cmd += fmt.Sprintf(" -sim.concurrency=%d", *flagConcurrency)
	}
	if raceEnabled {
		cmd += " -race"
	}
	return cmd + " -v"
}

// TestSimulation plays the CI budget of seeds (or the flags' choice) and
// fails on every broken invariant, with the recording's history and the
// command that replays it.
func TestSimulation(t *testing.T) {
	seeds, days := ciSeeds, ciDays
	if *flagSeeds > 0 {
		seeds = *flagSeeds
	}
	if *flagDays > 0 {
		days = *flagDays
	}
	var list []uint64
	if *flagSeed != 0 {
		list = []uint64{*flagSeed}
	} else {
		for i := range seeds {
			list = append(list, *flagFirst+uint64(i))
		}
	}
	workers := *flagWorkers
	if workers <= 0 {
		workers = workersPerProc * runtime.GOMAXPROCS(0)
	}
	verbose := testing.Verbose() && len(list) == 1
	type outcome struct {
		r   *Report
		err error
	}
	out := make([]outcome, len(list))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(list)) {
		wg.Go(func() {
			for i := range next {
				opts := Options{Seed: list[i], Days: days, Concurrency: *flagConcurrency}
				if verbose {
					opts.Logf = t.Logf
				}
				r, err := Run(t.Context(), opts)
				out[i] = outcome{r, err}
			}
		})
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()

	var took time.Duration
	byInv := map[string][]uint64{}
	byKind := map[string][]uint64{}
	for i, o := range out {
		t.Run(fmt.Sprintf("seed=%d", list[i]), func(t *testing.T) {
			if o.err != nil {
				t.Fatalf("the world failed: %v", o.err)
			}
			r := o.r
			took += r.Stats.Took
			t.Logf("%s", r.Profile)
			t.Logf("%d calls (%d syncd's), %d passes, %d crashes, %d restarts, %d state files lost, %d operator retries releasing %d; %d delivered, %d quarantined; %d CRK requests, %d re-extractions; %s",
				r.Stats.Calls, r.Stats.Responsible, r.Stats.Passes, r.Stats.Crashes, r.Stats.Restarts, r.Stats.Losses, r.Stats.Retries, r.Stats.Released,
				r.Stats.Delivered, r.Stats.Quarantined, r.Stats.Requests, r.Stats.Reextracts, r.Stats.Took.Round(time.Millisecond))
			if len(r.Violations) == 0 {
				return
			}
			// One of each invariant, unless -v on one seed asks for all.
			var shown []Violation
			var counts []string
			for _, inv := range invariants {
				n := r.Stats.ByInvariant[inv]
				if n == 0 {
					continue
				}
				byInv[inv] = append(byInv[inv], r.Seed)
				for k := range r.Stats.ByKind {
					if strings.HasPrefix(k, inv+": ") {
						byKind[k] = append(byKind[k], r.Seed)
					}
				}
				counts = append(counts, fmt.Sprintf("%s ×%d", inv, n))
				for _, v := range r.Violations {
					if v.Invariant == inv {
						shown = append(shown, v)
						if !verbose {
							break
						}
					}
				}
			}
			var b strings.Builder
			fmt.Fprintf(&b, "invariants broken: %s (one recording each; %d shown)\n", strings.Join(counts, ", "), len(shown))
			for _, v := range shown {
				fmt.Fprintf(&b, "%s\n", v)
			}
			fmt.Fprintf(&b, "replay: %s", replay(r))
			if r.Concurrency > 1 {
				fmt.Fprintf(&b, "\n(Concurrency %d: the replay plays the same world, not the same interleaving)", r.Concurrency)
			}
			t.Error(b.String())
		})
	}
	t.Logf("%d seeds × %d days in %s of simulation", len(list), days, took.Round(time.Millisecond))
	for _, inv := range invariants {
		if s := byInv[inv]; len(s) > 0 {
			t.Logf("%s broken in %d of %d seeds: %v", inv, len(s), len(list), s)
		}
		for _, k := range slices.Sorted(maps.Keys(byKind)) {
			if s := byKind[k]; strings.HasPrefix(k, inv+": ") {
				slices.Sort(s)
				t.Logf("    %s: %d seeds %v", k, len(s), s)
			}
		}
	}
}

// TestDeterministic: a seed played twice at Concurrency 1 does exactly the
// same.
func TestDeterministic(t *testing.T) {
	var digests []string
	for range 2 {
		r, err := Run(t.Context(), Options{Seed: 7, Days: 3, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, r.Digest)
		t.Logf("%d passes, %d crashes, %d requests: digest %s", r.Stats.Passes, r.Stats.Crashes, r.Stats.Requests, r.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatal("the same seed played differently")
	}
}

// TestChecksCatchAMissedRecording: a recording syncd never gets to see
// is reported, with its history, by I1 and I3.
func TestChecksCatchAMissedRecording(t *testing.T) {
	var hidden string
	r, err := Run(t.Context(), Options{Seed: 3, Days: 2, Concurrency: 1, hide: func(id string) bool {
		if hidden == "" && id >= "c000100" && strings.HasPrefix(id, "c") {
			hidden = id
		}
		return id == hidden
	}})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range r.Violations {
		if v.DataID == "sim-"+hidden {
			found[v.Invariant] = true
			if len(v.Trace) == 0 {
				t.Errorf("%s without a trace", v.Invariant)
			}
		}
	}
	if !found[I1] || !found[I3] {
		t.Fatalf("hid %s from syncd; violations about it: %v; all: %d", hidden, found, len(r.Violations))
	}
}

// TestChecksCatchAPaymentTwice: a re-extraction syncd did not ask for is
// reported by I2.
func TestChecksCatchAPaymentTwice(t *testing.T) {
	var paid string
	r, err := Run(t.Context(), Options{Seed: 3, Days: 2, Concurrency: 1, payTwice: func(id string) bool {
		if paid == "" && id >= "c000050" {
			paid = id
		}
		return id == paid
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Violations {
		if v.Invariant == I2 && v.DataID == "sim-"+paid {
			return
		}
	}
	t.Fatalf("paid twice for %q behind syncd's back; I2 did not notice (%d violations)", paid, len(r.Violations))
}
