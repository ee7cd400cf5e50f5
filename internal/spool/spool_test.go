package spool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func TestTakeKeepsBytesExact(t *testing.T) {
	for _, size := range []int{0, 1, 1000, 1024, 1025, 300_000} {
		dir := filepath.Join(t.TempDir(), "spool")
		s := New(dir, 1024)
		data := bytes.Repeat([]byte("RIFF\x00\x01wave"), size/10+1)[:size]
		b, err := s.Take(t.Context(), iotest.HalfReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, data) || b.Size != int64(size) {
			t.Fatalf("size %d: read %d bytes (Size %d), %v", size, len(got), b.Size, err)
		}
		files, _ := os.ReadDir(dir)
		if wantFile := size > 1024; (len(files) == 1) != wantFile {
			t.Fatalf("size %d: %d files in the spool", size, len(files))
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Fatalf("size %d: %d files left after Close", size, len(files))
		}
	}
}

func TestTakeKeepsTheSourceError(t *testing.T) {
	dir := t.TempDir()
	notReady := errors.New("audio not ready yet")
	r := io.MultiReader(bytes.NewReader(make([]byte, 5000)), iotest.ErrReader(notReady))
	if _, err := New(dir, 1024).Take(t.Context(), r); !errors.Is(err, notReady) {
		t.Fatalf("err %v, want the source's", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("%d files left after a failed take", len(files))
	}
}

func TestTakeStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := New(t.TempDir(), 10).Take(ctx, bytes.NewReader(make([]byte, 100))); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestCleanRemovesOnlyItsOwnFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{prefix + "123", prefix + "abc", "syncd.db", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(dir, 0).Clean()
	if err != nil || n != 2 {
		t.Fatalf("Clean = %d, %v", n, err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 2 {
		t.Fatalf("left %v", files)
	}
	if n, err := New(filepath.Join(dir, "missing"), 0).Clean(); n != 0 || err != nil {
		t.Fatalf("Clean of a missing directory = %d, %v", n, err)
	}
}
