package dtac

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

// mediaPortal logs anyone in and answers the audio with serve.
func mediaPortal(t *testing.T, serve http.HandlerFunc) *spy {
	return newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/orktrack/rest/user/login" {
			_, _ = w.Write([]byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`))
			return
		}
		serve(w, r)
	}))
}

func TestOpenAnswers(t *testing.T) {
	const wav = "RIFF....WAVEfmt "
	for _, tc := range []struct {
		name      string
		serve     http.HandlerFunc
		wantType  string
		wantSize  int64
		wantErrIs error
		wantErr   string
	}{
		{"audio/x-wav kept", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/x-wav")
			_, _ = io.WriteString(w, wav)
		}, "audio/x-wav", int64(len(wav)), nil, ""},
		{"parameters dropped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/wav; codec=1")
			_, _ = io.WriteString(w, wav)
		}, "audio/wav", int64(len(wav)), nil, ""},
		{"octet-stream says nothing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.WriteString(w, wav)
		}, "", int64(len(wav)), nil, ""},
		{"audio/mpeg kept", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = io.WriteString(w, wav)
		}, "audio/mpeg", int64(len(wav)), nil, ""},
		{"audio/* says nothing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/*")
			_, _ = io.WriteString(w, wav)
		}, "", int64(len(wav)), nil, ""},
		{"unreadable type says nothing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/")
			_, _ = io.WriteString(w, wav)
		}, "", int64(len(wav)), nil, ""},
		{"no type, no length (chunked)", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			_, _ = io.WriteString(w, wav)
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, wav)
		}, "", -1, nil, ""},
		{"Content-Length 0", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/x-wav")
			w.Header().Set("Content-Length", "0")
		}, "", 0, connectors.ErrNotReady, "dtac: open the audio of recording 42 at HOST: empty body: audio not ready yet"},
		{"chunked, empty", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/x-wav")
			w.(http.Flusher).Flush()
		}, "", 0, connectors.ErrNotReady, "dtac: open the audio of recording 42 at HOST: empty body: audio not ready yet"},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
			"", 0, connectors.ErrNotReady, "dtac: open the audio of recording 42 at HOST: HTTP 204: audio not ready yet"},
		{"404", http.NotFound, "", 0, connectors.ErrGone, "dtac: open the audio of recording 42 at HOST: HTTP 404: audio gone at the source"},
		{"410", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) },
			"", 0, connectors.ErrGone, "dtac: open the audio of recording 42 at HOST: HTTP 410: audio gone at the source"},
		{"HTML at 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, "<html><title>OrkTrack - Sign in</title></html>")
		}, "", 0, nil, `dtac: open the audio of recording 42 at HOST: unexpected answer: HTTP 200 (text/html): "OrkTrack - Sign in"`},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "java.lang.NullPointerException", 500) },
			"", 0, nil, `dtac: open the audio of recording 42 at HOST: unexpected answer: HTTP 500 (text/plain): "java.lang.NullPointerException"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mediaPortal(t, tc.serve)
			c := newTestConnector(t, p.URL, testPass, 5)
			a, err := c.Open(ctxT(t), connectors.Recording{ID: "42"})
			if tc.wantErr != "" {
				if want := strings.ReplaceAll(tc.wantErr, "HOST", strings.TrimPrefix(p.URL, "http://")); err == nil || err.Error() != want {
					t.Fatalf("Open: %v, want %q", err, want)
				}
				if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
					t.Fatalf("Open: %v does not wrap %v", err, tc.wantErrIs)
				}
				if tc.wantErrIs == nil && connectors.Permanent(err) {
					t.Fatalf("Open: %v is permanent", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer a.Body.Close()
			b, err := io.ReadAll(a.Body)
			if err != nil || !strings.HasPrefix(string(b), wav) {
				t.Fatalf("body %q, %v", b, err)
			}
			if a.ContentType != tc.wantType || a.Size != tc.wantSize {
				t.Errorf("ContentType %q, Size %d; want %q, %d", a.ContentType, a.Size, tc.wantType, tc.wantSize)
			}
			if path := p.requests()[1].Path; path != "/orktrack/rest/mediastream/42" {
				t.Errorf("asked %s", path)
			}
		})
	}
}

func TestOpenHeaderDeadline(t *testing.T) {
	release := make(chan struct{})
	p := mediaPortal(t, func(w http.ResponseWriter, r *http.Request) {
		select { // never answers while the client waits
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newTestConnector(t, p.URL, testPass, 5)
	c.headerTimeout = 50 * time.Millisecond
	_, err := c.Open(ctxT(t), connectors.Recording{ID: "42"})
	want := "dtac: open the audio of recording 42 at " + strings.TrimPrefix(p.URL, "http://") + ": portal unreachable: no answer within 50ms: context deadline exceeded"
	if err == nil || err.Error() != want {
		t.Fatalf("Open: %v, want %q", err, want)
	}
}

func TestOpenStreamOutlivesHeaderDeadline(t *testing.T) {
	second := make(chan struct{})
	p := mediaPortal(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		_, _ = io.WriteString(w, "RIFF")
		w.(http.Flusher).Flush()
		select {
		case <-second:
			_, _ = io.WriteString(w, "WAVE")
		case <-r.Context().Done():
		}
	})
	c := newTestConnector(t, p.URL, testPass, 5)
	c.headerTimeout = 50 * time.Millisecond
	a, err := c.Open(ctxT(t), connectors.Recording{ID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Body.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a.Body, buf); err != nil {
		t.Fatal(err)
	}
	// Past the header deadline (whenever it fires, the stream must live on).
	<-time.After(4 * c.headerTimeout)
	close(second)
	b, err := io.ReadAll(a.Body)
	if err != nil || string(b) != "WAVE" {
		t.Fatalf("rest of the stream after the header deadline: %q, %v", b, err)
	}
}

func TestOpenCancelledMidStream(t *testing.T) {
	p := mediaPortal(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		_, _ = io.WriteString(w, "RIFF")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newTestConnector(t, p.URL, testPass, 5)
	ctx, cancel := context.WithCancel(ctxT(t))
	a, err := c.Open(ctx, connectors.Recording{ID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Body.Close()
	cancel()
	if _, err := io.ReadAll(a.Body); !errors.Is(err, context.Canceled) {
		t.Fatalf("reading after cancel: %v, want context.Canceled", err)
	}
}

func TestOpenEscapesID(t *testing.T) {
	p := mediaPortal(t, http.NotFound)
	c := newTestConnector(t, p.URL, testPass, 5)
	_, err := c.Open(ctxT(t), connectors.Recording{ID: "../user/login"})
	if !errors.Is(err, connectors.ErrGone) {
		t.Fatalf("Open: %v", err)
	}
	if got := p.requests()[1]; got.RawPath != "/orktrack/rest/mediastream/..%2Fuser%2Flogin" || got.Method != "GET" {
		t.Errorf("asked %s %s", got.Method, got.Path)
	}
	if _, err := c.Open(ctxT(t), connectors.Recording{}); err == nil {
		t.Error("Open of a recording without an id succeeded")
	}
}
