package fakethreecx

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// download serves GET /xapi/v1/Recordings/Pbx.DownloadRecording(recId=<Id>)
// by the recording's DownloadState, streaming the generated audio. A
// malformed argument answers 404, as 3CX does; so does
// Recordings/<anything else>. An unknown id or an Archived file answers as
// Options.MissingFile says.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	g, ok := s.authorize(w, r)
	if !ok || !s.mayReadRecordings(w, g) {
		return
	}
	id, ok := downloadArg(r.PathValue("function"))
	if !ok {
		s.writeError(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI, or its function arguments are not valid.")
		return
	}
	s.mu.RLock()
	rec, found := s.byID[id]
	var state DownloadState
	var audio fakeaudio.Audio
	if found {
		state, audio = rec.State, rec.Audio
	}
	s.mu.RUnlock()
	if !found || state == Archived {
		switch s.opts.MissingFile {
		case MissingFile400:
			s.writeError(w, http.StatusBadRequest, "WARNINGS.XAPI.FILE_NOT_FOUND")
		case MissingFile400NotFound:
			s.writeError(w, http.StatusBadRequest, "WARNINGS.XAPI.NOT_FOUND")
		default:
			s.writeError(w, http.StatusNotFound, "Recording "+strconv.Itoa(int(id))+" was not found.")
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", s.opts.DownloadContentType)
	h.Set("Content-Disposition", `attachment; filename="recording-`+strconv.Itoa(int(id))+`.wav"`)
	switch state {
	case ZeroByteUntilReady:
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	case Truncated:
		// Promise the whole file, send half; the server then closes the
		// connection, so the client sees an unexpected EOF.
		h.Set("Content-Length", strconv.FormatInt(audio.Size, 10))
		w.WriteHeader(http.StatusOK)
		_, _ = io.CopyN(w, audio.Reader(), audio.Size/2)
		return
	case Slow:
		if sleep(r.Context(), s.opts.SlowDelay) != nil {
			return
		}
	}
	h.Set("Content-Length", strconv.FormatInt(audio.Size, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, audio.Reader())
}

// downloadArg reads the recId of "Pbx.DownloadRecording(recId=<Id>)".
func downloadArg(fn string) (int32, bool) {
	arg, ok := strings.CutPrefix(fn, "Pbx.DownloadRecording(")
	if !ok {
		return 0, false
	}
	arg, ok = strings.CutSuffix(arg, ")")
	if !ok {
		return 0, false
	}
	arg, ok = strings.CutPrefix(arg, "recId=")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(arg, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}
