package orkweb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

// These tests drive each trap of sources.md through the connector, against
// the fake.

// at9 is 2026-05-20 09:00 ICT; the window [day, day+24h) holds it.
var (
	day = time.Date(2026, 5, 20, 0, 0, 0, 0, ict)
	at9 = day.Add(9 * time.Hour)
)

func startServer(t *testing.T, opts fakeorkweb.Options) *fakeorkweb.Server {
	t.Helper()
	opts.Users = map[string]string{user: pass}
	if opts.Location == nil {
		opts.Location = ict
	}
	s, err := fakeorkweb.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// addCalls adds n calls a minute apart from 09:00, tape ids 1..n.
func addCalls(s *fakeorkweb.Server, n int) {
	for i := range n {
		s.Add(fakeorkweb.Recording{
			TapeID: int64(i + 1), Time: at9.Add(time.Duration(i) * time.Minute), Duration: 30,
			LocalParty: "1001", RemoteParty: "0812345678", Direction: fakeorkweb.In,
			Format: fakeorkweb.PCM, Audio: fakeaudio.Audio{Size: 2048},
		})
	}
}

func tapes(t *testing.T, recs []connectors.Recording) []int64 {
	t.Helper()
	var out []int64
	for _, r := range recs {
		n, err := strconv.ParseInt(r.ID, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func upTo(n int) []int64 {
	var out []int64
	for i := range n {
		out = append(out, int64(i+1))
	}
	return out
}

func listDay(t *testing.T, c *Connector) []connectors.Recording {
	t.Helper()
	recs, err := c.List(t.Context(), day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Log-in answers 200 both ways: the title of the POST's answer tells.
func TestLoginByTitle(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{})
	bad := connect(t, s.URL(), wrongPass, nil)
	err := bad.Check(t.Context())
	if !errors.Is(err, connectors.ErrAuth) || !strings.Contains(err.Error(), "Invalid login or password") || strings.Contains(err.Error(), wrongPass) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := connect(t, s.URL(), pass, nil).Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Logins != 1 || st.LoginsFailed != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The database down: OrkWeb says "Invalid login or password" too.
	s.SetDatabaseDown(true)
	if err := connect(t, s.URL(), pass, nil).Check(t.Context()); !errors.Is(err, connectors.ErrAuth) {
		t.Fatalf("database down: %v", err)
	}
}

// Paging: the first "next" after a search shows page 1 again, and "next"
// on the last page shows it again: the walk stops on Page X/Y, X == Y,
// never on a repeated page, and returns each recording once.
func TestPagingStopsOnLastPage(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{})
	addCalls(s, 25)
	c := connect(t, s.URL(), pass, nil)
	if got := tapes(t, listDay(t, c)); !slices.Equal(got, upTo(25)) {
		t.Fatalf("listed %v", got)
	}
	// log-in page, log-in, search, next (page 1 again), next (2), next (3).
	if got := s.Requests("/orkweb/app"); got != 6 {
		t.Fatalf("%d page requests, want 6", got)
	}
	// A new search with the same total keeps the old offset: the walk
	// still sees every recording.
	if got := tapes(t, listDay(t, c)); !slices.Equal(got, upTo(25)) {
		t.Fatalf("second listing %v", got)
	}
	// And a search of one second right after a walk that ended on page 3
	// (the search renders at the old offset before resetting it).
	recs, err := c.List(t.Context(), at9, at9.Add(time.Second))
	if err != nil || len(recs) != 1 || recs[0].ID != "1" {
		t.Fatalf("one second after a walk: %v %v", tapes(t, recs), err)
	}
}

// The offset resets when the total changes: walking on and deduping by
// tape id still sees every recording.
func TestOffsetReset(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{InsertPerPage: 1, InsertPages: 3})
	addCalls(s, 25)
	c := connect(t, s.URL(), pass, nil)
	got := tapes(t, listDay(t, c))
	for _, id := range upTo(25) {
		if !slices.Contains(got, id) {
			t.Fatalf("tape %d missed: %v", id, got)
		}
	}
	if len(got) != 28 || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("listed %d (%v), want the 25 and the 3 that landed", len(got), got)
	}
	if st := s.Stats(); st.OffsetResets < 1 {
		t.Fatalf("no offset reset happened: %+v", st)
	}
}

// A dead session answers the log-in page (an expired one) or Stale
// Session (a form posted to a session that is gone), both 200: log in
// again and redo the walk.
func TestDeadSession(t *testing.T) {
	var s *fakeorkweb.Server
	var n, expireAt atomic.Int64
	s = startServer(t, fakeorkweb.Options{
		PageLatency: time.Nanosecond,
		Sleep: func(context.Context, time.Duration) {
			if n.Add(1) == expireAt.Load() {
				s.ExpireSessions()
			}
		},
	})
	addCalls(s, 25)
	c := connect(t, s.URL(), pass, nil)
	listDay(t, c)
	// Between walks: the search is posted to a dead session.
	s.ExpireSessions()
	if got := tapes(t, listDay(t, c)); !slices.Equal(got, upTo(25)) {
		t.Fatalf("after expiry: %v", got)
	}
	if st := s.Stats(); st.Logins != 2 || st.StaleSessions+st.LoginPages < 3 {
		t.Fatalf("stats %+v", st)
	}
	// In the middle of a walk: a "next" answers the log-in page.
	expireAt.Store(n.Load() + 4)
	if got := tapes(t, listDay(t, c)); !slices.Equal(got, upTo(25)) {
		t.Fatalf("expiry mid-walk: %v", got)
	}
	if st := s.Stats(); st.Logins != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// On a Thai JVM the form speaks Buddhist-Era years, the table Gregorian.
func TestThaiLocale(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{ThaiLocale: true})
	addCalls(s, 3)
	c := connect(t, s.URL(), pass, nil)
	recs := listDay(t, c)
	if got := tapes(t, recs); !slices.Equal(got, upTo(3)) {
		t.Fatalf("listed %v", got)
	}
	for _, r := range recs {
		if r.CallAt.Year() != 2026 || r.CallAt.Location() != ict {
			t.Fatalf("CallAt %s", r.CallAt)
		}
	}
	if tok := c.session.Current(); tok == nil || tok.yearOffset != BuddhistEra {
		t.Fatalf("year offset not detected")
	}
	// The JVM restarted with another locale under the same session: the
	// search form's calendar shows the server read the window otherwise,
	// and a fresh log-in detects the calendar again.
	s.SetThaiLocale(false)
	if got := tapes(t, listDay(t, c)); !slices.Equal(got, upTo(3)) {
		t.Fatalf("after the locale changed: %v", got)
	}
	if tok := c.session.Current(); tok.yearOffset != 0 || s.Stats().Logins != 2 {
		t.Fatalf("year offset %d, %d log-ins", tok.yearOffset, s.Stats().Logins)
	}
}

// Dates are server-local: a server in another zone than SYNCD_TIMEZONE
// gives other instants; in the same zone, the instants are the calls'.
func TestServerZone(t *testing.T) {
	bangkok, err := time.LoadLocation("Asia/Bangkok")
	if err != nil {
		t.Skip(err)
	}
	s := startServer(t, fakeorkweb.Options{Location: bangkok})
	addCalls(s, 1)
	c, err := New(Config{BaseURL: s.URL(), Username: user, Password: pass}, connectors.Deps{Shared: deps.Shared{HTTP: &http.Client{}}, Location: bangkok})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.List(t.Context(), day, day.Add(24*time.Hour))
	if err != nil || len(recs) != 1 || !recs[0].CallAt.Equal(at9) || recs[0].CallAt.Location() != bangkok {
		t.Fatalf("%v %v", recs, err)
	}
	// SYNCD_TIMEZONE is not the server's: every time would be off, so
	// the connector refuses, saying what to set.
	utc, err := New(Config{BaseURL: s.URL(), Username: user, Password: pass}, connectors.Deps{Shared: deps.Shared{HTTP: &http.Client{}}, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := utc.List(t.Context(), day, day.Add(24*time.Hour)); err == nil || !strings.Contains(err.Error(), "SYNCD_TIMEZONE") || errors.Is(err, connectors.ErrAuth) {
		t.Fatalf("a server in another zone: %v", err)
	}
}

// Mapping: direction from the icon, unknown as "" (SYNCD_UNKNOWN_DIRECTION
// decides), the customer in E.164, the agent's extension, the data id.
func TestMapping(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{})
	s.Add(
		fakeorkweb.Recording{TapeID: 7, Time: at9, Duration: 61, LocalParty: "1002", RemoteParty: "0812345678", Direction: fakeorkweb.Out},
		fakeorkweb.Recording{TapeID: 8, Time: at9.Add(time.Minute), Duration: 5, LocalParty: "1003", RemoteParty: "021234567", Direction: fakeorkweb.Unknown},
	)
	u := strings.Replace(s.URL(), "127.0.0.1", "LOCALHOST", 1)
	c := connect(t, u, pass, nil)
	recs := listDay(t, c)
	slices.SortFunc(recs, func(a, b connectors.Recording) int { return strings.Compare(a.ID, b.ID) })
	if len(recs) != 2 {
		t.Fatalf("%+v", recs)
	}
	want := connectors.Recording{ID: "7", DataID: "orkweb-localhost-7", CallAt: at9, Duration: 61 * time.Second, Direction: "out", CustomerPhone: "+66812345678", AgentNumber: "1002"}
	if r := recs[0]; r.ID != want.ID || r.DataID != want.DataID || !r.CallAt.Equal(want.CallAt) || r.Duration != want.Duration ||
		r.Direction != want.Direction || r.CustomerPhone != want.CustomerPhone || r.AgentNumber != want.AgentNumber || r.Invalid != nil {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
	if r := recs[1]; r.Direction != "" || r.Invalid != nil || r.CustomerPhone != "+6621234567" {
		t.Fatalf("unknown direction: %+v", r)
	}
}

// Audio: always from the configured host (the link's may not resolve);
// voiceip streams without Content-Length; a missing file is gone (OrecX
// 404, voiceip 500 naming FileNotFoundException); an empty file is not
// ready.
func TestAudio(t *testing.T) {
	for _, flavour := range []fakeorkweb.Flavour{fakeorkweb.OrecX, fakeorkweb.VoiceIP} {
		t.Run(flavour.String(), func(t *testing.T) {
			s := startServer(t, fakeorkweb.Options{Flavour: flavour, AudioLinkHost: "oreka-rec01.invalid:8080"})
			s.Add(
				fakeorkweb.Recording{TapeID: 1, Time: at9, Duration: 60, Direction: fakeorkweb.In, Audio: fakeaudio.Audio{Size: 10_000}},
				fakeorkweb.Recording{TapeID: 2, Time: at9.Add(time.Minute), Duration: 60, Direction: fakeorkweb.In, Missing: true},
				fakeorkweb.Recording{TapeID: 3, Time: at9.Add(2 * time.Minute), Duration: 60, Direction: fakeorkweb.In, Writing: true},
			)
			c := connect(t, s.URL(), pass, nil)
			recs := listDay(t, c)
			byID := map[string]connectors.Recording{}
			for _, r := range recs {
				byID[r.ID] = r
			}
			a, err := c.Open(t.Context(), byID["1"])
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(a.Body)
			a.Body.Close()
			want, _ := s.AudioBytes(1)
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("audio: %d bytes, %v", len(b), err)
			}
			if wantSize := map[fakeorkweb.Flavour]int64{fakeorkweb.OrecX: 10_000, fakeorkweb.VoiceIP: -1}[flavour]; a.Size != wantSize {
				t.Fatalf("Size %d, want %d", a.Size, wantSize)
			}
			if _, err := c.Open(t.Context(), byID["2"]); !errors.Is(err, connectors.ErrGone) {
				t.Fatalf("missing file: %v", err)
			}
			if _, err := c.Open(t.Context(), byID["3"]); !errors.Is(err, connectors.ErrNotReady) {
				t.Fatalf("empty file: %v", err)
			}
			// A tape deleted at OrkWeb is gone.
			gone := byID["1"]
			gone.ID = "99"
			if _, err := c.Open(t.Context(), gone); !errors.Is(err, connectors.ErrGone) {
				t.Fatalf("unlisted tape: %v", err)
			}
		})
	}
}

// voiceip's 500 is gone only when it says the file is missing; any other
// 500 is not ready (tried again later).
func TestVoiceIP500(t *testing.T) {
	c := connect(t, "http://127.0.0.1:1", pass, nil)
	resp := func(body string) *http.Response {
		return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
	}
	if _, err := c.audio(resp("java.io.FileNotFoundException: /var/log/orkaudio/audio/x.wav (No such file or directory)")); !errors.Is(err, connectors.ErrGone) {
		t.Fatalf("FileNotFoundException: %v", err)
	}
	if _, err := c.audio(resp("java.lang.OutOfMemoryError")); !errors.Is(err, connectors.ErrNotReady) || connectors.Permanent(err) {
		t.Fatalf("other 500: %v", err)
	}
}

// A window that includes now (which the syncer should not ask for) still
// lists.
func TestWindowIncludingNowStillLists(t *testing.T) {
	s := startServer(t, fakeorkweb.Options{})
	now := time.Now()
	s.Add(fakeorkweb.Recording{TapeID: 1, Time: now.Add(-time.Minute).Truncate(time.Second), Duration: 5, Direction: fakeorkweb.In})
	c := connect(t, s.URL(), pass, nil)
	recs, err := c.List(t.Context(), now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
}
