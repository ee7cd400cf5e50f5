//go:build !race

package dtac

const raceEnabled = false
