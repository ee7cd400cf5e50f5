package threecx

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// listOne adds r to srv and returns it as c lists it.
func listOne(t *testing.T, srv *fake.Server, c *Connector, r fake.Recording) connectors.Recording {
	t.Helper()
	srv.Add(r)
	got, err := c.List(t.Context(), r.StartTime.Add(-time.Second), r.StartTime.Add(time.Second))
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %v, %v", got, err)
	}
	return got[0]
}

func TestOpenStates(t *testing.T) {
	audio := fakeaudio.Audio{Seed: 3, Size: 100_000}
	for _, tc := range []struct {
		name     string
		state    fake.DownloadState
		openErr  error // from Open
		readErr  error // from reading the body
		readable bool  // byte-exact once SetReady
	}{
		{"ready", fake.Ready, nil, nil, false},
		{"zero bytes until ready", fake.ZeroByteUntilReady, connectors.ErrNotReady, nil, true},
		{"truncated until ready", fake.Truncated, nil, connectors.ErrNotReady, true},
		{"archived", fake.Archived, connectors.ErrGone, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, fake.Options{})
			c := connect(t, srv.URL(), clientConfig(), nil)
			r := fake.NewRecording(7, base, fake.OutboundExternal, 7)
			r.Audio, r.State = audio, tc.state
			rec := listOne(t, srv, c, r)

			a, err := c.Open(t.Context(), rec)
			if !errors.Is(err, tc.openErr) || (tc.openErr == nil) != (err == nil) {
				t.Fatalf("Open = %v, want %v", err, tc.openErr)
			}
			if err != nil {
				if connectors.Permanent(err) != errors.Is(tc.openErr, connectors.ErrGone) {
					t.Errorf("Permanent(%v) = %v", err, connectors.Permanent(err))
				}
			} else {
				b, err := io.ReadAll(a.Body)
				a.Body.Close()
				if !errors.Is(err, tc.readErr) || (tc.readErr == nil) != (err == nil) {
					t.Fatalf("reading = %d bytes, %v; want %v", len(b), err, tc.readErr)
				}
				if err == nil && (sha256.Sum256(b) != audio.Sum() || a.Size != audio.Size || a.ContentType != "audio/x-wav") {
					t.Errorf("audio: %d bytes (Size %d, %s), want %d byte-exact audio/x-wav", len(b), a.Size, a.ContentType, audio.Size)
				}
			}
			if tc.readable {
				srv.SetReady(7)
				a, err := c.Open(t.Context(), rec)
				if err != nil {
					t.Fatalf("Open once ready: %v", err)
				}
				defer a.Body.Close()
				h := sha256.New()
				if _, err := io.Copy(h, a.Body); err != nil || [32]byte(h.Sum(nil)) != audio.Sum() {
					t.Errorf("audio once ready is not byte-exact (%v)", err)
				}
			}
		})
	}
}

func TestOpenContentType(t *testing.T) {
	for _, tc := range []struct{ served, want string }{
		{"audio/x-wav", "audio/x-wav"},
		{"audio/wav; charset=binary", "audio/wav"},
		{"application/json", "audio/wav"}, // the specification's claim, on WAV bytes
		{"application/octet-stream", "audio/wav"},
	} {
		srv := startFake(t, fake.Options{DownloadContentType: tc.served})
		c := connect(t, srv.URL(), clientConfig(), nil)
		rec := listOne(t, srv, c, fake.NewRecording(1, base, fake.InboundExternal, 1))
		a, err := c.Open(t.Context(), rec)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 4)
		if _, err := io.ReadFull(a.Body, head); err != nil || string(head) != "RIFF" {
			t.Errorf("served as %s: first bytes %q, %v", tc.served, head, err)
		}
		a.Body.Close()
		if a.ContentType != tc.want {
			t.Errorf("served as %s: ContentType %q, want %q", tc.served, a.ContentType, tc.want)
		}
	}
}

func TestAudioType(t *testing.T) {
	for _, tc := range []struct {
		header, head, want string
		wantErr            bool
	}{
		{"audio/x-wav", "RIFF", "audio/x-wav", false},
		{"application/json", "RIFF", "audio/wav", false},
		{"application/json; charset=utf-8", `{"er`, "", true},
		{"text/html", "<htm", "", true},
		{"", "\x00\x01\x02\x03", "audio/wav", false},
		{"garbage;;", "RIFF", "audio/wav", false},
	} {
		got, err := audioType(tc.header, []byte(tc.head))
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("audioType(%q, %q) = %q, %v; want %q, error %v", tc.header, tc.head, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestOpenSlow(t *testing.T) {
	srv := startFake(t, fake.Options{SlowDelay: 200 * time.Millisecond})
	c := connect(t, srv.URL(), clientConfig(), nil)
	r := fake.NewRecording(1, base, fake.InboundExternal, 1)
	r.State, r.Audio.Size = fake.Slow, 1000
	rec := listOne(t, srv, c, r)

	// Within the header timeout: served.
	a, err := c.Open(t.Context(), rec)
	if err != nil {
		t.Fatalf("slow but in time: %v", err)
	}
	if n, err := io.Copy(io.Discard, a.Body); err != nil || n != 1000 {
		t.Errorf("slow audio: %d bytes, %v", n, err)
	}
	a.Body.Close()

	// Past it: a retryable error naming the wait.
	c.headerTimeout = 20 * time.Millisecond
	_, err = c.Open(t.Context(), rec)
	if err == nil || !strings.Contains(err.Error(), "no response within") || connectors.Permanent(err) || errors.Is(err, connectors.ErrNotReady) {
		t.Fatalf("Open past the header timeout = %v", err)
	}
}

func TestOpenRefusesForeignIDs(t *testing.T) {
	c := connect(t, "http://127.0.0.1:1", clientConfig(), nil)
	for _, id := range []string{"", "abc", "99999999999", "1)/../x"} {
		if _, err := c.Open(t.Context(), connectors.Recording{ID: id}); !errors.Is(err, connectors.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", id, err)
		}
	}
}

func TestOpenCancelledContext(t *testing.T) {
	srv := startFake(t, fake.Options{SlowDelay: time.Minute})
	c := connect(t, srv.URL(), clientConfig(), nil)
	r := fake.NewRecording(1, base, fake.InboundExternal, 1)
	r.State = fake.Slow
	rec := listOne(t, srv, c, r)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the download is waiting on the PBX (or after 10s).
		defer cancel()
		deadline := time.Now().Add(10 * time.Second)
		for srv.Requests("/xapi/v1/Recordings/Pbx.DownloadRecording(recId=1)") == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}()
	if _, err := c.Open(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestOpenStalledBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			w.Write([]byte(`{"token_type":"Bearer","expires_in":60,"access_token":"t"}`))
			return
		}
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("RIFF0123"))
		w.(http.Flusher).Flush()
		select { // then nothing, until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer pbx.Close()
	c := connect(t, pbx.URL, clientConfig(), nil)
	c.headerTimeout = 50 * time.Millisecond
	a, err := c.Open(t.Context(), connectors.Recording{ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Body.Close()
	n, err := io.Copy(io.Discard, a.Body)
	if n != 8 || err == nil || !strings.Contains(err.Error(), "stalled") || errors.Is(err, connectors.ErrNotReady) {
		t.Fatalf("reading a stalled body: %d bytes, %v", n, err)
	}
}
