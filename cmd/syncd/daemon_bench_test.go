package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/state"
)

// BenchmarkDaemonReadyAndIdleRSS starts the real binary as systemd would
// (NOTIFY_SOCKET) on a state file of 100,000 records, and measures the time
// from exec to READY=1 (limit 200 ms) and the resident memory once the
// first pass is done and the daemon idles until the next tick (limit 25 MB).
func BenchmarkDaemonReadyAndIdleRSS(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "syncd")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	template := filepath.Join(dir, "template.db")
	fillState(b, template, 100_000)
	raw, err := os.ReadFile(template)
	if err != nil {
		b.Fatal(err)
	}

	var readySum, rssSum, anonSum float64
	for range b.N {
		f := newFakes(b, 200)
		dbPath := filepath.Join(b.TempDir(), "syncd.db") // a fresh copy of the 100k-record file
		if err := os.WriteFile(dbPath, raw, 0o600); err != nil {
			b.Fatal(err)
		}
		sock := filepath.Join(b.TempDir(), "notify.sock")
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
		if err != nil {
			b.Fatal(err)
		}
		addr := freeAddr(b)
		env := f.with("SYNCD_STATE_PATH", dbPath, "SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1h", "SYNCD_LOG_LEVEL", "warn", "CRK_RATE_LIMIT", "60000")
		cmd := exec.Command(bin)
		cmd.Env = append([]string{"NOTIFY_SOCKET=" + sock, "PATH=" + os.Getenv("PATH")}, envList(env)...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill() }) // after a failure; harmless after a clean exit
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				b.Fatalf("no READY=1: %v", err)
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				break
			}
		}
		ready := time.Since(start)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, m := get(b, "http://"+addr+"/metrics")
			if strings.Contains(m, `syncd_last_success_timestamp_seconds{source="dtac"}`) {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, on stderr
				cmd.Wait()
				b.Fatal("timed out waiting for the first pass")
			}
		}
		time.Sleep(3 * time.Second) // idle between passes; let the runtime return what it freed
		rss := procStatus(b, cmd.Process.Pid, "VmRSS")
		anon := procStatus(b, cmd.Process.Pid, "RssAnon")
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("daemon exit: %v", err)
		}
		conn.Close()
		if n := len(f.crk.Recordings()); n != 200 {
			b.Fatalf("the pass synced %d of 200", n)
		}
		readySum += float64(ready) / float64(time.Millisecond)
		rssSum += rss
		anonSum += anon
	}
	n := float64(b.N)
	b.ReportMetric(readySum/n, "ready-ms")
	b.ReportMetric(readySum/n/200, "ready/limit")
	b.ReportMetric(rssSum/n, "idle-RSS-MB")
	b.ReportMetric(rssSum/n/25, "RSS/limit")
	// RssAnon leaves out the state file's pages that bbolt maps: page cache
	// the kernel reclaims first, shared with any other reader of the file.
	b.ReportMetric(anonSum/n, "idle-anon-MB")
	b.ReportMetric(anonSum/n/25, "anon/limit")
}

func fillState(b *testing.B, path string, n int) {
	b.Helper()
	s, err := state.Open(b.Context(), path, state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Recent enough that the first pass prunes none of them.
	base := time.Now().Add(-20 * time.Hour)
	const batch = 10_000
	for i := 0; i < n; i += batch {
		rs := make([]state.Record, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			rs = append(rs, state.Record{ID: strconv.Itoa(50_000_000 + j), DataID: fmt.Sprintf("dtac-%d", 50_000_000+j), CRKID: fmt.Sprintf("rec_%d", j),
				Step: state.Done, CallAt: base.Add(time.Duration(j) * 500 * time.Millisecond)})
		}
		if err := s.PutMany(b.Context(), "dtac", rs); err != nil {
			b.Fatal(err)
		}
	}
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// procStatus reads a size field of /proc/<pid>/status (VmRSS, RssAnon, …)
// in MB.
func procStatus(b *testing.B, pid int, field string) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no %s", field)
	return 0
}
