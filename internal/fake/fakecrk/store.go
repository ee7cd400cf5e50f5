package fakecrk

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// record is a stored recording with its parsed call time.
type record struct {
	Recording
	callAt time.Time
	// doneAt, when set, is when the AI processing asked for last ends
	// (Behaviour.ProcessingDoneAfter).
	doneAt time.Time
}

// settle marks rec "completed" once its processing has ended at now. The
// caller holds the store's lock; every read of a recording settles it
// first, so that the processing ends on the fake's clock, not on a timer.
func (rec *record) settle(now time.Time) {
	if !rec.doneAt.IsZero() && !now.Before(rec.doneAt) {
		rec.ProcessingStatus, rec.doneAt = "completed", time.Time{}
	}
}

type dataKey struct{ business, dataID string }

// store holds the recordings of every business.
type store struct {
	mu     sync.Mutex
	byID   map[string]*record
	byData map[dataKey]*record
}

func newStore() store {
	return store{byID: map[string]*record{}, byData: map[dataKey]*record{}}
}

// recordingID is the id CRK gives a dataId of a business: UUID-shaped and
// deterministic.
func recordingID(business, dataID string) string {
	h := sha256.Sum256([]byte("crk-fake\x00" + business + "\x00" + dataID))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// put stores rec, replacing any recording of the same business and dataId.
// The caller holds mu.
func (st *store) put(rec *record) {
	k := dataKey{rec.BusinessID, rec.DataID}
	if old, ok := st.byData[k]; ok {
		delete(st.byID, old.ID)
	}
	st.byData[k] = rec
	st.byID[rec.ID] = rec
}

// AddRecording seeds a recording of businessID (for GET /recordings tests),
// replacing one with the same dataId. An empty ID is derived from the
// dataId as the API would; an empty SourceProvider is "upload". CallAt
// should be RFC 3339; one that is not sorts and filters as the zero time.
func (s *Server) AddRecording(businessID string, r Recording) {
	r.BusinessID = businessID
	if r.ID == "" {
		r.ID = recordingID(businessID, r.DataID)
	}
	if r.SourceProvider == "" {
		r.SourceProvider = SourceUpload
	}
	at, _ := time.Parse(time.RFC3339, r.CallAt)
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	s.store.put(&record{Recording: r, callAt: at})
}

// Recordings returns every recording, sorted by dataId (then business).
func (s *Server) Recordings() []Recording {
	now := s.now()
	s.store.mu.Lock()
	out := make([]Recording, 0, len(s.store.byID))
	for _, r := range s.store.byID {
		r.settle(now)
		out = append(out, r.Recording)
	}
	s.store.mu.Unlock()
	slices.SortFunc(out, func(a, b Recording) int {
		return cmp.Or(cmp.Compare(a.DataID, b.DataID), cmp.Compare(a.BusinessID, b.BusinessID))
	})
	return out
}

// Recording returns the recording of businessID with dataID.
func (s *Server) Recording(businessID, dataID string) (Recording, bool) {
	now := s.now()
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	r, ok := s.store.byData[dataKey{businessID, dataID}]
	if !ok {
		return Recording{}, false
	}
	r.settle(now)
	return r.Recording, true
}
