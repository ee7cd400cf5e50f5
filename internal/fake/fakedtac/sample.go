package fakedtac

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

type sampleAgent struct {
	first, last, number string
}

// sampleAgents are a small DTAC One Call team: names as agents type them
// (Thai script or romanised, one without a last name), each with the DTAC
// mobile number that is their localParty.
var sampleAgents = [...]sampleAgent{
	{"สมชาย", "ใจดี", "+66812345678"},
	{"วิไลวรรณ", "ศรีสุข", "+66891234567"},
	{"Napat", "Wongsawat", "+66861112233"},
	{"ปิยะพงษ์", "", "+66945556677"},
	{"Kanokwan", "Chaiyaporn", "+66823334455"},
	{"อรอุมา", "พึ่งบุญ", "+66957778899"},
}

// SampleDay returns n recordings of a realistic business day of a Thai call
// team, on the date day has in loc: calls between 08:30 and 18:00 local
// time in timestamp order, about 60 % inbound, customers on Thai mobiles
// and landlines (mostly in the portal's "+66…" form, some in the local
// "0…" form), the agents' names and DTAC numbers, and audio of 16–64 KB.
// The same arguments give the same day. IDs are derived from the date
// (date·100000 + i), so different days do not collide for n ≤ 100000.
func SampleDay(day time.Time, loc *time.Location, n int, seed uint64) []Recording {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := day.In(loc).Date()
	open := time.Date(y, m, d, 8, 30, 0, 0, loc)
	businessSeconds := int64(9*time.Hour+30*time.Minute) / int64(time.Second)
	dayNum := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	rng := rand.New(rand.NewPCG(seed, uint64(dayNum)))

	offsets := make([]int64, max(n, 0))
	for i := range offsets {
		offsets[i] = rng.Int64N(businessSeconds)
	}
	slices.Sort(offsets)

	out := make([]Recording, 0, len(offsets))
	for i, off := range offsets {
		r := sampleCall(rng, int64(dayNum)*100_000+int64(i)+1, seed)
		r.Timestamp = open.Add(time.Duration(off) * time.Second).UTC()
		out = append(out, r)
	}
	return out
}

// sampleCall is one call of the team, drawn from rng, without its
// Timestamp.
func sampleCall(rng *rand.Rand, id int64, seed uint64) Recording {
	agent := sampleAgents[rng.IntN(len(sampleAgents))]
	dir := "IN"
	if rng.IntN(10) >= 6 {
		dir = "OUT"
	}
	return Recording{
		ID:          id,
		Duration:    15 + int(min(rng.ExpFloat64()*150, 1800)),
		LocalParty:  agent.number,
		RemoteParty: sampleCustomer(rng),
		Direction:   dir,
		FirstName:   agent.first,
		LastName:    agent.last,
		Audio:       fakeaudio.Audio{Seed: seed ^ uint64(id), Size: 16<<10 + rng.Int64N(48<<10)},
	}
}

// mobilePrefixes are the Thai mobile ranges (06x, 08x, 09x) without the 0.
var mobilePrefixes = [...]int{61, 62, 63, 64, 65, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99}

// sampleCustomer returns a Thai customer number: a mobile (06x/08x/09x + 7
// digits) or a landline (02 Bangkok + 7 digits, or a provincial area code
// + 6 digits), as "+66…" nine times in ten, else in the local "0…" form.
func sampleCustomer(rng *rand.Rand) string {
	var national string // without the leading 0
	switch k := rng.IntN(10); {
	case k < 7:
		national = fmt.Sprintf("%d%07d", mobilePrefixes[rng.IntN(len(mobilePrefixes))], rng.IntN(10_000_000))
	case k < 9:
		national = fmt.Sprintf("2%07d", 1_000_000+rng.IntN(9_000_000))
	default:
		area := [...]string{"53", "38", "74", "43", "44"}[rng.IntN(5)]
		national = fmt.Sprintf("%s%06d", area, 100_000+rng.IntN(900_000))
	}
	if rng.IntN(10) == 0 {
		return "0" + national
	}
	return "+66" + national
}
