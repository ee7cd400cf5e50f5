package fakecrk

import (
	"net/http"
	"strings"
	"time"
)

type reextractResponse struct {
	ID               string `json:"id"`
	ProcessingStatus string `json:"processingStatus"`
}

// reextract answers POST /api/v1/recordings/{id}/reextract: a recording of
// the key's business with audio is counted and marked processed.
func (s *Server) reextract(w http.ResponseWriter, r *http.Request, p *principal) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, recordingsPath+"/"), "/"+reextractPathSuffix)
	b := s.knobs()
	after := b.ProcessingAfter
	if after == "" {
		after = "completed"
	}

	now := s.now()
	s.store.mu.Lock()
	rec, ok := s.store.byID[id]
	ok = ok && rec.BusinessID == p.business
	hasAudio := ok && rec.HasAudio
	if hasAudio {
		rec.Reextracts++
		rec.ProcessingStatus = after
		rec.doneAt = time.Time{}
		if b.ProcessingDoneAfter > 0 {
			rec.doneAt = now.Add(b.ProcessingDoneAfter)
		}
		rec.settle(now)
	}
	s.store.mu.Unlock()

	switch {
	case !ok:
		writeAPIError(w, http.StatusNotFound, "not_found", "Recording not found")
	case !hasAudio:
		status := orDefault(b.ReextractNoAudio, http.StatusUnprocessableEntity)
		code := apiCodeFor(status)
		if status == http.StatusConflict {
			code = "audio_missing"
		}
		writeAPIError(w, status, code, "Recording has no audio")
	default:
		status := orDefault(b.ReextractStatus, http.StatusAccepted)
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, reextractResponse{ID: id, ProcessingStatus: after})
	}
}
