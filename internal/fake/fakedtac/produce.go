package fakedtac

import (
	"math/rand/v2"
	"time"
)

// AddCall adds a call of SampleDay's kind that ended at end (to the
// second), as a team's day goes on while syncd watches (`syncd -demo
// -serve`), and returns it. Its id follows the highest the server holds;
// the call is drawn from seed and that id.
func (s *Server) AddCall(end time.Time, seed uint64) Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id int64
	for held := range s.byID {
		id = max(id, held)
	}
	id++
	r := sampleCall(rand.New(rand.NewPCG(seed, uint64(id))), id, seed)
	r.Timestamp = end.UTC().Truncate(time.Second).Add(-time.Duration(r.Duration) * time.Second)
	s.addLocked(r)
	return r
}
