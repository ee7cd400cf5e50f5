package fakethreecx

import "time"

// AddCall adds a call of SampleDay's kind (internal ones included) that
// ended at end (to the second), as a PBX in use does while syncd watches
// (`syncd -demo -serve`), and returns it. Its Id follows the highest the
// server holds; the call is drawn from seed and that Id; maxAudio, above
// zero, caps its audio's size (a real file is 16 kB a second of call).
func (s *Server) AddCall(end time.Time, seed uint64, maxAudio int64) Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id int32
	for held := range s.byID {
		id = max(id, held)
	}
	id++
	callType := sampleType(mix(seed + uint64(id)))
	end = end.Truncate(time.Second)
	// A call's length depends on its Id and seed alone: drawn once to
	// learn it, then again starting that long before end.
	probe := NewRecording(id, end, callType, seed^uint64(id))
	r := NewRecording(id, end.Add(-probe.EndTime.Sub(*probe.StartTime)), callType, seed^uint64(id))
	if maxAudio > 0 {
		r.Audio.Size = min(r.Audio.Size, maxAudio)
	}
	s.addLocked(r)
	return r
}

// Internal counts the recordings the server holds that are internal
// calls (CallType Local: extension to extension), and all it holds.
func (s *Server) Internal() (internal, all int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.recs {
		if r.CallType != nil && *r.CallType == Local {
			internal++
		}
	}
	return internal, len(s.recs)
}
