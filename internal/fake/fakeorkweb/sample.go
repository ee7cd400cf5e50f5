package fakeorkweb

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// SampleDay returns n recordings of a small call centre's business day on
// the date day has in loc: calls between 08:30 and 18:00 local time,
// about 60 % inbound and 5 % of unknown direction, agents on extensions
// 1001–1012, customers on Thai mobiles and landlines in the national "0…"
// form (as a PBX passes them to OrkAudio), GSM audio of 4–48 KiB (one
// in ten PCM). The same arguments give the same day. Tape ids are derived
// from the date (days since 2000-01-01 · 100000 + i + 1), so different
// days do not collide for n ≤ 100000.
func SampleDay(day time.Time, loc *time.Location, n int, seed uint64) []Recording {
	if loc == nil {
		loc = ICT
	}
	y, m, d := day.In(loc).Date()
	open := time.Date(y, m, d, 8, 30, 0, 0, loc)
	business := int64(9*time.Hour+30*time.Minute) / int64(time.Second)
	dayNum := int64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	rng := rand.New(rand.NewPCG(seed, uint64(dayNum)))
	out := make([]Recording, 0, max(n, 0))
	for i := range max(n, 0) {
		out = append(out, sampleCall(rng, dayNum*100_000+int64(i)+1, seed, func() time.Time {
			return open.Add(time.Duration(rng.Int64N(business)) * time.Second)
		}))
	}
	return out
}

// sampleCall is one call of the call centre, drawn from rng; at draws its
// start (in the order SampleDay has always drawn it).
func sampleCall(rng *rand.Rand, id int64, seed uint64, at func() time.Time) Recording {
	dir := In
	switch k := rng.IntN(20); {
	case k == 0:
		dir = Unknown
	case k >= 12:
		dir = Out
	}
	format := GSM
	if rng.IntN(10) == 0 {
		format = PCM
	}
	return Recording{
		TapeID:      id,
		Time:        at(),
		Duration:    5 + int(min(rng.ExpFloat64()*150, 1800)),
		LocalParty:  fmt.Sprintf("10%02d", 1+rng.IntN(12)),
		RemoteParty: sampleCustomer(rng),
		Direction:   dir,
		Format:      format,
		Audio:       fakeaudio.Audio{Seed: seed ^ uint64(id), Size: 4<<10 + rng.Int64N(44<<10)},
	}
}

// sampleCustomer is a Thai number in the national form: a mobile
// (06x/08x/09x + 7 digits) or a landline (02 + 7 digits).
func sampleCustomer(rng *rand.Rand) string {
	if rng.IntN(10) < 7 {
		return fmt.Sprintf("0%d%07d", [...]int{61, 62, 63, 64, 65, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99}[rng.IntN(25)], rng.IntN(10_000_000))
	}
	return fmt.Sprintf("02%07d", 1_000_000+rng.IntN(9_000_000))
}
