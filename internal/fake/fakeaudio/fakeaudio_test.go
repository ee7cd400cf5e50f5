package fakeaudio

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
)

func TestDeterministicAndRandomAccess(t *testing.T) {
	a := Audio{Seed: 42, Size: 100_003}
	whole := a.Bytes()
	if !bytes.Equal(whole[:4], []byte("RIFF")) || !bytes.Equal(whole[36:40], []byte("data")) {
		t.Fatalf("no WAV header: %q", whole[:44])
	}
	if got := sha256.Sum256(whole); got != a.Sum() {
		t.Fatal("Sum differs from the bytes")
	}
	if bytes.Equal(whole, (Audio{Seed: 43, Size: a.Size}).Bytes()) {
		t.Fatal("two seeds gave the same audio")
	}
	for _, off := range []int64{0, 3, 43, 44, 45, 8191, 99_990} {
		p := make([]byte, 17)
		n, err := a.ReadAt(p, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(p[:n], whole[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d) differs from the whole", off)
		}
	}
	small := Audio{Seed: 1, Size: 10}.Bytes()
	if len(small) != 10 {
		t.Fatalf("size %d", len(small))
	}
}
