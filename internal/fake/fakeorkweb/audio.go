package fakeorkweb

import (
	"cmp"
	"encoding/binary"
	"io"
	"net/http"
	"path"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

const (
	// audioPrefix is Tomcat's static /audio context on OrkAudio's audio
	// directory (OrecX): OrkTape.getUrl is
	// http://<host>:<port>/audio/<filename>.
	audioPrefix = "/audio/"
	// streamPrefix is the voiceip fork's TapeStream servlet
	// (/orkweb/stream/*, reading /var/log/orkaudio/audio/<path>).
	streamPrefix = "/orkweb/stream/"
)

// encodedAudio is a recording's file: fakeaudio's bytes, with a GSM 6.10
// WAV header instead of the PCM one when the format is GSM.
type encodedAudio struct {
	fakeaudio.Audio
	Format AudioFormat
}

// ReadAt implements io.ReaderAt.
func (a encodedAudio) ReadAt(p []byte, off int64) (int, error) {
	n, err := a.Audio.ReadAt(p, off)
	if a.Format != GSM || n == 0 {
		return n, err
	}
	hdr := gsmHeader(a.Size)
	for i := range n {
		if pos := off + int64(i); pos < int64(len(hdr)) {
			p[i] = hdr[pos]
		}
	}
	return n, err
}

// Reader returns the whole file, seekable for Range.
func (a encodedAudio) Reader() *io.SectionReader { return io.NewSectionReader(a, 0, a.Size) }

// Bytes returns the whole file.
func (a encodedAudio) Bytes() []byte {
	b := make([]byte, a.Size)
	_, _ = a.ReadAt(b, 0)
	return b
}

// GSMHeaderSize is the size of the GSM WAV header: RIFF, a 20-byte fmt
// chunk, a fact chunk and the data chunk's header.
const GSMHeaderSize = 12 + 8 + 20 + 8 + 4 + 8

// gsmHeader is a WAVE_FORMAT_GSM610 header as OrkAudio writes it (libsndfile's
// WAV+GSM610): 8 kHz mono, 65-byte blocks of 320 samples (1625 bytes a
// second), cbSize 2 holding samples per block, a fact chunk with the
// sample count.
func gsmHeader(size int64) []byte {
	data := uint32(0)
	if size > GSMHeaderSize {
		data = uint32(min(size-GSMHeaderSize, 1<<32-1-GSMHeaderSize))
	}
	h := make([]byte, 0, GSMHeaderSize)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, GSMHeaderSize-8+data)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 20)
	h = binary.LittleEndian.AppendUint16(h, 0x0031) // WAVE_FORMAT_GSM610
	h = binary.LittleEndian.AppendUint16(h, 1)      // mono
	h = binary.LittleEndian.AppendUint32(h, 8000)   // sample rate
	h = binary.LittleEndian.AppendUint32(h, 1625)   // byte rate
	h = binary.LittleEndian.AppendUint16(h, 65)     // block align
	h = binary.LittleEndian.AppendUint16(h, 0)      // bits per sample
	h = binary.LittleEndian.AppendUint16(h, 2)      // cbSize
	h = binary.LittleEndian.AppendUint16(h, 320)    // samples per block
	h = append(h, "fact"...)
	h = binary.LittleEndian.AppendUint32(h, 4)
	h = binary.LittleEndian.AppendUint32(h, data/65*320)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, data)
	return h
}

// file finds the recording stored at name (a path under the audio root).
func (s *Server) file(name string) (encodedAudio, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byFile[name]
	if !ok || r.Missing {
		s.stats.AudioMissing++
		return encodedAudio{}, false
	}
	s.stats.AudioServed++
	return r.encoded(), true
}

// serveStatic is Tomcat's DefaultServlet on the /audio context: no log-in,
// Range, Content-Length, audio/x-wav, 404 for a missing file.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		tomcatError(w, http.StatusMethodNotAllowed, "The specified HTTP method is not allowed for the requested resource.")
		return
	}
	a, ok := s.file(name)
	if !ok {
		tomcatError(w, http.StatusNotFound, "The requested resource ["+audioPrefix+name+"] is not available")
		return
	}
	w.Header().Set("Content-Type", "audio/x-wav")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", time.Time{}, a.Reader())
}

// serveStream is the voiceip fork's TapeStream servlet: no session check,
// Content-Type from Files.probeContentType, Content-Disposition inline,
// the file copied to the response without a Content-Length and without
// Range; a missing file is a FileNotFoundException, so 500.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := s.file(name)
	if !ok {
		tomcatError(w, http.StatusInternalServerError, "java.io.FileNotFoundException: /var/log/orkaudio/audio/"+name+" (No such file or directory)")
		return
	}
	switch ct := cmp.Or(s.opts.StreamContentType, "audio/x-wav"); ct {
	case NoContentType:
		w.Header()["Content-Type"] = nil
	default:
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Disposition", "inline;filename="+path.Base(name))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// IOUtils.copy in 4 KiB buffers; the first flush commits the answer
	// as chunked, so no Content-Length is ever sent.
	rd := a.Reader()
	buf := make([]byte, 4096)
	flusher, _ := w.(http.Flusher)
	for first := true; ; first = false {
		n, err := rd.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if first && flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
