package orkweb

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakeclock"
	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

// These tests drive the fake OrkWeb with the parsers alone (the
// connector's conversation comes later): each trap of sources.md, as the
// fake serves it, read back through the parsers.

const (
	user = "supervisor"
	pass = "s3cret"
)

// now is the fake's clock at the start of every test: 2026-05-20 10:00 ICT.
var now = time.Date(2026, 5, 20, 10, 0, 0, 0, ict)

type fixture struct {
	t   *testing.T
	s   *fakeorkweb.Server
	clk *fakeclock.Clock
}

func startFake(t *testing.T, opts fakeorkweb.Options) *fixture {
	t.Helper()
	clk := fakeclock.New(now)
	opts.Now = clk.Now
	if opts.Users == nil {
		opts.Users = map[string]string{user: pass}
	}
	if opts.Location == nil {
		opts.Location = ict
	}
	s, err := fakeorkweb.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &fixture{t: t, s: s, clk: clk}
}

// day adds n recordings between 08:00 and 09:00 ICT on 2026-05-20, tape
// ids 1..n, newest with the highest id.
func (fx *fixture) day(n int) {
	for i := range n {
		fx.s.Add(fakeorkweb.Recording{
			TapeID: int64(i + 1), Time: time.Date(2026, 5, 20, 8, 0, 0, 0, ict).Add(time.Duration(i) * time.Minute),
			Duration: 10 + i, LocalParty: "1001", RemoteParty: "0812345678", Direction: fakeorkweb.In,
			Audio: fakeaudio.Audio{Size: 2048},
		})
	}
}

// client is a browser: with a cookie jar, or without one (following the
// ;jsessionid= URLs only).
type client struct {
	fx  *fixture
	c   *http.Client
	loc *time.Location
}

func (fx *fixture) client(cookies bool) *client {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if cookies {
		jar, _ := cookiejar.New(nil)
		c.Jar = jar
	}
	return &client{fx: fx, c: c, loc: ict}
}

// do sends a request to a root-relative reference on the fake and parses
// the answer, which must be a 200.
func (c *client) do(method, ref string, form url.Values) (Page, *http.Response) {
	c.fx.t.Helper()
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.fx.t.Context(), method, c.fx.s.URL()+ref, body)
	if err != nil {
		c.fx.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.fx.t.Fatalf("%s %s: HTTP %d", method, ref, resp.StatusCode)
	}
	p, err := ParsePage(io.LimitReader(resp.Body, 4<<20), c.loc)
	if err != nil {
		c.fx.t.Fatalf("%s %s: %v", method, ref, err)
	}
	return p, resp
}

func (c *client) get(ref string) Page {
	c.fx.t.Helper()
	p, _ := c.do(http.MethodGet, ref, nil)
	return p
}

func (c *client) post(action string, v url.Values) Page {
	c.fx.t.Helper()
	p, _ := c.do(http.MethodPost, action, v)
	return p
}

// login gets the log-in page fresh and posts it back.
func (c *client) login(password string) Page {
	c.fx.t.Helper()
	home := c.get("/orkweb/app")
	if home.Login == nil { // PageLogin, or PageLoginFailed after an earlier failure in this session
		c.fx.t.Fatalf("GET /orkweb/app: %s", home.Kind)
	}
	return c.post(home.Login.Action, home.Login.Values(user, password))
}

// search posts a window on the recordings page p.
func (c *client) search(p Page, start, end time.Time, yearOffset int) Page {
	c.fx.t.Helper()
	if p.Search == nil {
		c.fx.t.Fatalf("no search form on a %s page", p.Kind)
	}
	return c.post(p.Search.Action, p.Search.Values(start, end, c.loc, yearOffset))
}

func tapeIDs(rows []Row) []int64 {
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.TapeID)
	}
	return ids
}

// Log-in answers 200 for success and failure: the title tells.
func TestFakeLogin(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{})
	fx.day(3)
	c := fx.client(true)
	if p := c.login("wrong"); p.Kind != PageLoginFailed || p.Message != "Invalid login or password" {
		t.Fatalf("wrong password: %s %q", p.Kind, p.Message)
	}
	// HomePage's errorMessage is @Persist: the session's log-in page shows
	// the old failure until the session ends, so only the answer to the
	// POST tells the outcome.
	if p := c.get("/orkweb/app"); p.Kind != PageLoginFailed {
		t.Fatalf("log-in page after a failure: %s", p.Kind)
	}
	p := c.login(pass)
	if p.Kind != PageRecordings || len(p.Rows) != 3 || p.Pager.Results != 3 {
		t.Fatalf("log-in: %s, %d rows", p.Kind, len(p.Rows))
	}
	if st := fx.s.Stats(); st.Logins != 1 || st.LoginsFailed != 1 {
		t.Fatalf("stats %+v", st)
	}

	fx.s.SetDatabaseDown(true)
	if p := fx.client(true).login(pass); p.Kind != PageLoginFailed {
		t.Fatalf("database down: log-in %s", p.Kind)
	}
	if p := c.search(p, now.Add(-4*time.Hour), now, 0); p.Kind != PageNoResults {
		t.Fatalf("database down: search %s", p.Kind)
	}
	fx.s.SetDatabaseDown(false)
	if p := c.search(p, now.Add(-4*time.Hour), now, 0); p.Kind != PageRecordings || len(p.Rows) != 3 {
		t.Fatalf("database back: %s", p.Kind)
	}
}

// A dead session answers the log-in page (200, a new cookie), or for a
// log-in form posted with session=T, Tapestry's Stale Session page.
func TestFakeDeadSession(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{})
	fx.day(25)
	c := fx.client(true)
	p := c.login(pass)
	fx.clk.Advance(fakeorkweb.DefaultSessionTimeout)
	got, resp := c.do(http.MethodGet, p.Pager.Next, nil)
	if got.Kind != PageLogin || !strings.Contains(resp.Header.Get("Set-Cookie"), "JSESSIONID=") {
		t.Fatalf("expired session, next: %s, Set-Cookie %q", got.Kind, resp.Header.Get("Set-Cookie"))
	}

	// The log-in form of a session that has since died.
	c2 := fx.client(true)
	home := c2.get("/orkweb/app")
	fx.s.ExpireSessions()
	if p := c2.post(home.Login.Action, home.Login.Values(user, pass)); p.Kind != PageStaleSession {
		t.Fatalf("posting to a dead session: %s", p.Kind)
	}
	// Hence: always GET the log-in page fresh before posting.
	if p := c2.login(pass); p.Kind != PageRecordings {
		t.Fatalf("fresh log-in: %s", p.Kind)
	}
	if st := fx.s.Stats(); st.StaleSessions != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Every hidden field must go back as parsed.
func TestFakeHiddenFields(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{})
	fx.day(3)
	c := fx.client(true)
	home := c.get("/orkweb/app")
	v := home.Login.Values(user, pass)
	v.Del("formids")
	if p := c.post(home.Login.Action, v); p.Kind != PageStaleLink || !strings.Contains(p.Message, "Rewind of form Home/$Form") {
		t.Fatalf("without formids: %s %q", p.Kind, p.Message)
	}
	v = home.Login.Values(user, pass)
	v.Del("Submit")
	if p := c.post(home.Login.Action, v); p.Kind != PageLogin {
		t.Fatalf("without the button (no listener runs): %s", p.Kind)
	}
	p := c.login(pass)
	sv := p.Search.Values(now.Add(-time.Hour), now, ict, 0)
	sv.Del("If_2")
	if got := c.post(p.Search.Action, sv); got.Kind != PageException {
		t.Fatalf("search without If_2: %s", got.Kind)
	}
}

// walk follows "next" until Page X/Y says the last, and records the page
// numbers and every row.
func walk(c *client, p Page, limit int) (pages []int, seen []int64) {
	c.fx.t.Helper()
	for range limit {
		pages = append(pages, p.Pager.Page)
		seen = append(seen, tapeIDs(p.Rows)...)
		if p.Pager.LastPage() {
			return pages, seen
		}
		p = c.get(p.Pager.Next)
		if p.Kind != PageRecordings {
			c.fx.t.Fatalf("walk: %s", p.Kind)
		}
	}
	c.fx.t.Fatalf("walk did not end in %d pages: %v", limit, pages)
	return nil, nil
}

// Paging is stateful in the session: the first "next" after a search
// shows page 1 again (the table state is not yet persisted, so it counts
// no results to move past), and on the last page "next" shows the same
// page again.
func TestFakePaging(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{})
	fx.day(25)
	c := fx.client(true)
	p := c.search(c.login(pass), now.Add(-4*time.Hour), now, 0)
	first := tapeIDs(p.Rows)
	if !slices.Equal(first, []int64{25, 24, 23, 22, 21, 20, 19, 18, 17, 16}) || p.Pager.Page != 1 || p.Pager.Pages != 3 {
		t.Fatalf("page 1: %v %+v", first, p.Pager)
	}
	again := c.get(p.Pager.Next)
	if again.Pager.Page != 1 || !slices.Equal(tapeIDs(again.Rows), first) {
		t.Fatalf("first next: page %d %v, want page 1 again", again.Pager.Page, tapeIDs(again.Rows))
	}
	pages, seen := walk(c, again, 10)
	if !slices.Equal(pages, []int{1, 2, 3}) {
		t.Fatalf("pages %v", pages)
	}
	last := c.get(again.Pager.Next) // any next link: the state is the session's
	if last.Pager.Page != 3 || !slices.Equal(tapeIDs(last.Rows), []int64{5, 4, 3, 2, 1}) {
		t.Fatalf("next on the last page: page %d %v", last.Pager.Page, tapeIDs(last.Rows))
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	if len(seen) != 25 {
		t.Fatalf("saw %d recordings", len(seen))
	}
	// A new search with the same total keeps the old offset.
	p = c.search(last, now.Add(-5*time.Hour), now, 0)
	if p.Pager.Page != 3 {
		t.Fatalf("same total, new search: page %d, want 3 (the offset is kept)", p.Pager.Page)
	}
}

// The offset resets when the total changes: the page after "next" says
// "Page 1/…" but holds the rows of the offset it moved to; walking on
// and deduping by tape id still sees every recording.
func TestFakeOffsetReset(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{InsertPerPage: 1, InsertPages: 3})
	fx.day(25)
	c := fx.client(true)
	p := c.search(c.login(pass), now.Add(-4*time.Hour), now, 0)
	seen := tapeIDs(p.Rows)
	p = c.get(p.Pager.Next) // page 1 again (see TestFakePaging); 26 results now
	seen = append(seen, tapeIDs(p.Rows)...)
	total := p.Pager.Results
	if p.Pager.Page != 1 || total != 26 {
		t.Fatalf("first next: %+v", p.Pager)
	}
	p = c.get(p.Pager.Next) // moves to offset 10, but the total changes
	if p.Pager.Page != 1 || p.Pager.Results != total+1 {
		t.Fatalf("after a changed total: %+v, want Page 1 and %d results", p.Pager, total+1)
	}
	// Newest first: two new calls on top, then 25…; offset 10 starts at 17.
	if ids := tapeIDs(p.Rows); ids[0] != 17 {
		t.Fatalf("the reset page holds %v, want the rows of the old offset (17…)", ids)
	}
	_, rest := walk(c, p, 20)
	seen = append(seen, rest...)
	slices.Sort(seen)
	seen = slices.Compact(seen)
	for id := int64(1); id <= 25; id++ {
		if _, ok := slices.BinarySearch(seen, id); !ok {
			t.Fatalf("tape %d never seen: %v", id, seen)
		}
	}
	if st := fx.s.Stats(); st.OffsetResets < 1 || st.Inserted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// On a Thai-locale JVM the search form speaks Buddhist-Era years, while
// the table stays Gregorian.
func TestFakeThaiLocale(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{ThaiLocale: true})
	fx.day(3)
	c := fx.client(true)
	p := c.login(pass)
	if !strings.HasPrefix(p.Search.Start.Value, "2569-05-19 ") || !strings.HasPrefix(p.Search.End.Value, "2569-05-20 ") {
		t.Fatalf("defaults %q %q", p.Search.Start.Value, p.Search.End.Value)
	}
	off, err := p.Search.YearOffset(fx.clk.Now(), ict)
	if err != nil || off != BuddhistEra {
		t.Fatalf("YearOffset = %d, %v", off, err)
	}
	if err := p.Search.CheckZone(ict, off); err != nil {
		t.Fatal(err)
	}
	if got := c.search(p, now.Add(-4*time.Hour), now, 0); got.Kind != PageNoResults {
		t.Fatalf("Gregorian years on a Thai server (1483 CE): %s", got.Kind)
	}
	got := c.search(p, now.Add(-4*time.Hour), now, off)
	if got.Kind != PageRecordings || len(got.Rows) != 3 || got.Rows[0].TimeText != "2026-05-20 08:02:00.0" {
		t.Fatalf("Buddhist-Era search: %s %+v", got.Kind, got.Rows)
	}
	if got.Search.Start.Value != FormatDate(now.Add(-4*time.Hour), ict, BuddhistEra) {
		t.Fatalf("the form shows back %q", got.Search.Start.Value)
	}
}

// Dates are server-local: read in another zone, they are off, and the
// search form's calendars say so.
func TestFakeServerZone(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{Location: time.FixedZone("ICT", 7*3600)})
	fx.day(1)
	c := fx.client(true)
	p := c.login(pass)
	if err := p.Search.CheckZone(time.UTC, 0); err == nil {
		t.Fatal("a UTC reading of an ICT server went unnoticed")
	}
	if err := p.Search.CheckZone(ict, 0); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC); !p.Rows[0].Time.Equal(want) {
		t.Fatalf("row time %s, want %s", p.Rows[0].Time, want)
	}
	c.loc = time.UTC
	if p := c.get("/orkweb/app?page=RecSegments&service=page"); p.Rows[0].Time.Equal(time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)) {
		t.Fatal("read in UTC, the time should be 7 h off")
	}
}

// Without cookies every URL carries ;jsessionid=, and the parsed links
// carry the session on their own.
func TestFakeURLRewriting(t *testing.T) {
	fx := startFake(t, fakeorkweb.Options{})
	fx.day(15)
	c := fx.client(false)
	home := c.get("/orkweb/app")
	if !strings.HasPrefix(home.Login.Action, "/orkweb/app;jsessionid=") {
		t.Fatalf("action %q", home.Login.Action)
	}
	p := c.post(home.Login.Action, home.Login.Values(user, pass))
	if p.Kind != PageRecordings || !strings.Contains(p.Pager.Next, ";jsessionid=") || !strings.Contains(p.Search.Action, ";jsessionid=") {
		t.Fatalf("after log-in: %s, next %q", p.Kind, p.Pager.Next)
	}
	p = c.search(p, now.Add(-4*time.Hour), now, 0)
	p = c.get(p.Pager.Next)
	p = c.get(p.Pager.Next)
	if p.Pager.Page != 2 || !p.Pager.LastPage() || len(p.Rows) != 5 {
		t.Fatalf("walk without cookies: %+v", p.Pager)
	}
	// With cookies, nothing is rewritten after the first answer.
	cc := fx.client(true)
	if p := cc.login(pass); strings.Contains(p.Pager.Next, "jsessionid") {
		t.Fatalf("rewritten with a cookie: %q", p.Pager.Next)
	}
}

// wavFormatTag reads a RIFF WAVE file's fmt format tag.
func wavFormatTag(b []byte) uint16 {
	if len(b) < 22 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " {
		return 0
	}
	return binary.LittleEndian.Uint16(b[20:22])
}

// The audio link names the recorder's host, which may not resolve: the
// path alone, asked of the configured host, plays. GSM and PCM, both
// flavours, and a missing file (404 on OrecX, 500 on voiceip).
func TestFakeAudio(t *testing.T) {
	for _, flavour := range []fakeorkweb.Flavour{fakeorkweb.OrecX, fakeorkweb.VoiceIP} {
		t.Run(flavour.String(), func(t *testing.T) {
			fx := startFake(t, fakeorkweb.Options{Flavour: flavour, AudioLinkHost: "oreka-rec01.invalid:8080"})
			at := time.Date(2026, 5, 20, 9, 0, 0, 0, ict)
			fx.s.Add(
				fakeorkweb.Recording{TapeID: 1, Time: at, Duration: 60, Direction: fakeorkweb.Out, Audio: fakeaudio.Audio{Size: 10_000}},
				fakeorkweb.Recording{TapeID: 2, Time: at.Add(time.Minute), Duration: 60, Format: fakeorkweb.PCM, Audio: fakeaudio.Audio{Size: 10_000}},
				fakeorkweb.Recording{TapeID: 3, Time: at.Add(2 * time.Minute), Duration: 60, Missing: true},
			)
			c := fx.client(true)
			p := c.login(pass)
			if len(p.Rows) != 3 {
				t.Fatalf("%d rows", len(p.Rows))
			}
			byTape := map[int64]Row{}
			for _, r := range p.Rows {
				if r.Invalid != nil {
					t.Fatalf("row %d: %v", r.TapeID, r.Invalid)
				}
				byTape[r.TapeID] = r
			}
			if byTape[2].Direction != DirectionUnknown || byTape[1].Direction != DirectionOut {
				t.Fatalf("directions %s %s", byTape[1].Direction, byTape[2].Direction)
			}
			if flavour == fakeorkweb.OrecX && byTape[1].Audio.Host != "oreka-rec01.invalid:8080" {
				t.Fatalf("link host %q", byTape[1].Audio.Host)
			}
			for id, wantTag := range map[int64]uint16{1: 0x31, 2: 1} {
				resp := fetch(t, fx.s.URL()+byTape[id].Audio.Path)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(b) != 10_000 || wavFormatTag(b) != wantTag {
					t.Fatalf("tape %d: HTTP %d, %d bytes, format tag %#x", id, resp.StatusCode, len(b), wavFormatTag(b))
				}
				if want, _ := fx.s.AudioBytes(id); string(b) != string(want) {
					t.Fatalf("tape %d: bytes differ", id)
				}
				if flavour == fakeorkweb.VoiceIP && resp.ContentLength != -1 {
					t.Fatalf("voiceip sent a Content-Length (%d)", resp.ContentLength)
				}
				if flavour == fakeorkweb.OrecX && resp.ContentLength != 10_000 {
					t.Fatalf("OrecX Content-Length %d", resp.ContentLength)
				}
			}
			resp := fetch(t, fx.s.URL()+byTape[3].Audio.Path)
			resp.Body.Close()
			want := map[fakeorkweb.Flavour]int{fakeorkweb.OrecX: 404, fakeorkweb.VoiceIP: 500}[flavour]
			if resp.StatusCode != want {
				t.Fatalf("missing file: HTTP %d, want %d", resp.StatusCode, want)
			}
		})
	}
}

func fetch(t *testing.T, u string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A slow page: the latency is served on the fake clock, so a test of a
// slow server costs no real time.
func TestFakeSlowPage(t *testing.T) {
	var fx *fixture
	fx = startFake(t, fakeorkweb.Options{
		PageLatency: 3 * time.Second,
		Sleep:       func(_ context.Context, d time.Duration) { fx.clk.Advance(d) },
	})
	fx.day(25)
	c := fx.client(true)
	began, real := fx.clk.Now(), time.Now()
	p := c.login(pass) // two pages: the log-in page and its answer
	p = c.get(p.Pager.Next)
	if got := fx.clk.Now().Sub(began); got != 9*time.Second {
		t.Fatalf("three pages took %s on the server's clock, want 9s", got)
	}
	if time.Since(real) > 2*time.Second {
		t.Fatal("the latency was slept for real")
	}
	fx.s.SetPageLatency(0)
	c.get(p.Pager.Next)
	if got := fx.clk.Now().Sub(began); got != 9*time.Second {
		t.Fatalf("latency off, the clock still moved: %s", got)
	}
}
