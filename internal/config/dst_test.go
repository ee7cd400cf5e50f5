package config

import (
	"strings"
	"testing"
	"time"
)

func TestDSTWarnings(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	bangkok, _ := time.LoadLocation("Asia/Bangkok")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		schedule string
		loc      *time.Location
		want     []string
	}{
		{"30 2 * * *", berlin, []string{
			`on 2026-03-29, 02:30 in Europe/Berlin does not exist`,
			`on 2026-10-25, 02:30 in Europe/Berlin happens twice`,
		}},
		{"*/5 * * * *", berlin, []string{"on 2026-03-29, 02:00", "on 2026-10-25, 02:00"}},
		{"0 4 * * *", berlin, nil},
		{"@every 2m", berlin, nil},
		{"30 2 * * *", bangkok, nil},
		{"30 2 * * *", time.UTC, nil},
	} {
		got := DSTWarnings(tc.schedule, tc.loc, from)
		if len(got) != len(tc.want) {
			t.Errorf("%q in %s: %q, want %d warnings", tc.schedule, tc.loc, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%q in %s: warning %q, want it to say %q", tc.schedule, tc.loc, got[i], w)
			}
		}
	}
}
