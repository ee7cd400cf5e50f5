package fakethreecx

import (
	"fmt"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// Call types as XAPI names them.
const (
	Local            = "Local"
	InboundExternal  = "InboundExternal"
	OutboundExternal = "OutboundExternal"
)

// trunkDn is the external line's Dn, as the PBX numbers its first trunk.
const trunkDn = "10000"

var agents = []string{"Somchai Jaidee", "Suda Rakdee", "Anan Srisuk", "Malee Wongsa", "Prasit Boonma", "Nattaya Chaiyo", "Kittisak Meesuk", "Ploy Thongdee"}

// dids are the PBX's DIDs as 3CX reports them: without "+".
var dids = []string{"6621055500", "6621055501", "6627120000"}

// NewRecording returns recording id starting at start, filled the way a real
// PBX fills it, deterministically from seed: internal parties as
// "Ext.1xx" with DnType 0 (extension), the external party's number as the
// carrier presents it (local "08…"/"02…" form, or "66…" without "+"), the
// DID without "+", a relative RecordingUrl, null where real data has nulls
// (CRM contacts, Transcription, Summary, SentimentScore, ArchivedUrl, …),
// and audio whose size fits the call's length (16 kB/s PCM).
//
// callType is Local, InboundExternal or OutboundExternal; any other value
// is served as given with the parties of an inbound call, and "" as a null
// CallType.
func NewRecording(id int32, start time.Time, callType string, seed uint64) Recording {
	rnd := seed*0x9e3779b97f4a7c15 + uint64(id)
	next := func(n int) int {
		rnd = mix(rnd)
		return int(rnd % uint64(n))
	}
	dur := time.Duration(20+next(340)) * time.Second
	start = start.UTC()
	end := start.Add(dur)

	agentExt := fmt.Sprintf("1%02d", 1+next(19))
	agent := agents[next(len(agents))]
	var customer string
	switch next(3) {
	case 0:
		customer = fmt.Sprintf("08%d%07d", 1+next(9), next(10_000_000))
	case 1:
		customer = fmt.Sprintf("02%07d", next(10_000_000))
	default:
		customer = fmt.Sprintf("668%d%07d", 1+next(9), next(10_000_000))
	}
	did := dids[next(len(dids))]

	ext := party{dn: agentExt, dnType: DnExtension, caller: "Ext." + agentExt, name: agent}
	external := party{dn: trunkDn, dnType: DnExternalLine, caller: customer, name: customer}
	from, to := external, ext
	from.did = did
	other := customer
	switch callType {
	case OutboundExternal:
		from, to = ext, external
	case Local:
		peerExt := fmt.Sprintf("1%02d", 20+next(19))
		from, to = ext, party{dn: peerExt, dnType: DnExtension, caller: "Ext." + peerExt, name: agents[next(len(agents))]}
		other = peerExt
	}

	r := Recording{
		ID:                  id,
		StartTime:           &start,
		EndTime:             &end,
		FromDn:              new(from.dn),
		FromDnType:          new(from.dnType),
		FromCallerNumber:    new(from.caller),
		FromDisplayName:     new(from.name),
		FromIDParticipant:   new(id * 2),
		ToDn:                new(to.dn),
		ToDnType:            new(to.dnType),
		ToCallerNumber:      new(to.caller),
		ToDisplayName:       new(to.name),
		ToIDParticipant:     new(id*2 + 1),
		RefParticipantID:    new(id * 2),
		RecordingURL:        new(fmt.Sprintf("%s/[%s]_%s-%s_%s(%d).wav", agentExt, agent, agentExt, other, start.Format("20060102150405"), id)),
		IsArchived:          new(false),
		IsTranscribed:       new(false),
		CanBeTranscribed:    new(false),
		TranscriptionResult: new(int32(0)),
		Audio:               fakeaudio.Audio{Seed: seed, Size: fakeaudio.HeaderSize + int64(dur/time.Second)*16000},
	}
	if from.did != "" {
		r.FromDidNumber = new(from.did)
	}
	if callType != "" {
		r.CallType = new(callType)
	}
	return r
}

type party struct {
	dn, caller, name, did string
	dnType                int32
}

// SampleDay returns n recordings (Ids 1…n) spread over the business hours
// (08:00–18:00) of day's date in day's location, in order: about half
// inbound, two fifths outbound, the rest internal; every download Ready.
// Deterministic from seed; for `syncd -demo`.
func SampleDay(day time.Time, n int, seed uint64) []Recording {
	y, m, d := day.Date()
	open := time.Date(y, m, d, 8, 0, 0, 0, day.Location())
	step := 10 * time.Hour / time.Duration(max(n, 1))
	out := make([]Recording, 0, n)
	rnd := seed
	for i := range n {
		rnd = mix(rnd + uint64(i))
		jitter := time.Duration(rnd%uint64(max(step/time.Second, 1))) * time.Second
		at := open.Add(step*time.Duration(i) + jitter)
		out = append(out, NewRecording(int32(i+1), at, sampleType(rnd), seed^uint64(i+1)))
	}
	return out
}

// sampleType is the call type of a sample call drawn as rnd: half
// inbound, two fifths outbound, one in ten internal.
func sampleType(rnd uint64) string {
	switch k := rnd % 10; {
	case k >= 5 && k < 9:
		return OutboundExternal
	case k == 9:
		return Local
	}
	return InboundExternal
}

// mix is splitmix64's finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
