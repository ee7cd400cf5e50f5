package fakedtac

import (
	"cmp"
	"slices"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// AudioState is what the fake serves for a recording's audio.
type AudioState int

const (
	// Ready audio is served whole, with Range support.
	Ready AudioState = iota
	// NotReady audio is served as 200 with an empty body until SetReady.
	NotReady
	// Gone audio is served as 404.
	Gone
)

// Recording is one recording the fake portal holds.
type Recording struct {
	ID int64
	// Timestamp is the call's start; the portal renders it in UTC to the
	// second ("2006-01-02 15:04:05") and filters windows by it.
	Timestamp time.Time
	// RawTimestamp, if set, is rendered instead of Timestamp (to serve a
	// malformed or differently formatted timestamp). Windows still filter by
	// Timestamp.
	RawTimestamp string
	// Duration in seconds.
	Duration int
	// LocalParty is the agent's DTAC number, RemoteParty the customer's,
	// both as the portal renders them.
	LocalParty, RemoteParty string
	// Direction is served as given: "IN", "OUT", "UNKN", "" or anything
	// else; DirectionMissing leaves the key out, DirectionNull sends null.
	Direction string
	// FirstName and LastName are the agent's; an empty one is served as
	// null, both empty as a null userDto.
	FirstName, LastName string
	Audio               fakeaudio.Audio
	// Format is how Audio is encoded (PCM WAV by default).
	Format AudioFormat
	// ContentType, if set, is the Content-Type this recording's audio is
	// served with, over Options.ContentType and the format's own;
	// NoContentType sends none.
	ContentType string
	State       AudioState
}

// Direction values that are not strings on the wire.
const (
	// DirectionMissing as Recording.Direction leaves "direction" out of
	// the recordingDto.
	DirectionMissing = "\x00missing"
	// DirectionNull as Recording.Direction sends "direction": null.
	DirectionNull = "\x00null"
)

// NoContentType as a ContentType sends audio without a Content-Type
// header (the net/http server does not sniff one either).
const NoContentType = "\x00none"

// Encoded is the audio as the fake serves it: Audio in Format.
func (r Recording) Encoded() EncodedAudio { return EncodedAudio{Audio: r.Audio, Format: r.Format} }

func (r *Recording) second() int64 { return r.Timestamp.Unix() }

func compareRecordings(a, b *Recording) int {
	return cmp.Or(cmp.Compare(a.second(), b.second()), cmp.Compare(a.ID, b.ID))
}

// Add puts r into the portal, or replaces the recording with its ID. Late
// arrivals (older timestamps added later) are listed in timestamp order,
// as the portal does.
func (s *Server) Add(r Recording) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(r)
}

func (s *Server) addLocked(r Recording) {
	if old, ok := s.byID[r.ID]; ok {
		*old = r
		s.dirty = true
		return
	}
	p := &r
	s.byID[r.ID] = p
	if n := len(s.recs); n > 0 && compareRecordings(s.recs[n-1], p) > 0 {
		s.dirty = true
	}
	s.recs = append(s.recs, p)
}

// SetReady makes a NotReady recording's audio complete.
func (s *Server) SetReady(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byID[id]; ok && r.State == NotReady {
		r.State = Ready
	}
}

// window returns, in the listing's order (by timestamp, oldest first unless
// NewestFirst), copies of at most limit of the recordings whose second lies
// between start and end (end inclusive unless EndExclusive), skipping the
// first offset, and how many lie there in all.
func (s *Server) window(start, end int64, offset, limit int) ([]Recording, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty {
		slices.SortFunc(s.recs, compareRecordings)
		s.dirty = false
	}
	lo, _ := slices.BinarySearchFunc(s.recs, start, func(r *Recording, t int64) int {
		return cmp.Compare(r.second(), t)
	})
	hi, _ := slices.BinarySearchFunc(s.recs, end, func(r *Recording, t int64) int {
		if c := cmp.Compare(r.second(), t); c != 0 || s.opts.EndExclusive {
			return c
		}
		return -1 // inclusive: every recording at end comes before the cut
	})
	total := max(hi-lo, 0)
	if offset >= total || limit <= 0 {
		return nil, total
	}
	out := make([]Recording, min(limit, total-offset))
	for i := range out {
		if s.opts.NewestFirst {
			out[i] = *s.recs[hi-1-offset-i]
		} else {
			out[i] = *s.recs[lo+offset+i]
		}
	}
	return out, total
}

// insertAtHead adds n new recordings at the head of the listing of the
// window [start, end] (seconds): at its first second when the listing is
// oldest first, at its last when newest first. Every row already listed
// moves n places down, so a client paging through sees the last rows of
// the page before again.
func (s *Server) insertAtHead(start, end int64, n int) {
	at := start
	if s.opts.NewestFirst {
		at = end
		if s.opts.EndExclusive {
			at = end - 1
		}
	}
	for range n {
		s.mu.Lock()
		s.inserted++
		id := insertedIDs + s.inserted
		s.mu.Unlock()
		s.Add(Recording{
			ID: id, Timestamp: time.Unix(at, 0).UTC(), Duration: 7,
			LocalParty: "+66812345678", RemoteParty: "+66899999999", Direction: "IN",
			Audio: fakeaudio.Audio{Seed: uint64(id), Size: 1000},
		})
	}
}

// insertedIDs is where the ids of InsertPerPage's recordings start.
const insertedIDs = 8_000_000_000

// recording returns a copy of recording id.
func (s *Server) recording(id int64) (Recording, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return Recording{}, false
	}
	return *r, true
}
