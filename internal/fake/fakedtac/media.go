package fakedtac

import (
	"cmp"
	"net/http"
	"strconv"
	"time"
)

// handleMedia streams a recording's audio, as /orktrack/rest/mediastream/{id}
// does: the token in Authorization, or in ?at= as the browser player sends
// it. The audio is generated as it is sent, never held in memory, in the
// recording's Format, with the Content-Type the knobs say.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("Authorization")
	if token == "" {
		token = r.URL.Query().Get("at")
	}
	if !s.authorise(token) {
		s.unauthorised(w)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	rec, ok := s.recording(id)
	if !ok || rec.State == Gone {
		http.NotFound(w, r)
		return
	}
	switch ctype := cmp.Or(rec.ContentType, s.opts.ContentType, rec.Format.ContentType()); ctype {
	case NoContentType:
		w.Header()["Content-Type"] = nil // nil, not absent: nothing sniffs one
	default:
		w.Header().Set("Content-Type", ctype)
	}
	if r.URL.Query().Get("usage") == "download" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+strconv.FormatInt(id, 10)+rec.Format.extension()+`"`)
	}
	if rec.State == NotReady {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, rec.Encoded().Reader())
}
