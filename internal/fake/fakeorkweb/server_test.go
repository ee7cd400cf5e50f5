package fakeorkweb

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

func TestStartRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{{Flavour: 7}, {SessionTimeout: -1}, {InsertPerPage: -1}, {InsertPages: -1}, {PageLatency: -1}} {
		if s, err := Start(o); err == nil {
			_ = s.Close()
			t.Errorf("Start(%+v) accepted", o)
		}
	}
}

func TestRedirectsAndLogout(t *testing.T) {
	s, _ := startClock(t, Options{})
	b := newBrowser(t, s, true)
	if a := b.get("/orkweb"); a.code != http.StatusFound || a.header.Get("Location") != "/orkweb/" {
		t.Fatalf("/orkweb: %d %q", a.code, a.header.Get("Location"))
	}
	if a := b.get("/orkweb/"); a.code != http.StatusFound || a.header.Get("Location") != "/orkweb/app" {
		t.Fatalf("/orkweb/: %d %q", a.code, a.header.Get("Location"))
	}
	b.get("/orkweb/app")
	if a := b.post("/orkweb/app", loginForm("admin", "admin")); title(a.body) != "Browse segments" {
		t.Fatalf("admin/admin of a fresh install: %q", title(a.body))
	}
	if a := b.get("/orkweb/app?service=restart"); a.code != http.StatusFound || a.header.Get("Location") != "/orkweb/app" {
		t.Fatalf("logout: %d %q", a.code, a.header.Get("Location"))
	}
	if a := b.get("/orkweb/app?page=RecSegments&service=page"); title(a.body) != "Welcome to OrkWeb" {
		t.Fatalf("after logout: %q", title(a.body))
	}
}

// Tomcat's sessions: the cookie and URL rewriting on the answer that
// creates one, expiry after SessionTimeout idle.
func TestSessions(t *testing.T) {
	s, clk := startClock(t, Options{SessionTimeout: 10 * time.Minute})
	b := newBrowser(t, s, true)
	a := b.get("/orkweb/app")
	if !strings.Contains(a.header.Get("Set-Cookie"), "Path=/orkweb; HttpOnly") || !strings.Contains(a.body, `action="/orkweb/app;jsessionid=`) {
		t.Fatalf("first answer: Set-Cookie %q", a.header.Get("Set-Cookie"))
	}
	a = b.get("/orkweb/app")
	if a.header.Get("Set-Cookie") != "" || strings.Contains(a.body, "jsessionid") {
		t.Fatal("second answer with the cookie: a new session or rewritten URLs")
	}
	b.post("/orkweb/app", loginForm("admin", "admin"))
	clk.Advance(10*time.Minute - time.Second)
	if a := b.get("/orkweb/app?page=RecSegments&service=page"); title(a.body) != "Browse segments" {
		t.Fatalf("just before the timeout: %q", title(a.body))
	}
	clk.Advance(10 * time.Minute) // idle again for the whole timeout
	a = b.get("/orkweb/app?page=RecSegments&service=page")
	if title(a.body) != "Welcome to OrkWeb" || a.header.Get("Set-Cookie") == "" || strings.Contains(a.body, "jsessionid") {
		t.Fatalf("after the timeout: %q, Set-Cookie %q", title(a.body), a.header.Get("Set-Cookie"))
	}
	if st := s.Stats(); st.SessionsCreated != 2 || s.Sessions() != 2 && s.Sessions() != 1 {
		t.Fatalf("stats %+v, %d live", st, s.Sessions())
	}
}

func TestAudioRangeAndHeaders(t *testing.T) {
	s, _ := startClock(t, Options{})
	s.Add(Recording{TapeID: 1, Time: t0, Audio: fakeaudio.Audio{Size: 5000}})
	p, _ := s.AudioPath(1)
	if !strings.HasPrefix(p, "/audio/2024/03/01/15/20240301_150211_") || !strings.HasSuffix(p, ".wav") {
		t.Fatalf("path %q", p)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+p, http.NoBody)
	req.Header.Set("Range", "bytes=100-199")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != 100 || resp.Header.Get("Content-Type") != "audio/x-wav" {
		t.Fatalf("Range: %d, %d bytes, %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Content-Type"))
	}
	b, _ := s.AudioBytes(1)
	if len(b) != 5000 || string(b[40:44]) != "fact" || string(b[52:56]) != "data" || b[20] != 0x31 || len(gsmHeader(5000)) != GSMHeaderSize {
		t.Fatalf("GSM header %q", b[:GSMHeaderSize])
	}
}

func TestVoiceIPStream(t *testing.T) {
	s, _ := startClock(t, Options{Flavour: VoiceIP, StreamContentType: NoContentType})
	s.Add(Recording{TapeID: 1, Time: t0, File: "2024/03/01/15/x.wav", Audio: fakeaudio.Audio{Size: 9000}})
	b := newBrowser(t, s, false)
	a := b.get("/orkweb/stream/2024/03/01/15/x.wav")
	if a.code != 200 || len(a.body) != 9000 || a.header.Get("Content-Type") != "" || a.header.Get("Content-Length") != "" ||
		a.header.Get("Content-Disposition") != "inline;filename=x.wav" {
		t.Fatalf("stream: %d, %d bytes, %v", a.code, len(a.body), a.header)
	}
	if a := b.get("/audio/2024/03/01/15/x.wav"); a.code != 404 {
		t.Fatalf("voiceip has no /audio context: %d", a.code)
	}
	s.SetMissing(1, true)
	if a := b.get("/orkweb/stream/2024/03/01/15/x.wav"); a.code != 500 {
		t.Fatalf("missing: %d", a.code)
	}
}

// A file still being written is served empty (200, no bytes) in both
// flavours, until SetWriting(id, false).
func TestWritingFile(t *testing.T) {
	for _, f := range []Flavour{OrecX, VoiceIP} {
		s, _ := startClock(t, Options{Flavour: f})
		s.Add(Recording{TapeID: 1, Time: t0, File: "2024/03/01/15/x.wav", Writing: true, Audio: fakeaudio.Audio{Size: 9000}})
		p, _ := s.AudioPath(1)
		b := newBrowser(t, s, false)
		if a := b.get(p); a.code != 200 || len(a.body) != 0 {
			t.Fatalf("%s writing: %d, %d bytes", f, a.code, len(a.body))
		}
		s.SetWriting(1, false)
		if a := b.get(p); a.code != 200 || len(a.body) != 9000 {
			t.Fatalf("%s written: %d, %d bytes", f, a.code, len(a.body))
		}
	}
}

// Rows with equal timestamps: in tape order by default, in an order that
// changes with every query under ShuffleTies.
func TestShuffleTies(t *testing.T) {
	orders := func(shuffle bool) map[string]bool {
		s, _ := startClock(t, Options{ShuffleTies: shuffle})
		for i := range 12 {
			s.Add(Recording{TapeID: int64(i + 1), Time: t0.Add(-time.Hour)})
		}
		b := newBrowser(t, s, true)
		b.get("/orkweb/app")
		b.post("/orkweb/app", loginForm("admin", "admin"))
		seen := map[string]bool{}
		for range 8 {
			seen[strings.Join(tapes(b.get("/orkweb/app?page=RecSegments&service=page").body), ",")] = true
		}
		return seen
	}
	if got := orders(false); len(got) != 1 || !got["12,11,10,9,8,7,6,5,4,3"] {
		t.Fatalf("default order: %v", got)
	}
	if got := orders(true); len(got) < 2 {
		t.Fatalf("shuffled ties always came the same: %v", got)
	}
}

// The Thai locale parses Buddhist-Era years: a Gregorian date is 543
// years early.
func TestThaiDateFields(t *testing.T) {
	s, _ := startClock(t, Options{ThaiLocale: true})
	s.Add(Recording{TapeID: 1, Time: t0.Add(-time.Hour)})
	b := newBrowser(t, s, true)
	b.get("/orkweb/app")
	a := b.post("/orkweb/app", loginForm("admin", "admin"))
	if !strings.Contains(a.body, `name="DatePicker_0" value="2567-03-01 15:02:11"`) || !strings.Contains(a.body, "2024-03-01 14:02:11.0") {
		t.Fatal("defaults not in the Buddhist Era, or the table not Gregorian")
	}
	a = b.post("/orkweb/app", searchForm("2024-03-01 00:00:00", "2024-03-02 00:00:00"))
	if !strings.Contains(a.body, `value="2024-03-01 00:00:00"`) || !strings.Contains(a.body, noResults) {
		t.Fatal("a Gregorian search on a Thai JVM should find nothing (1481 CE)")
	}
	a = b.post("/orkweb/app", searchForm("2567-03-01 00:00:00", "2567-03-02 00:00:00"))
	if !reflect.DeepEqual(tapes(a.body), []string{"1"}) {
		t.Fatalf("Buddhist-Era search: %v", tapes(a.body))
	}
	s.SetThaiLocale(false)
	a = b.get("/orkweb/app?page=RecSegments&service=page")
	if !strings.Contains(a.body, `value="2024-03-01 00:00:00"`) {
		t.Fatal("the window searched in Buddhist-Era years shows Gregorian once the locale is back")
	}
}

const noResults = "There were no results"

func TestSampleDay(t *testing.T) {
	day := time.Date(2026, 5, 20, 0, 0, 0, 0, ICT)
	a, b := SampleDay(day, ICT, 200, 7), SampleDay(day, ICT, 200, 7)
	if !reflect.DeepEqual(a, b) || len(a) != 200 {
		t.Fatal("SampleDay is not deterministic")
	}
	dirs := map[Direction]int{}
	for _, r := range a {
		lt := r.Time.In(ICT)
		if lt.Hour() < 8 || lt.Hour() >= 18 || r.Duration < 5 || r.Audio.Size < 4<<10 {
			t.Fatalf("recording %+v", r)
		}
		dirs[r.Direction]++
	}
	if dirs[In] == 0 || dirs[Out] == 0 || dirs[Unknown] == 0 {
		t.Fatalf("directions %v", dirs)
	}
}
