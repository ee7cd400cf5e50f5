package fakeorkweb

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// Direction is a recording's direction as Oreka stores it (orktape's
// direction: 0 IN, 1 OUT, 3 UNKN). The table shows it as an image only,
// none when unknown.
type Direction int

const (
	// Unknown (UNKN) is shown as an empty cell. The zero value.
	Unknown Direction = iota
	// In is shown as icon_incomingcall.gif, alt "In".
	In
	// Out is shown as icon_outgoingcall.gif, alt "Out".
	Out
)

// String names the direction as Oreka's enum does.
func (d Direction) String() string {
	switch d {
	case In:
		return "IN"
	case Out:
		return "OUT"
	}
	return "UNKN"
}

// AudioFormat is how a recording's file is encoded.
type AudioFormat int

const (
	// GSM is GSM 6.10 inside a .wav (RIFF, format tag 0x31, 65-byte
	// blocks of 320 samples): OrkAudio's default storage format. The
	// default.
	GSM AudioFormat = iota
	// PCM is 16-bit 8 kHz mono PCM WAV (format tag 1): fakeaudio's own.
	PCM
)

// String names the format.
func (f AudioFormat) String() string {
	switch f {
	case GSM:
		return "GSM 6.10 WAV"
	case PCM:
		return "PCM WAV"
	}
	return fmt.Sprintf("AudioFormat(%d)", int(f))
}

// Recording is one segment with its tape, as OrkWeb lists it.
type Recording struct {
	// TapeID is orktape.id, shown in the Tape Id column.
	TapeID int64
	// Time is the call's start. The table shows it in the server's zone to
	// the second ("2024-03-01 14:05:09.0"); searches compare it to the
	// second.
	Time time.Time
	// Duration in whole seconds.
	Duration int
	// LocalParty and RemoteParty are shown as given.
	LocalParty, RemoteParty string
	Direction               Direction
	// File is the file's path under the audio root
	// ("2024/03/01/14/20240301_140509_KQXB.wav"); empty means derived from
	// Time (in the server's zone) and TapeID as OrkAudio names files.
	File string
	// Format is the file's encoding (GSM by default).
	Format AudioFormat
	// Audio is the file's size and content seed; a zero Size means 16 KiB.
	Audio fakeaudio.Audio
	// Missing is a file gone from disk: 404 on OrecX, 500 on voiceip.
	Missing bool
	// Writing is a file created but not yet written (OrkAudio still
	// encoding it): served as an empty file, 200 with no bytes.
	Writing bool
	// NoTape is a segment without a tape: empty Tape Id cell, no play link.
	NoTape bool
}

// fileName is the recording's path under the audio root.
func (r *Recording) fileName(loc *time.Location) string {
	if r.File != "" {
		return r.File
	}
	t := r.Time.In(loc)
	return t.Format("2006/01/02/15/20060102_150405_") + orkUID(r.TapeID) + ".wav"
}

// orkUID is a capture id in OrkAudio's style (four capitals), derived
// from the tape id.
func orkUID(id int64) string {
	h := fnv.New32a()
	_, _ = fmt.Fprint(h, id)
	v := h.Sum32()
	b := make([]byte, 4)
	for i := range b {
		b[i] = 'A' + byte(v%26)
		v /= 26
	}
	return string(b)
}

// encoded is the file as served.
func (r *Recording) encoded() encodedAudio {
	a := r.Audio
	if a.Size == 0 {
		a.Size = 16 << 10
	}
	if a.Seed == 0 {
		a.Seed = uint64(r.TapeID)
	}
	if r.Writing {
		a.Size = 0
	}
	return encodedAudio{Audio: a, Format: r.Format}
}

// second is the recording's start to the second, as MySQL's DATETIME.
func (r *Recording) second() int64 { return r.Time.Unix() }

// compareNewestFirst is the default order: time descending, ties by tape
// id descending.
func compareNewestFirst(a, b *Recording) int {
	return cmp.Or(cmp.Compare(b.second(), a.second()), cmp.Compare(b.TapeID, a.TapeID))
}

// Add puts recordings into the database, replacing any with the same tape
// id.
func (s *Server) Add(recs ...Recording) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.addLocked(r)
	}
}

func (s *Server) addLocked(r Recording) {
	if old, ok := s.byTape[r.TapeID]; ok {
		delete(s.byFile, old.fileName(s.loc))
		*old = r
		s.byFile[old.fileName(s.loc)] = old
		s.dirty = true
		return
	}
	p := &r
	s.byTape[r.TapeID] = p
	s.byFile[p.fileName(s.loc)] = p
	s.recs = append(s.recs, p)
	s.dirty = true
}

// SetMissing removes (true) or restores (false) a recording's audio file;
// it stays listed.
func (s *Server) SetMissing(tapeID int64, missing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byTape[tapeID]; ok {
		r.Missing = missing
	}
}

// SetWriting makes a recording's file empty, still being written (true),
// or complete (false); it stays listed.
func (s *Server) SetWriting(tapeID int64, writing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byTape[tapeID]; ok {
		r.Writing = writing
	}
}

// AudioPath is the path at which the fake serves a recording's audio:
// "/audio/<file>" (OrecX) or "/orkweb/stream/<file>" (voiceip).
func (s *Server) AudioPath(tapeID int64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byTape[tapeID]
	if !ok {
		return "", false
	}
	if s.opts.Flavour == VoiceIP {
		return streamPrefix + r.fileName(s.loc), true
	}
	return audioPrefix + r.fileName(s.loc), true
}

// AudioBytes returns a recording's whole file as served; for tests.
func (s *Server) AudioBytes(tapeID int64) ([]byte, bool) {
	s.mu.Lock()
	r, ok := s.byTape[tapeID]
	var a encodedAudio
	if ok {
		a = r.encoded()
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	return a.Bytes(), true
}

// query runs RecSegmentServiceHbn.getResults: the recordings matching f,
// in the table's order, from offset, at most n, and how many match.
func (s *Server) query(f *filter, order orderBy, offset, n int) ([]Recording, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty {
		slices.SortFunc(s.recs, compareNewestFirst)
		s.dirty = false
	}
	s.queries++
	var match []*Recording
	for _, r := range s.recs {
		if f.matches(r, s.opts.Flavour) {
			match = append(match, r)
		}
	}
	order.sort(match, s.opts.ShuffleTies, s.queries)
	total := len(match)
	if offset < 0 || offset >= total {
		return nil, total
	}
	out := make([]Recording, 0, min(n, total-offset))
	for _, r := range match[offset:min(offset+n, total)] {
		out = append(out, *r)
	}
	return out, total
}

// insertInWindow adds n recordings on the last second of f's window (now,
// when the window is open-ended), as calls landing while a client pages.
func (s *Server) insertInWindow(f *filter, n int) {
	at := s.now()
	if f.end != nil {
		at = *f.end
	}
	at = at.Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inserted++
		s.stats.Inserted++
		id := insertedTapeIDs + s.inserted
		s.addLocked(Recording{
			TapeID: id, Time: at, Duration: 30 + int(id%90),
			LocalParty: "1009", RemoteParty: fmt.Sprintf("08%08d", id%100_000_000), Direction: In,
			Audio: fakeaudio.Audio{Seed: uint64(id), Size: 4 << 10},
		})
	}
}

// insertedTapeIDs is where InsertPerPage's tape ids start.
const insertedTapeIDs = 9_000_000
