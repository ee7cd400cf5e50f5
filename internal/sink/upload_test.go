package sink_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// maxReadReader notes the largest single read of an upload's body.
type maxReadReader struct {
	r   io.Reader
	max int
}

func (m *maxReadReader) Read(p []byte) (int, error) {
	m.max = max(m.max, len(p))
	return m.r.Read(p)
}

// TestUploadStreams: the PUT carries the declared content type, a
// Content-Length when the size is known and goes chunked when not, no
// credentials, and the bytes arrive whole, read in small pieces.
func TestUploadStreams(t *testing.T) {
	tests := []struct {
		name     string
		size     int64 // of the audio
		declared int64 // passed to Upload
	}{
		{"known size", 3 << 20, 3 << 20},
		{"unknown size", 3 << 20, -1},
		{"one byte", 1, 1},
		{"empty", 0, 0},
		{"empty of unknown size", 0, -1},
	}
	srv := startFake(t, nil)
	srv.SetBehaviour(fakecrk.Behaviour{AllowChunked: true}) // the sink streams what it is given; the syncer spools
	base, rc := record(t, srv)
	c := newClient(t, base, fakecrk.TokFull, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataID := "up-" + tt.name
			r := rec(dataID)
			r.ContentType = "audio/x-wav"
			cr, err := c.Create(t.Context(), r)
			if err != nil {
				t.Fatal(err)
			}
			a := audio(uint64(i), tt.size)
			body := &maxReadReader{r: a.Reader()}
			if err := c.Upload(t.Context(), cr.UploadURL, "audio/x-wav", body, tt.declared); err != nil {
				t.Fatal(err)
			}
			puts := rc.requests(http.MethodPut, "/storage/")
			put := puts[len(puts)-1]
			if ct := put.Header.Get("Content-Type"); ct != "audio/x-wav" {
				t.Errorf("Content-Type %q", ct)
			}
			switch {
			case tt.declared >= 0 && put.ContentLength != tt.declared:
				t.Errorf("Content-Length %d, want %d", put.ContentLength, tt.declared)
			case tt.declared < 0 && (put.ContentLength != -1 || len(put.TransferEncoding) != 1 || put.TransferEncoding[0] != "chunked"):
				t.Errorf("Content-Length %d, Transfer-Encoding %v: want chunked", put.ContentLength, put.TransferEncoding)
			}
			for _, h := range []string{"Authorization", "X-Business-Id"} {
				if v := put.Header.Get(h); v != "" {
					t.Errorf("storage got %s %q", h, v)
				}
			}
			if ua := put.Header.Get("User-Agent"); ua != "syncd/1.2.3 (test)" {
				t.Errorf("User-Agent %q", ua)
			}
			got, _ := srv.Recording(fakecrk.BizA, dataID)
			if !got.HasAudio || got.AudioSize != tt.size || got.AudioSHA256 != a.Sum() {
				t.Errorf("stored %d bytes (has audio %v), want %d byte-exact", got.AudioSize, got.HasAudio, tt.size)
			}
			if body.max > 1<<20 {
				t.Errorf("a read of %d bytes: the body is not streamed", body.max)
			}
		})
	}
}

// TestUploadErrors: storage's refusals come back as *UploadError, typed as
// expired (heal by creating again) or rejected, and none is retried by the
// client; a second try heals what may pass by itself.
func TestUploadErrors(t *testing.T) {
	tests := []struct {
		name        string
		inject      func(srv *fakecrk.Server)
		contentType string
		size        int64 // -1: sent chunked
		status      int
		code        string
		expired     bool
		rejected    bool
		// heals: a second upload succeeds, to the same URL or, when it
		// expired, to a fresh one from creating again.
		heals bool
	}{
		{name: "content length required", inject: func(s *fakecrk.Server) { s.SetBehaviour(fakecrk.Behaviour{ChunkedStatus: 411}) },
			size: -1, status: 411, code: "MissingContentLength", rejected: true},
		{name: "expired", inject: func(s *fakecrk.Server) { s.ExpireNextUploads(1) },
			status: 403, code: "AccessDenied", expired: true, heals: true},
		{name: "wrong content type", contentType: "audio/mpeg",
			status: 403, code: "SignatureDoesNotMatch", rejected: true},
		{name: "too large", inject: func(s *fakecrk.Server) { s.SetBehaviour(fakecrk.Behaviour{MaxUploadSize: 100}) },
			status: 400, code: "EntityTooLarge", rejected: true},
		{name: "too large, chunked", inject: func(s *fakecrk.Server) { s.SetBehaviour(fakecrk.Behaviour{MaxUploadSize: 100, AllowChunked: true}) },
			size: -1, status: 400, code: "EntityTooLarge", rejected: true},
		{name: "storage fault", inject: func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointUpload, 500, 1) },
			status: 500, code: "InternalError", heals: true},
		{name: "storage busy", inject: func(s *fakecrk.Server) { s.FailNext(fakecrk.EndpointUpload, 503, 1) },
			status: 503, code: "SlowDown", heals: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, nil)
			c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
			cr := mustCreate(t, c, "ue-1")
			if tt.inject != nil {
				tt.inject(srv)
			}
			ct := "audio/wav"
			if tt.contentType != "" {
				ct = tt.contentType
			}
			size := int64(1000)
			if tt.size != 0 {
				size = tt.size
			}
			err := c.Upload(t.Context(), cr.UploadURL, ct, audio(1, 1000).Reader(), size)
			var ue *sink.UploadError
			if !errors.As(err, &ue) || ue.Status != tt.status || ue.Code != tt.code {
				t.Fatalf("upload: %v (%T), want %d %s", err, err, tt.status, tt.code)
			}
			if !strings.HasPrefix(err.Error(), "crk upload: storage answered ") {
				t.Errorf("error %q", err)
			}
			if got := errors.Is(err, sink.ErrUploadExpired); got != tt.expired {
				t.Errorf("expired = %v", got)
			}
			if got := errors.Is(err, sink.ErrUploadRejected); got != tt.rejected {
				t.Errorf("rejected = %v", got)
			}
			if sink.Permanent(err) || sink.IsAuth(err) {
				t.Errorf("an upload error counted as an API refusal: %v", err)
			}
			if n := srv.Count(fakecrk.EndpointUpload); n != 1 {
				t.Errorf("%d uploads, want 1: a stream is not replayed", n)
			}
			if got, _ := srv.Recording(fakecrk.BizA, "ue-1"); got.HasAudio {
				t.Errorf("refused audio was stored")
			}
			again := cr.UploadURL
			if tt.expired {
				again = mustCreate(t, c, "ue-1").UploadURL
			}
			err = c.Upload(t.Context(), again, ct, audio(1, 1000).Reader(), size)
			if got, _ := srv.Recording(fakecrk.BizA, "ue-1"); (err == nil) != tt.heals || got.HasAudio != tt.heals {
				t.Errorf("a second try: %v, audio stored %v; want it to heal: %v", err, got.HasAudio, tt.heals)
			}
		})
	}
}

// TestUploadURLExpires: a URL used past its real expiry (the fake's clock)
// is expired; creating again gives one that works.
func TestUploadURLExpires(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC))
	srv := startFake(t, func(o *fakecrk.Options) { o.Now = clk.Now })
	srv.SetFaults(fakecrk.Faults{URLExpiry: time.Minute})
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)

	cr := mustCreate(t, c, "exp-1")
	clk.Advance(30 * time.Second)
	if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10); err != nil {
		t.Fatalf("within the expiry: %v", err)
	}
	clk.Advance(31 * time.Second)
	err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(2, 10).Reader(), 10)
	if !errors.Is(err, sink.ErrUploadExpired) || errors.Is(err, sink.ErrUploadRejected) {
		t.Fatalf("past the expiry: %v", err)
	}
	fresh := mustCreate(t, c, "exp-1")
	if err := c.Upload(t.Context(), fresh.UploadURL, "audio/wav", audio(2, 10).Reader(), 10); err != nil {
		t.Fatalf("fresh URL: %v", err)
	}
	if got, _ := srv.Recording(fakecrk.BizA, "exp-1"); got.Uploads != 2 || got.AudioSHA256 != audio(2, 10).Sum() {
		t.Fatalf("stored %+v", got)
	}
}

// TestUploadNetworkErrors: a failed PUT is a *NetError that names neither
// the URL nor its signature.
func TestUploadNetworkErrors(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
	cr := mustCreate(t, c, "ne-1")
	u, err := url.Parse(cr.UploadURL)
	if err != nil {
		t.Fatal(err)
	}
	sig := u.Query().Get("X-Amz-Signature")
	if len(sig) < 32 {
		t.Fatalf("upload URL without a signature: %s", cr.UploadURL)
	}
	closed := *u
	closed.Host = closedAddr(t)

	t.Run("connection refused", func(t *testing.T) {
		err := c.Upload(t.Context(), closed.String(), "audio/wav", audio(1, 10).Reader(), 10)
		var ne *sink.NetError
		if !errors.As(err, &ne) || ne.Sent {
			t.Fatalf("upload: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "crk upload: put: dial tcp ") {
			t.Errorf("error %q", err)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		srv.DropNext(fakecrk.EndpointUpload, 1)
		err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10)
		var ne *sink.NetError
		if !errors.As(err, &ne) || !ne.Sent {
			t.Fatalf("upload: %v", err)
		}
		if n := srv.Count(fakecrk.EndpointUpload); n != 1 {
			t.Errorf("%d uploads, want 1", n)
		}
		// A dropped connection passes: the same URL takes the audio next time.
		if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10); err != nil {
			t.Fatalf("upload again: %v", err)
		}
	})
	t.Run("URL that does not parse", func(t *testing.T) {
		bad := "http://127.0.0.1:1/storage/%zz?X-Amz-Signature=" + sig
		err := c.Upload(t.Context(), bad, "audio/wav", audio(1, 10).Reader(), 10)
		if err == nil || !strings.HasPrefix(err.Error(), "crk upload: the upload URL is not usable: ") {
			t.Fatalf("upload: %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := c.Upload(ctx, cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("upload: %v", err)
		}
	})
	t.Run("body shorter than declared", func(t *testing.T) {
		cr := mustCreate(t, c, "ne-2")
		err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 1000)
		var ne *sink.NetError
		if !errors.As(err, &ne) {
			t.Fatalf("upload: %v", err)
		}
		if got, _ := srv.Recording(fakecrk.BizA, "ne-2"); got.HasAudio {
			t.Errorf("a short body was stored")
		}
	})
	// The client's own checks ran on every error above (client.Upload);
	// this says so once more for the signature alone.
	noSecret(t, "log", c.logs.String(), sig)
}

// blockingReader gives head, then blocks until release is closed.
type blockingReader struct {
	head    []byte
	release chan struct{}
	once    sync.Once
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

func (b *blockingReader) unblock() { b.once.Do(func() { close(b.release) }) }

// slowReader gives n bytes one small piece every gap.
type slowReader struct {
	n   int
	gap time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.gap)
	k := min(len(p), s.n, 100)
	for i := range k {
		p[i] = 'a'
	}
	s.n -= k
	return k, nil
}

// TestUploadStall: an upload that makes no progress for UploadStall is
// cancelled, whether the source stops giving bytes or storage stops
// answering; a slow upload that progresses is not.
func TestUploadStall(t *testing.T) {
	t.Parallel()
	const stall = 200 * time.Millisecond
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.UploadStall = stall })

	t.Run("source stops", func(t *testing.T) {
		cr := mustCreate(t, c, "st-1")
		body := &blockingReader{head: []byte("RIFF...."), release: make(chan struct{})}
		defer body.unblock()
		start := time.Now()
		err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", body, 1000)
		var ne *sink.NetError
		if !errors.As(err, &ne) || err.Error() != "crk upload: upload made no progress for 200ms" {
			t.Fatalf("upload: %v", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %v", took)
		}
	})
	t.Run("storage does not answer", func(t *testing.T) {
		cr := mustCreate(t, c, "st-2")
		srv.SetFaults(fakecrk.Faults{Latency: 10 * time.Second})
		defer srv.SetFaults(fakecrk.Faults{})
		err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 10).Reader(), 10)
		if err == nil || !strings.Contains(err.Error(), "no progress") {
			t.Fatalf("upload: %v", err)
		}
	})
	t.Run("slow but moving", func(t *testing.T) {
		cr := mustCreate(t, c, "st-3")
		body := &slowReader{n: 1500, gap: stall / 10} // 15 reads over 300 ms, longer than the stall limit
		if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", body, 1500); err != nil {
			t.Fatalf("upload: %v", err)
		}
		if got, _ := srv.Recording(fakecrk.BizA, "st-3"); got.AudioSize != 1500 {
			t.Fatalf("stored %d bytes", got.AudioSize)
		}
	})
}

// watchedReader notes reads that begin after the upload returned.
type watchedReader struct {
	r        io.Reader
	returned atomic.Bool
	late     atomic.Int32
}

func (w *watchedReader) Read(p []byte) (int, error) {
	if w.returned.Load() {
		w.late.Add(1)
	}
	return w.r.Read(p)
}

// TestUploadStopsReading: storage may answer before it read the body (an
// expired URL, say); net/http then goes on writing the body after Do
// returns. Upload must not let it read the caller's body past its return:
// the caller counts the bytes and closes the source next.
func TestUploadStopsReading(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
	cr := mustCreate(t, c, "sr-1")
	for i := range 5 {
		srv.ExpireNextUploads(1)
		body := &watchedReader{r: audio(uint64(i), 64<<20).Reader()}
		err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", body, 64<<20)
		body.returned.Store(true)
		if !errors.Is(err, sink.ErrUploadExpired) {
			t.Fatalf("upload: %v", err)
		}
		// Another upload gives a late read time to happen.
		if err := c.Upload(t.Context(), cr.UploadURL, "audio/wav", audio(1, 1<<20).Reader(), 1<<20); err != nil {
			t.Fatal(err)
		}
		if n := body.late.Load(); n > 0 {
			t.Fatalf("%d reads of the body after Upload returned", n)
		}
	}
}
