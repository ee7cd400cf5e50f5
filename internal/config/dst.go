package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DSTWarnings names the daylight-saving changes of loc in the year after
// from at which schedule, read in loc as the daemon's scheduler reads it,
// names a wall-clock time that does not exist (spring forward: that run is
// skipped) or happens twice (fall back: that run happens twice). Interval
// schedules (@every) are not affected. An empty result means none.
func DSTWarnings(schedule string, loc *time.Location, from time.Time) []string {
	if strings.HasPrefix(strings.TrimSpace(schedule), "@every") {
		return nil
	}
	sched, err := CronParser().Parse(schedule)
	if err != nil {
		return nil // the configuration check reports it
	}
	var out []string
	t := from.In(loc).Truncate(time.Hour)
	end := t.AddDate(1, 0, 0)
	_, prev := t.Zone()
	for ; t.Before(end); t = t.Add(time.Hour) {
		_, off := t.Zone()
		if off == prev {
			continue
		}
		// The change happened in the hour before t: find its instant.
		at := t.Add(-time.Hour)
		for _, o := at.Zone(); o == prev; _, o = at.Zone() {
			at = at.Add(time.Minute)
		}
		delta := time.Duration(off-prev) * time.Second
		prev = off
		// Wall-clock times are compared in UTC, where none is skipped.
		wall := func(x time.Time) time.Time {
			y, mo, d := x.Date()
			return time.Date(y, mo, d, x.Hour(), x.Minute(), 0, 0, time.UTC)
		}
		var lo, hi time.Time // the wall-clock range affected, [lo, hi)
		kind := ""
		if delta > 0 { // spring forward: [before, before+delta) does not exist
			lo = wall(at.Add(-time.Minute)).Add(time.Minute)
			hi = lo.Add(delta)
			kind = "does not exist (the clocks go forward): that run is skipped"
		} else { // fall back: [after, after−delta) happens twice
			lo = wall(at)
			hi = lo.Add(-delta)
			kind = "happens twice (the clocks go back): that run happens twice"
		}
		if next := utcNext(sched, lo.Add(-time.Minute)); next.Before(hi) {
			out = append(out, fmt.Sprintf("SYNCD_SCHEDULE %q: on %s, %s in %s %s",
				schedule, lo.Format("2006-01-02"), next.Format("15:04"), loc, kind))
		}
	}
	return out
}

// utcNext is the schedule's next run after t, read as a wall clock in UTC.
func utcNext(s cron.Schedule, t time.Time) time.Time {
	if spec, ok := s.(*cron.SpecSchedule); ok {
		c := *spec
		c.Location = time.UTC
		return c.Next(t)
	}
	return s.Next(t)
}
