package alert

import "math/bits"

// Flap detection, as Nagios does it: from the outcomes of a source's last
// flapWindow passes comes a percentage of state change, how often the
// outcome changed from one pass to the next with recent changes weighing
// more; a source starts flapping when it reaches flapHigh and stops when it
// falls below flapLow. The gap between the two (hysteresis) keeps a source
// from entering and leaving flapping pass after pass. While a source
// flaps, one "flapping" incident speaks for it: its down and recovery
// messages are held back.
const (
	// flapWindow is how many passes are looked at, as in Nagios: 21
	// passes, 20 changes between them; 1 h 45 min at the default schedule.
	flapWindow = 21
	// flapHigh is the percentage of state change at which a source starts
	// flapping. A source failing 2 passes in 3 scores 64-70 %, 3 in 4
	// scores 49-51 %, depending on where the window starts; 45 catches
	// both wherever it starts. One failure in 5 passes (38-42 %), an
	// outage that worked once in 10 passes (at most 22 %) and a single
	// failure (at most 12.5 %) stay below.
	flapHigh = 45.0
	// flapLow is the percentage below which a flapping source is steady
	// again: about 10 passes with no change after flapping at 2 in 3.
	flapLow = 25.0
	// flapWeightOld and flapWeightNew weigh the oldest and the newest of
	// the changes in the window (Nagios' 0.75 and 1.25), linearly between.
	flapWeightOld, flapWeightNew = 0.75, 1.25
)

// recoverAfter is how many passes in a row must succeed to end an alerted
// incident of a source with a recovery message. One is not enough: a
// source failing and working by turns would otherwise send an alert and a
// recovery for every turn before flap detection has seen enough passes.
const recoverAfter = 2

// flapPrefix begins the incident key of a source's flapping; the rest is
// the source's name.
const flapPrefix = "flapping:"

// windowMask keeps the bits of the window.
const windowMask = 1<<flapWindow - 1

// record adds a pass to h (failed: it failed), keeping the window.
func record(h *passHistory, failed bool) {
	h.Failed <<= 1
	if failed {
		h.Failed |= 1
	}
	h.Failed &= windowMask
	h.Count = min(h.Count+1, flapWindow)
}

// changePercent is h's weighted percentage of state change over the
// window; passes older than h holds count as the oldest it holds (no
// change), as Nagios fills its history with the first state.
func changePercent(h passHistory) float64 {
	n := min(h.Count, flapWindow)
	if n < 2 {
		return 0
	}
	failed := func(x int) bool { // x: 0 the oldest, flapWindow-1 the newest
		age := min(flapWindow-1-x, n-1)
		return h.Failed>>age&1 == 1
	}
	changes := 0.0
	for x := 1; x < flapWindow; x++ {
		if failed(x) != failed(x-1) {
			changes += flapWeightOld + float64(x-1)*(flapWeightNew-flapWeightOld)/float64(flapWindow-2)
		}
	}
	return changes * 100 / float64(flapWindow-1)
}

// windowCounts are how many of h's passes in the window failed, and how
// many times the outcome changed between them.
func windowCounts(h passHistory) (passes, failed, changes int) {
	n := min(h.Count, flapWindow)
	for age := range n {
		if age > 0 && h.Failed>>age&1 != h.Failed>>(age-1)&1 {
			changes++
		}
	}
	return n, bits.OnesCount64(h.Failed & (1<<n - 1)), changes
}
