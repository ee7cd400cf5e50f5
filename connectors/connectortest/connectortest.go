// Package connectortest is the conformance suite every connector must pass
// against the faithful fake of its source. A connector's test builds a Fake
// (the connector wired to a fresh fake, plus hooks into that fake) and calls
// Run.
package connectortest

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"mime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/audioformat"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// AudioState is what the fake serves for a recording's audio.
type AudioState int

const (
	// Ready audio is served whole.
	Ready AudioState = iota
	// NotReady audio is served the way the source serves a file still being
	// written (an empty body, say) until Fake.SetReady is called.
	NotReady
	// Gone audio is served the way the source serves a file that was deleted
	// or archived (a 404, say).
	Gone
)

// Audio describes the audio a fake holds for one recording.
type Audio struct {
	fakeaudio.Audio
	State AudioState
}

// Fake is a connector wired to a fresh fake of its source.
type Fake struct {
	// Connector talks to the fake with good credentials.
	Connector connectors.Connector
	// BadLogin is the same kind of connector with a wrong password.
	BadLogin connectors.Connector
	// Secrets are the credentials BadLogin and Connector were given; no
	// error may contain them.
	Secrets []string
	// PageSize is the page size Connector lists with; the suite lists more
	// than two pages of it.
	PageSize int
	// Add puts a recording whose call starts at at into the fake and returns
	// the ID the connector will report for it.
	Add func(at time.Time, audio Audio) string
	// SetReady makes a NotReady recording's audio complete.
	SetReady func(id string)
	// ExpireSession makes the fake forget every session or token it issued,
	// as the source does when a session times out.
	ExpireSession func()
	// Logins counts the log-ins (token grants) the fake has answered.
	Logins func() int
}

// base is a fixed, whole-second instant in the past for the suite's windows.
var base = time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)

// Run runs the conformance suite. newFake is called once per check and must
// return a Fake over a fresh, empty fake server.
func Run(t *testing.T, newFake func(t *testing.T) *Fake) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, newFake(t)) })
	}
}

// checks are the suite's checks, in the order they run.
var checks = []struct {
	name string
	run  func(t *testing.T, f *Fake)
}{
	{"Check", checkLogin},
	{"WindowIsFromInclusiveToExclusive", windowIsFromInclusiveToExclusive},
	{"EmptyWindow", emptyWindow},
	{"PagingBeyondOnePage", pagingBeyondOnePage},
	{"ExpiredSessionHealedByOneLogin", expiredSessionHealedByOneLogin},
	{"ConcurrentCallsAfterExpiryLogInOnce", concurrentCallsAfterExpiryLogInOnce},
	{"AudioStreamedByteExact", audioStreamedByteExact},
	{"AudioNotReadyYet", audioNotReadyYet},
	{"AudioGone", audioGone},
	{"CancelledContext", cancelledContext},
}

// checkLogin: Check passes with good credentials and fails with ErrAuth,
// quoting no secret, with a wrong password.
func checkLogin(t *testing.T, f *Fake) {
	if err := f.Connector.Check(ctx(t)); err != nil {
		t.Fatalf("Check with good credentials: %v", err)
	}
	err := f.BadLogin.Check(ctx(t))
	if !errors.Is(err, connectors.ErrAuth) {
		t.Fatalf("Check with a wrong password = %v, want an error wrapping ErrAuth", err)
	}
	noSecret(t, f, err)
}

// windowIsFromInclusiveToExclusive: List returns exactly the recordings
// that started in [from, to), each with its call time, a direction and a
// unique DataID.
func windowIsFromInclusiveToExclusive(t *testing.T, f *Fake) {
	from, to := base, base.Add(time.Hour)
	want := map[string]time.Time{}
	for i, at := range []time.Time{
		from.Add(-time.Second), from, from.Add(time.Second), from.Add(30 * time.Minute),
		to.Add(-time.Second), to, to.Add(time.Second),
	} {
		id := f.Add(at, Audio{Audio: fakeaudio.Audio{Seed: uint64(i), Size: 1000}})
		if !at.Before(from) && at.Before(to) {
			want[id] = at
		}
	}
	got := list(t, f, from, to)
	if len(got) != len(want) {
		t.Fatalf("List([%s, %s)) returned %d recordings %v, want %d", from, to, len(got), ids(got), len(want))
	}
	dataIDs := map[string]bool{}
	for _, r := range got {
		at, ok := want[r.ID]
		if !ok {
			t.Fatalf("List returned %s at %s, outside the window", r.ID, r.CallAt)
		}
		if !r.CallAt.Equal(at) {
			t.Errorf("recording %s: CallAt %s, want %s", r.ID, r.CallAt, at)
		}
		if r.Invalid != nil {
			t.Errorf("recording %s: unexpected Invalid: %v", r.ID, r.Invalid)
		}
		if r.Direction != "in" && r.Direction != "out" {
			t.Errorf("recording %s: Direction %q, want in or out", r.ID, r.Direction)
		}
		if r.DataID == "" || dataIDs[r.DataID] {
			t.Errorf("recording %s: DataID %q empty or repeated", r.ID, r.DataID)
		}
		dataIDs[r.DataID] = true
	}
}

// emptyWindow: List of a window without recordings returns none.
func emptyWindow(t *testing.T, f *Fake) {
	f.Add(base, Audio{Audio: fakeaudio.Audio{Seed: 1, Size: 100}})
	if got := list(t, f, base.Add(time.Hour), base.Add(2*time.Hour)); len(got) != 0 {
		t.Fatalf("List of an empty window returned %v", ids(got))
	}
}

// pagingBeyondOnePage: List over more than two pages returns every recording exactly once.
func pagingBeyondOnePage(t *testing.T, f *Fake) {
	if f.PageSize < 1 {
		t.Fatal("Fake.PageSize must be set")
	}
	n := 2*f.PageSize + 3
	want := make([]string, 0, n)
	for i := range n {
		want = append(want, f.Add(base.Add(time.Duration(i)*time.Second), Audio{Audio: fakeaudio.Audio{Seed: uint64(i), Size: 100}}))
	}
	got := ids(list(t, f, base, base.Add(time.Duration(n)*time.Second)))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("List over %d pages of %d returned %d recordings, want %d (each exactly once)", 3, f.PageSize, len(got), len(want))
	}
}

// expiredSessionHealedByOneLogin: a session the source forgot is healed by
// one log-in, for List and for Open.
func expiredSessionHealedByOneLogin(t *testing.T, f *Fake) {
	id := f.Add(base, Audio{Audio: fakeaudio.Audio{Seed: 7, Size: 5000}})
	list(t, f, base, base.Add(time.Minute))
	before := f.Logins()
	f.ExpireSession()
	if got := list(t, f, base, base.Add(time.Minute)); len(got) != 1 {
		t.Fatalf("List after expiry returned %d recordings, want 1", len(got))
	}
	if got := f.Logins() - before; got != 1 {
		t.Fatalf("List after expiry logged in %d times, want 1", got)
	}
	f.ExpireSession()
	readAll(t, f, rec(t, f, id))
	if got := f.Logins() - before; got != 2 {
		t.Fatalf("Open after expiry: %d log-ins in all, want 2", got)
	}
}

// concurrentCallsAfterExpiryLogInOnce: 8 calls at once after the session expired share one log-in.
func concurrentCallsAfterExpiryLogInOnce(t *testing.T, f *Fake) {
	id := f.Add(base, Audio{Audio: fakeaudio.Audio{Seed: 8, Size: 2000}})
	r := rec(t, f, id)
	f.ExpireSession()
	before := f.Logins()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			a, err := f.Connector.Open(ctx(t), r)
			if err == nil {
				_, err = io.Copy(io.Discard, a.Body)
				a.Body.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open after expiry: %v", err)
		}
	}
	if got := f.Logins() - before; got != 1 {
		t.Fatalf("8 concurrent calls after expiry logged in %d times, want 1", got)
	}
}

// audioStreamedByteExact: Open streams the audio byte-exact, with a size
// and a content type that do not lie, and bytes that are audio by their own
// signature.
func audioStreamedByteExact(t *testing.T, f *Fake) {
	audio := fakeaudio.Audio{Seed: 99, Size: 3<<20 + 17}
	id := f.Add(base, Audio{Audio: audio})
	a := open(t, f, rec(t, f, id))
	defer a.Body.Close()
	h := sha256.New()
	head := &prefix{max: audioformat.HeadSize}
	n, err := io.Copy(io.MultiWriter(h, head), a.Body)
	if err != nil {
		t.Fatalf("reading audio: %v", err)
	}
	if n != audio.Size || [32]byte(h.Sum(nil)) != audio.Sum() {
		t.Fatalf("audio: %d bytes, want %d byte-exact", n, audio.Size)
	}
	if a.Size != -1 && a.Size != audio.Size {
		t.Errorf("Audio.Size %d, want %d or -1", a.Size, audio.Size)
	}
	// The syncer tells the format from the bytes: a connector declares
	// the source's type only when it names an audio type, and leaves
	// it empty otherwise (application/octet-stream, none).
	if mt, _, err := mime.ParseMediaType(a.ContentType); a.ContentType != "" && (err != nil || !strings.HasPrefix(mt, "audio/")) {
		t.Errorf("Audio.ContentType %q, want empty or audio/…", a.ContentType)
	}
	if _, err := audioformat.Sniff(head.b, ""); err != nil {
		t.Errorf("the audio's first bytes are not audio by their own signature: %v", err)
	}
}

// audioNotReadyYet: audio still being written is ErrNotReady, not
// permanent, and is served whole once ready.
func audioNotReadyYet(t *testing.T, f *Fake) {
	audio := fakeaudio.Audio{Seed: 5, Size: 4096}
	id := f.Add(base, Audio{Audio: audio, State: NotReady})
	r := rec(t, f, id)
	_, err := f.Connector.Open(ctx(t), r)
	if !errors.Is(err, connectors.ErrNotReady) {
		t.Fatalf("Open of audio not ready = %v, want an error wrapping ErrNotReady", err)
	}
	if connectors.Permanent(err) {
		t.Fatal("not ready must not be permanent")
	}
	f.SetReady(id)
	if got := readAll(t, f, r); [32]byte(sha256.Sum256(got)) != audio.Sum() {
		t.Fatal("audio once ready is not byte-exact")
	}
}

// audioGone: audio deleted at the source is ErrGone, permanent.
func audioGone(t *testing.T, f *Fake) {
	id := f.Add(base, Audio{Audio: fakeaudio.Audio{Seed: 6, Size: 4096}, State: Gone})
	_, err := f.Connector.Open(ctx(t), rec(t, f, id))
	if !errors.Is(err, connectors.ErrGone) || !connectors.Permanent(err) {
		t.Fatalf("Open of gone audio = %v, want an error wrapping ErrGone", err)
	}
	noSecret(t, f, err)
}

// cancelledContext: List with a cancelled context returns context.Canceled.
func cancelledContext(t *testing.T, f *Fake) {
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := f.Connector.List(c, base, base.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("List with a cancelled context = %v, want context.Canceled", err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func list(t *testing.T, f *Fake, from, to time.Time) []connectors.Recording {
	t.Helper()
	got, err := f.Connector.List(ctx(t), from, to)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

// rec finds recording id by listing a day around base.
func rec(t *testing.T, f *Fake, id string) connectors.Recording {
	t.Helper()
	for _, r := range list(t, f, base.Add(-12*time.Hour), base.Add(12*time.Hour)) {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("recording %s not listed", id)
	return connectors.Recording{}
}

func open(t *testing.T, f *Fake, r connectors.Recording) *connectors.Audio {
	t.Helper()
	a, err := f.Connector.Open(ctx(t), r)
	if err != nil {
		t.Fatalf("Open(%s): %v", r.ID, err)
	}
	return a
}

func readAll(t *testing.T, f *Fake, r connectors.Recording) []byte {
	t.Helper()
	a := open(t, f, r)
	defer a.Body.Close()
	b, err := io.ReadAll(a.Body)
	if err != nil {
		t.Fatalf("reading audio of %s: %v", r.ID, err)
	}
	return b
}

func ids(rs []connectors.Recording) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// prefix keeps the first max bytes written to it.
type prefix struct {
	b   []byte
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if room := p.max - len(p.b); room > 0 {
		p.b = append(p.b, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func noSecret(t *testing.T, f *Fake, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range f.Secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error %q contains a secret", err)
		}
	}
}
