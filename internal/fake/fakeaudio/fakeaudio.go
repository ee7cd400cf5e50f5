// Package fakeaudio generates deterministic WAV audio of any size for the
// fakes, without holding it in memory: byte i of a recording depends only on
// its seed and i, so a fake can serve ranges and a test can check a copy.
package fakeaudio

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
)

// HeaderSize is the size of the canonical PCM WAV header that starts every
// generated file of at least that size.
const HeaderSize = 44

// Audio is a generated recording: Size bytes, a WAV header (8 kHz, 16-bit,
// mono PCM) followed by pseudo-random samples drawn from Seed.
type Audio struct {
	Seed uint64
	Size int64
}

// ReadAt implements io.ReaderAt.
func (a Audio) ReadAt(p []byte, off int64) (int, error) {
	if off >= a.Size {
		return 0, io.EOF
	}
	n := len(p)
	if rem := a.Size - off; int64(n) > rem {
		n = int(rem)
	}
	var hdr [HeaderSize]byte
	a.header(&hdr)
	for i := 0; i < n; {
		pos := off + int64(i)
		if pos < HeaderSize && a.Size >= HeaderSize {
			c := copy(p[i:n], hdr[pos:])
			i += c
			continue
		}
		block := uint64(pos) / 8
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], splitmix(a.Seed^block*0x9e3779b97f4a7c15))
		c := copy(p[i:n], w[pos%8:])
		i += c
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Reader returns a fresh stream of the whole file. It also seeks, so that
// http.ServeContent can answer Range requests from it.
func (a Audio) Reader() *io.SectionReader { return io.NewSectionReader(a, 0, a.Size) }

// Sum returns the SHA-256 of the whole file, computed by streaming it.
func (a Audio) Sum() [sha256.Size]byte {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(h, a.Reader(), buf); err != nil {
		panic(err) // a generated reader cannot fail
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Bytes returns the whole file; for small files in tests only.
func (a Audio) Bytes() []byte {
	b := make([]byte, a.Size)
	_, _ = a.ReadAt(b, 0)
	return b
}

func (a Audio) header(h *[HeaderSize]byte) {
	data := uint32(0)
	if a.Size > HeaderSize {
		data = uint32(min(a.Size-HeaderSize, 1<<32-1-36))
	}
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)     // PCM
	binary.LittleEndian.PutUint16(h[22:], 1)     // mono
	binary.LittleEndian.PutUint32(h[24:], 8000)  // sample rate
	binary.LittleEndian.PutUint32(h[28:], 16000) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)     // block align
	binary.LittleEndian.PutUint16(h[34:], 16)    // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
