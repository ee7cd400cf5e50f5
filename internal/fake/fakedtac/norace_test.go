//go:build !race

package fakedtac

const raceEnabled = false
