//go:build unix

package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSecretFilesThatAreNot: a secret file is read only when it is a
// regular file of a few KB; a BOM and trailing whitespace are dropped, and
// control characters refused, each with a message naming the variable.
func TestSecretFilesThatAreNot(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want, token string
	}{
		{name: "FIFO", path: fifo, want: `cannot read the secret file "` + fifo + `": not a regular file: a named pipe (FIFO)`},
		{name: "device", path: "/dev/zero", want: `cannot read the secret file "/dev/zero": not a regular file: a device`},
		{name: "directory", path: dir, want: "is a directory"},
		{name: "huge", path: write("huge", make([]byte, 1<<20)), want: "larger than 16384 bytes: not a secret file"},
		{name: "NULs", path: write("nuls", make([]byte, 100)), want: "holds a control character (U+0000 at byte 0)"},
		{name: "two lines", path: write("lines", []byte("crk_one\ncrk_two\n")), want: "holds a control character (U+000A at byte 7)"},
		{name: "not UTF-8", path: write("latin1", []byte("crk_caf\xe9")), want: "is not UTF-8 text"},
		{name: "BOM and CRLF", path: write("bom", []byte("\ufeffcrk_from_notepad\r\n")), token: "crk_from_notepad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := with("CRK_API_TOKEN", "<unset>", "CRK_API_TOKEN_FILE", tc.path)
			cfg, err := Load(context.Background(), mapLookup(env), ReadSecretFile)
			if tc.token != "" {
				if err != nil || cfg.CRK.Token.Reveal() != tc.token {
					t.Fatalf("Load: %v; token %q", err, cfg.CRK.Token.Reveal())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "CRK_API_TOKEN_FILE: ") {
				t.Fatalf("Load: %v; want a problem with CRK_API_TOKEN_FILE", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v\nwant it to say %q", err, tc.want)
			}
		})
	}
}
