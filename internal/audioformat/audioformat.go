// Package audioformat tells from its first bytes what a recording's audio
// really is, so that syncd declares to CRK the content type the bytes are
// (not the one a server claimed) and never pays for processing a document
// that is not audio: a log-in page, a JSON or XML error, a proxy's 502
// page served with status 200.
package audioformat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// HeadSize is how many leading bytes Sniff wants; fewer work when the
// audio is shorter.
const HeadSize = 512

// Format is what the bytes are.
type Format struct {
	// ContentType is the MIME type to declare, e.g. "audio/wav".
	ContentType string
	// Name says it for people, e.g. "WAV (G.711 µ-law)".
	Name string
}

// ErrNotAudio: the bytes are not audio.
var ErrNotAudio = errors.New("not audio")

// WAV format tags of the fmt chunk.
var wavCodecs = map[uint16]string{
	0x0001: "PCM", 0x0003: "IEEE float", 0x0006: "G.711 A-law", 0x0007: "G.711 µ-law",
	0x0011: "IMA ADPCM", 0x0002: "MS ADPCM", 0x0031: "GSM 6.10", 0x0055: "MPEG Layer 3",
	0x0064: "G.726", 0x0065: "G.722", 0x0040: "G.721", 0xFFFE: "extensible",
}

// Sniff reads head, the first bytes of the audio (HeadSize or all of it),
// and says what it is. declared is the Content-Type the source sent, used
// only for headerless audio that no signature tells (raw G.711, raw GSM),
// and only when it names an audio type and the bytes are not text. An
// error wraps ErrNotAudio and says what the bytes look like.
func Sniff(head []byte, declared string) (Format, error) {
	b := head
	switch {
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return Format{ContentType: "audio/wav", Name: "WAV (" + wavCodec(b) + ")"}, nil
	case len(b) >= 12 && string(b[:4]) == "RF64" && string(b[8:12]) == "WAVE":
		return Format{ContentType: "audio/wav", Name: "WAV (RF64)"}, nil
	case len(b) >= 3 && string(b[:3]) == "ID3":
		return Format{ContentType: "audio/mpeg", Name: "MP3 (ID3)"}, nil
	case len(b) >= 4 && string(b[:4]) == "OggS":
		return Format{ContentType: "audio/ogg", Name: "Ogg"}, nil
	case len(b) >= 4 && string(b[:4]) == "fLaC":
		return Format{ContentType: "audio/flac", Name: "FLAC"}, nil
	case len(b) >= 5 && string(b[:5]) == "#!AMR":
		return Format{ContentType: "audio/amr", Name: "AMR"}, nil
	case len(b) >= 4 && string(b[:4]) == ".snd":
		return Format{ContentType: "audio/basic", Name: "Sun/NeXT audio"}, nil
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return Format{ContentType: "audio/mp4", Name: "MPEG-4 audio"}, nil
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return Format{ContentType: "audio/webm", Name: "WebM/Matroska"}, nil
	case len(b) >= 12 && string(b[:4]) == "FORM" && (string(b[8:12]) == "AIFF" || string(b[8:12]) == "AIFC"):
		return Format{ContentType: "audio/aiff", Name: "AIFF"}, nil
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]&0x06 != 0:
		return Format{ContentType: "audio/mpeg", Name: "MPEG audio"}, nil
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return Format{ContentType: "audio/aac", Name: "AAC (ADTS)"}, nil
	}
	if len(b) == 0 {
		return Format{}, fmt.Errorf("%w: empty", ErrNotAudio)
	}
	if what := document(b); what != "" {
		return Format{}, fmt.Errorf("%w: the source answered %s: %q", ErrNotAudio, what, excerpt(b))
	}
	if mt, _, err := mime.ParseMediaType(declared); err == nil && strings.HasPrefix(mt, "audio/") {
		return Format{ContentType: mt, Name: "headerless audio declared as " + mt}, nil
	}
	return Format{}, fmt.Errorf("%w: the bytes match no audio format syncd knows (declared %q), starting % x", ErrNotAudio, declared, b[:min(len(b), 8)])
}

func wavCodec(b []byte) string {
	// Chunks follow the 12-byte header: id (4), size (4, little-endian).
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), binary.LittleEndian.Uint32(b[i+4:i+8])
		if id == "fmt " && i+10 <= len(b) {
			tag := binary.LittleEndian.Uint16(b[i+8 : i+10])
			if name, ok := wavCodecs[tag]; ok {
				return name
			}
			return fmt.Sprintf("format 0x%04x", tag)
		}
		next := i + 8 + int(size) + int(size&1)
		if next <= i {
			break
		}
		i = next
	}
	return "codec not in the first bytes"
}

// document says what kind of text b is ("an HTML page", "JSON", …), or ""
// when b does not look like text.
func document(b []byte) string {
	t := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
	t = bytes.TrimLeft(t, " \t\r\n")
	lower := strings.ToLower(string(t[:min(len(t), 64)]))
	switch {
	case strings.HasPrefix(lower, "<!doctype html"), strings.HasPrefix(lower, "<html"), strings.Contains(lower, "<head"), strings.Contains(lower, "<body"):
		return "an HTML page"
	case strings.HasPrefix(lower, "<?xml"), strings.HasPrefix(lower, "<error"):
		return "an XML document"
	case strings.HasPrefix(lower, "<"):
		return "markup (HTML or XML)"
	case strings.HasPrefix(lower, "{"), strings.HasPrefix(lower, "["):
		return "JSON"
	}
	if textLike(t) {
		return "text"
	}
	return ""
}

// textLike reports whether b is mostly printable UTF-8.
func textLike(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b[:lastRuneStart(b)]) {
		return false
	}
	printable := 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' || c >= 0x80 {
			printable++
		}
	}
	return printable*100 >= len(b)*95
}

// lastRuneStart is where b's possibly cut last rune starts.
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

func excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), 80)]), "")
	return strings.Join(strings.Fields(s), " ")
}
