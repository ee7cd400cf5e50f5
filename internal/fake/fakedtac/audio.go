package fakedtac

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// AudioFormat is how a recording's audio is encoded. Clients of the portal
// handle PCM WAV, G.711 µ-law and A-law WAV and audio/mpeg; self-hosted
// Oreka stores GSM 6.10 inside a .wav by default.
type AudioFormat int

const (
	// PCM is a RIFF WAVE file with fmt format tag 1 (16-bit, 8 kHz, mono):
	// fakeaudio's own bytes. The default.
	PCM AudioFormat = iota
	// MuLaw is a RIFF WAVE file with format tag 7 (G.711 µ-law, 8-bit,
	// 8 kHz, mono), an 18-byte fmt chunk and a fact chunk.
	MuLaw
	// ALaw is the same with format tag 6 (G.711 A-law).
	ALaw
	// GSM is a RIFF WAVE file with format tag 0x31 (GSM 6.10, 65-byte
	// blocks of 320 samples), as OrkAudio stores by default.
	GSM
	// MP3 is MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono, 417
	// bytes each), the first frame sync at byte 0, no tag.
	MP3
	// MP3ID3 is an ID3v2.4 tag (one TSSE frame) followed by MP3's frames.
	MP3ID3
)

// String names the format as a test would.
func (f AudioFormat) String() string {
	switch f {
	case PCM:
		return "PCM WAV"
	case MuLaw:
		return "µ-law WAV"
	case ALaw:
		return "A-law WAV"
	case GSM:
		return "GSM 6.10 WAV"
	case MP3:
		return "MP3"
	case MP3ID3:
		return "MP3 with ID3"
	}
	return fmt.Sprintf("AudioFormat(%d)", int(f))
}

// ContentType is the type the portal serves the format with when no
// Options.ContentType or Recording.ContentType says otherwise.
func (f AudioFormat) ContentType() string {
	if f == MP3 || f == MP3ID3 {
		return "audio/mpeg"
	}
	return "audio/x-wav"
}

// extension is the download file name's extension.
func (f AudioFormat) extension() string {
	if f == MP3 || f == MP3ID3 {
		return ".mp3"
	}
	return ".wav"
}

// WAV format tags of the fmt chunk.
const (
	tagPCM   = 0x0001
	tagALaw  = 0x0006
	tagMuLaw = 0x0007
	tagGSM   = 0x0031
)

// mp3Frame is the header of every generated MPEG frame: sync, MPEG-1,
// Layer III, no CRC; 128 kbit/s, 44.1 kHz, no padding; mono.
var mp3Frame = [4]byte{0xFF, 0xFB, 0x90, 0xC0}

// mp3FrameLen is 144 · 128000 / 44100, rounded down (no padding).
const mp3FrameLen = 417

// EncodedAudio is a recording's audio as the fake serves it: Size bytes in
// Format, the header realistic and the rest drawn from Seed, generated as
// it is read (never held in memory).
type EncodedAudio struct {
	fakeaudio.Audio
	Format AudioFormat
}

// ReadAt implements io.ReaderAt.
func (a EncodedAudio) ReadAt(p []byte, off int64) (int, error) {
	n, err := a.Audio.ReadAt(p, off)
	if a.Format == PCM || n == 0 {
		return n, err
	}
	hdr := a.header()
	for i := range n {
		pos := off + int64(i)
		switch {
		case pos < int64(len(hdr)):
			p[i] = hdr[pos]
		case a.Format == MP3 || a.Format == MP3ID3:
			if k := (pos - int64(len(hdr))) % mp3FrameLen; k < int64(len(mp3Frame)) {
				p[i] = mp3Frame[k]
			}
		}
	}
	return n, err
}

// Reader returns a fresh stream of the whole file, seekable for Range.
func (a EncodedAudio) Reader() *io.SectionReader { return io.NewSectionReader(a, 0, a.Size) }

// Sum returns the SHA-256 of the whole file.
func (a EncodedAudio) Sum() [sha256.Size]byte {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, a.Reader(), make([]byte, 64<<10)); err != nil {
		panic(err) // a generated reader cannot fail
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Bytes returns the whole file; for small files in tests only.
func (a EncodedAudio) Bytes() []byte {
	b := make([]byte, a.Size)
	_, _ = a.ReadAt(b, 0)
	return b
}

// header is what a non-PCM file starts with: a WAV header, an ID3 tag,
// or nothing (bare MP3 frames start at byte 0).
func (a EncodedAudio) header() []byte {
	switch a.Format {
	case MuLaw:
		return g711Header(a.Size, tagMuLaw)
	case ALaw:
		return g711Header(a.Size, tagALaw)
	case GSM:
		return gsmHeader(a.Size)
	case MP3ID3:
		return id3Tag()
	}
	return nil
}

// wavHeader writes RIFF, the fmt chunk (body fmtBody), a fact chunk
// holding samples, and the data chunk's header, for a file of size bytes.
func wavHeader(size int64, fmtBody []byte, samples func(data uint32) uint32) []byte {
	hdrLen := 12 + 8 + len(fmtBody) + 8 + 4 + 8
	data := uint32(0)
	if size > int64(hdrLen) {
		data = uint32(min(size-int64(hdrLen), 1<<32-1-int64(hdrLen)))
	}
	h := make([]byte, 0, hdrLen)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(hdrLen-8)+data)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(fmtBody)))
	h = append(h, fmtBody...)
	h = append(h, "fact"...)
	h = binary.LittleEndian.AppendUint32(h, 4)
	h = binary.LittleEndian.AppendUint32(h, samples(data))
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, data)
	return h
}

// g711Header is a WAVE_FORMAT_ALAW or WAVE_FORMAT_MULAW header: 8 kHz,
// mono, 8 bits, an 18-byte fmt chunk (cbSize 0) and a fact chunk.
func g711Header(size int64, tag uint16) []byte {
	f := make([]byte, 0, 18)
	f = binary.LittleEndian.AppendUint16(f, tag)
	f = binary.LittleEndian.AppendUint16(f, 1)    // mono
	f = binary.LittleEndian.AppendUint32(f, 8000) // sample rate
	f = binary.LittleEndian.AppendUint32(f, 8000) // byte rate
	f = binary.LittleEndian.AppendUint16(f, 1)    // block align
	f = binary.LittleEndian.AppendUint16(f, 8)    // bits per sample
	f = binary.LittleEndian.AppendUint16(f, 0)    // cbSize
	return wavHeader(size, f, func(data uint32) uint32 { return data })
}

// gsmHeader is a WAVE_FORMAT_GSM610 header as OrkAudio writes it: 8 kHz,
// mono, 65-byte blocks of 320 samples (1625 bytes a second).
func gsmHeader(size int64) []byte {
	f := make([]byte, 0, 20)
	f = binary.LittleEndian.AppendUint16(f, tagGSM)
	f = binary.LittleEndian.AppendUint16(f, 1)    // mono
	f = binary.LittleEndian.AppendUint32(f, 8000) // sample rate
	f = binary.LittleEndian.AppendUint32(f, 1625) // byte rate
	f = binary.LittleEndian.AppendUint16(f, 65)   // block align
	f = binary.LittleEndian.AppendUint16(f, 0)    // bits per sample
	f = binary.LittleEndian.AppendUint16(f, 2)    // cbSize
	f = binary.LittleEndian.AppendUint16(f, 320)  // samples per block
	return wavHeader(size, f, func(data uint32) uint32 { return data / 65 * 320 })
}

// id3Tag is an ID3v2.4 tag holding one TSSE (encoder settings) frame.
func id3Tag() []byte {
	text := append([]byte{3}, "syncd fake dtac"...) // 3: UTF-8
	frame := append([]byte("TSSE"), syncsafe(len(text))...)
	frame = append(frame, 0, 0) // frame flags
	frame = append(frame, text...)
	tag := append([]byte("ID3"), 4, 0, 0) // v2.4.0, no flags
	tag = append(tag, syncsafe(len(frame))...)
	return append(tag, frame...)
}

// syncsafe is n as ID3's four 7-bit bytes.
func syncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}
