package state

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helperEnv tells the test binary, run again as a child, to be a holder of
// the store at the path it gives.
const helperEnv = "SYNCD_STATE_TEST_HOLDER"

// TestHelperProcess is not a test: it is the child process of
// TestLockedAcrossProcesses. Told "write" or "read" on stdin, it opens the
// store so and answers "ready"; told "close", it closes it and answers
// "closed". It exits when stdin closes.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("only run as the child of TestLockedAcrossProcesses")
	}
	var s *Store
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var err error
		switch cmd := in.Text(); cmd {
		case "write", "read":
			s, err = Open(context.Background(), path, Options{ReadOnly: cmd == "read"})
			if err == nil {
				fmt.Println("ready")
			}
		case "close":
			err = s.Close()
			if err == nil {
				fmt.Println("closed")
			}
		}
		if err != nil {
			fmt.Println("error:", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	os.Exit(0)
}

// holder is a child process holding (or not) the store open.
type holder struct {
	t      *testing.T
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

func startHolder(t *testing.T, path string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("holder process: %v", err)
		}
	})
	return &holder{t: t, stdin: stdin, stdout: bufio.NewReader(stdout)}
}

// do sends cmd and waits for the answer want.
func (h *holder) do(cmd, want string) {
	h.t.Helper()
	if _, err := fmt.Fprintln(h.stdin, cmd); err != nil {
		h.t.Fatal(err)
	}
	line, err := h.stdout.ReadString('\n')
	if line != want+"\n" {
		h.t.Fatalf("holder answered %q to %q (%v), want %q", line, cmd, err, want)
	}
}

// TestLockedAcrossProcesses checks the locks between processes: the daemon
// (a writer) keeps every other process out, even a reader (bbolt's writer
// lock is exclusive); readers share.
func TestLockedAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "dtac", Record{ID: "a", Step: Done})
	s.Close()
	const timeout = 200 * time.Millisecond
	h := startHolder(t, path)

	t.Run("daemon holds it", func(t *testing.T) {
		h.do("write", "ready")
		for _, ro := range []bool{false, true} {
			start := time.Now()
			_, err := Open(ctx, path, Options{ReadOnly: ro, Timeout: timeout})
			assertLocked(t, err, path, "200ms")
			if elapsed := time.Since(start); elapsed > timeout+2*time.Second {
				t.Errorf("readOnly=%t: gave up after %v, want about %v", ro, elapsed, timeout)
			}
		}
		h.do("close", "closed")
		for _, ro := range []bool{false, true} {
			s, err := Open(ctx, path, Options{ReadOnly: ro, Timeout: timeout})
			if err != nil {
				t.Fatalf("readOnly=%t after the daemon let go: %v", ro, err)
			}
			if got := mustSummary(t, s, "dtac").Done; got != 1 {
				t.Errorf("done = %d, want 1", got)
			}
			s.Close()
		}
	})

	t.Run("status holds it", func(t *testing.T) {
		h.do("read", "ready")
		r, err := Open(ctx, path, Options{ReadOnly: true, Timeout: timeout})
		if err != nil {
			t.Fatalf("second reader: %v", err)
		}
		r.Close()
		_, err = Open(ctx, path, Options{Timeout: timeout})
		assertLocked(t, err, path, "200ms")
		h.do("close", "closed")
		w, err := Open(ctx, path, Options{Timeout: timeout})
		if err != nil {
			t.Fatalf("writer after the reader let go: %v", err)
		}
		w.Close()
	})
}
