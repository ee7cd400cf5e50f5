package simulation

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ts formats a time for traces: UTC, to the second.
func ts(t time.Time) string {
	if t.IsZero() {
		return "(zero)"
	}
	return t.UTC().Format("01-02 15:04:05")
}

// maxTrace bounds one recording's trace: its first lines and its latest.
const (
	traceHead = 15
	traceTail = 45
)

// trace adds a line to the history of dataID.
func (w *World) trace(dataID, format string, args ...any) {
	line := ts(w.clk.Now()) + " " + fmt.Sprintf(format, args...)
	w.mu.Lock()
	defer w.mu.Unlock()
	tr := append(w.traces[dataID], line)
	if len(tr) > traceHead+traceTail+20 {
		tr = append(append(tr[:traceHead:traceHead], fmt.Sprintf("   … %d lines …", len(tr)-traceHead-traceTail)), tr[len(tr)-traceTail:]...)
	}
	w.traces[dataID] = tr
}

// event adds a line to the world's history: one that every trace of a
// recording alive at the time shows.
func (w *World) event(format string, args ...any) { w.addEvent(true, format, args...) }

// eventMinor adds a line that only the digest and the full history keep.
func (w *World) eventMinor(format string, args ...any) { w.addEvent(false, format, args...) }

func (w *World) addEvent(major bool, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, event{at: w.clk.Now(), major: major, text: text})
	fmt.Fprintf(w.digest, "%s %s\n", w.clk.Now().UTC().Format(time.RFC3339), text)
}

// digestf adds a line to the digest only.
func (w *World) digestf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.digest, format+"\n", args...)
}

// dataOf is the dataId of a CRK recording id, when a create has shown it.
func (w *World) dataOf(crkID string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d, ok := w.dataByCRK[crkID]; ok {
		return d
	}
	return "crk:" + crkID
}

// observe records one request to CRK and its answer (status 0: none).
func (w *World) observe(r request, status int, err error) {
	answer := strconv.Itoa(status)
	if status == 0 {
		answer = "no answer"
		if err != nil {
			answer += " (" + shortErr(err) + ")"
		}
	}
	extra := ""
	if r.dataID != "" && (r.endpoint == "create" || r.endpoint == "reextract" || r.endpoint == "upload" || r.endpoint == "find") {
		if got, ok := w.crk.Recording(business, r.dataID); ok {
			extra = fmt.Sprintf(" [CRK: audio %v, reextracts %d, status %q]", got.HasAudio, got.Reextracts, got.ProcessingStatus)
			if r.endpoint == "create" {
				w.mu.Lock()
				w.dataByCRK[got.ID] = r.dataID
				w.mu.Unlock()
			}
		}
	}
	if r.dataID != "" {
		w.trace(r.dataID, "crk %s → %s%s", r.endpoint, answer, extra)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	if r.endpoint == "reextract" && r.dataID != "" {
		w.touched = append(w.touched, r.dataID)
	}
	code := status
	if err != nil && status == 0 {
		code = -1
	}
	fmt.Fprintf(w.digest, "req %s %d\n", r, code)
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 60 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// logSink receives syncd's log lines: it checks each for secrets (I4) and
// files the ones about a recording under its trace.
type logSink struct {
	w       *World
	secrets []string
}

func (l *logSink) Write(p []byte) (int, error) {
	for _, s := range l.secrets {
		if bytes.Contains(p, []byte(s)) {
			l.w.violate(I4, "secret in a log line", "", fmt.Sprintf("a secret is in a log line: %s", redact(string(p), l.secrets)))
		}
	}
	if d := attr(p, "dataId"); d != "" {
		line := strings.TrimSpace(string(p))
		if len(line) > 400 {
			line = line[:400] + "…"
		}
		l.w.trace(d, "log: %s", line)
	}
	return len(p), nil
}

// attr is the value of key=... in a text log line.
func attr(line []byte, key string) string {
	i := bytes.Index(line, []byte(" "+key+"="))
	if i < 0 {
		return ""
	}
	rest := string(line[i+len(key)+2:])
	if strings.HasPrefix(rest, `"`) {
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			v, _ := strconv.Unquote(q)
			return v
		}
		return ""
	}
	if j := strings.IndexAny(rest, " \n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// redact replaces the secrets in s, so that a report never shows them.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "<secret>")
	}
	return strings.TrimSpace(s)
}
