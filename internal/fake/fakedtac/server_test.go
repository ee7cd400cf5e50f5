package fakedtac

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakeclock"
)

const (
	user = "+66811111111"
	pass = "s3cret-pass"
)

var t0 = time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Users == nil {
		opts.Users = map[string]string{user: pass}
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, u string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func login(t *testing.T, s *Server) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost,
		s.URL()+"/orktrack/rest/user/login?version=orktrack&accesspolicy=all&licenseinfo=true", http.NoBody)
	req.SetBasicAuth(user, pass)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: HTTP %d", resp.StatusCode)
	}
	var a struct{ AccessToken string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a.AccessToken
}

type page struct {
	Objects      []map[string]any `json:"objects"`
	NextPageURI  *string          `json:"nextPageUri"`
	PrevPageURI  *string          `json:"prevPageUri"`
	LimitReached bool             `json:"limitReached"`
	Page         int              `json:"page"`
	PageSize     *int             `json:"pageSize"`
	ResultCount  int              `json:"resultCount"`
}

func listURL(s *Server, from, to time.Time, pg, size int) string {
	q := url.Values{
		"range": {"custom"}, "startdate": {from.UTC().Format(dateLayout)}, "enddate": {to.UTC().Format(dateLayout)},
		"sort": {""}, "maxresults": {"0"}, "includetags": {"false"}, "includemetadata": {"false"}, "includeprograms": {"false"},
	}
	if pg > 0 {
		q.Set("page", strconv.Itoa(pg))
	}
	if size > 0 {
		q.Set("pagesize", strconv.Itoa(size))
	}
	return s.URL() + "/orktrack/rest/recordings?" + q.Encode()
}

func getPage(t *testing.T, u, token string) page {
	t.Helper()
	a := do(t, http.MethodGet, u, map[string]string{"Authorization": token})
	if a.code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", u, a.code, a.body)
	}
	var p page
	if err := json.Unmarshal([]byte(a.body), &p); err != nil {
		t.Fatalf("page: %v", err)
	}
	return p
}

func addN(s *Server, n int, at func(i int) time.Time) {
	for i := range n {
		s.Add(Recording{
			ID: int64(1000 + i), Timestamp: at(i), Duration: 30 + i,
			LocalParty: "+66812345678", RemoteParty: "+6621234567", Direction: "IN",
			FirstName: "Somchai", LastName: "Jaidee",
			Audio: fakeaudio.Audio{Seed: uint64(i), Size: 1000},
		})
	}
}

func TestLogin(t *testing.T) {
	s := start(t, Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/orktrack/rest/user/login", http.NoBody)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	tok, _ := a["accesstoken"].(string)
	if resp.StatusCode != 200 || len(tok) != 36 || strings.Count(tok, "-") != 4 {
		t.Fatalf("login: HTTP %d, accesstoken %q", resp.StatusCode, tok)
	}
	for _, k := range []string{"user", "permissions", "license"} {
		if _, ok := a[k]; !ok {
			t.Errorf("login answer lacks %q", k)
		}
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].Name != "JSESSIONID" {
		t.Errorf("cookies %v, want JSESSIONID", c)
	}
	if s.Logins() != 1 {
		t.Errorf("Logins() = %d, want 1", s.Logins())
	}
	if got := do(t, "GET", s.URL()+"/orktrack/rest/user/login", nil).code; got != http.StatusMethodNotAllowed {
		t.Errorf("GET login: HTTP %d, want 405", got)
	}
}

func TestLoginFailure(t *testing.T) {
	for _, tc := range []struct {
		mode     LoginFailure
		code     int
		ctype    string
		contains string
	}{
		{LoginFails401, 401, "text/html", "HTTP Status 401"},
		{LoginFails403, 403, "text/html", "HTTP Status 403"},
		{LoginFailsHTML200, 200, "text/html", "Sign in"},
		{LoginFailsHTML500, 500, "text/html", "HTTP Status 500"},
	} {
		s := start(t, Options{LoginFailure: tc.mode})
		for _, auth := range []map[string]string{
			{"Authorization": "Basic " + basic(user, "wrong")},
			{"Authorization": "Basic " + basic("+66999999999", pass)},
			nil,
		} {
			a := do(t, http.MethodPost, s.URL()+"/orktrack/rest/user/login", auth)
			if a.code != tc.code || !strings.HasPrefix(a.header.Get("Content-Type"), tc.ctype) || !strings.Contains(a.body, tc.contains) {
				t.Errorf("mode %d: HTTP %d %s %q", tc.mode, a.code, a.header.Get("Content-Type"), a.body)
			}
			if strings.Contains(a.body, "accesstoken") {
				t.Errorf("mode %d: a failed login granted a token", tc.mode)
			}
		}
		if s.Logins() != 0 {
			t.Errorf("mode %d: Logins() = %d after failures", tc.mode, s.Logins())
		}
	}
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestRecordingsValidation(t *testing.T) {
	s := start(t, Options{})
	tok := login(t, s)
	good := listURL(s, t0, t0.Add(time.Hour), 1, 10)
	for _, tc := range []struct {
		name  string
		url   string
		token string
		code  int
	}{
		{"no token", good, "", 401},
		{"bearer scheme", good, "Bearer " + tok, 401},
		{"unknown token", good, "00000000-0000-4000-8000-000000000000", 401},
		{"good", good, tok, 200},
		{"range today", strings.Replace(good, "range=custom", "range=today", 1), tok, 400},
		{"ISO startdate", strings.Replace(good, "startdate=20260520_010000", "startdate=2026-05-20T01:00:00Z", 1), tok, 400},
		{"no enddate", strings.Replace(good, "enddate=20260520_020000", "", 1), tok, 400},
		{"page 0", strings.Replace(good, "page=1", "page=0", 1), tok, 400},
		{"pagesize x", strings.Replace(good, "pagesize=10", "pagesize=x", 1), tok, 400},
	} {
		if got := do(t, "GET", tc.url, map[string]string{"Authorization": tc.token}).code; got != tc.code {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.code)
		}
	}
}

func TestRecordingsPaging(t *testing.T) {
	s := start(t, Options{})
	tok := login(t, s)
	// Added out of order: the portal lists in timestamp order.
	addN(s, 7, func(i int) time.Time { return t0.Add(time.Duration(6-i) * time.Minute) })
	var got []float64
	u := listURL(s, t0, t0.Add(time.Hour), 1, 3)
	for n := 1; ; n++ {
		p := getPage(t, u, tok)
		if p.Page != n || p.PageSize == nil || *p.PageSize != 3 || p.ResultCount != -1 || p.LimitReached {
			t.Fatalf("page %d: meta %+v", n, p)
		}
		if (n == 1) != (p.PrevPageURI == nil) {
			t.Errorf("page %d: prevPageUri %v", n, p.PrevPageURI)
		}
		for _, o := range p.Objects {
			got = append(got, o["id"].(float64))
			for _, k := range []string{"type", "timestamp", "duration", "localParty", "remoteParty", "direction", "userDto",
				"recordingURL", "waveformURL", "tags", "metadata", "programs", "externalId", "filesize"} {
				if _, ok := o[k]; !ok {
					t.Errorf("object lacks %q: %v", k, o)
				}
			}
			if o["type"] != "recordingDto" || !strings.HasPrefix(o["recordingURL"].(string), s.URL()+"/orktrack/rest/mediastream/") {
				t.Errorf("object %v", o)
			}
		}
		if p.NextPageURI == nil {
			if n != 3 {
				t.Fatalf("paging stopped at page %d", n)
			}
			break
		}
		if !strings.HasPrefix(*p.NextPageURI, s.URL()+"/orktrack/rest/recordings?") {
			t.Fatalf("nextPageUri %q", *p.NextPageURI)
		}
		u = *p.NextPageURI
	}
	want := []float64{1006, 1005, 1004, 1003, 1002, 1001, 1000}
	if len(got) != len(want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ids %v, want %v", got, want)
		}
	}
	if n := s.Requests("/orktrack/rest/recordings"); n != 3 {
		t.Errorf("Requests = %d, want 3", n)
	}
}

func TestRecordingsKnobs(t *testing.T) {
	other := "127.0.0.1:1"
	for _, tc := range []struct {
		name  string
		opts  Options
		size  int
		check func(t *testing.T, s *Server, p page)
	}{
		{"page cap", Options{PageCap: 2}, 5, func(t *testing.T, s *Server, p page) {
			if len(p.Objects) != 2 || *p.PageSize != 2 || p.NextPageURI == nil {
				t.Errorf("capped page: %d objects, pageSize %d, next %v", len(p.Objects), *p.PageSize, p.NextPageURI)
			}
		}},
		{"omit pageSize", Options{OmitPageSize: true}, 5, func(t *testing.T, s *Server, p page) {
			if p.PageSize != nil {
				t.Errorf("pageSize %d present", *p.PageSize)
			}
		}},
		{"string ids", Options{StringIDs: true}, 5, func(t *testing.T, s *Server, p page) {
			if id, ok := p.Objects[0]["id"].(string); !ok || id != "1000" {
				t.Errorf("id %#v, want \"1000\"", p.Objects[0]["id"])
			}
		}},
		{"next page host", Options{NextPageHost: other}, 2, func(t *testing.T, s *Server, p page) {
			if p.NextPageURI == nil || !strings.HasPrefix(*p.NextPageURI, "http://"+other+"/orktrack/rest/recordings?") {
				t.Errorf("nextPageUri %v", p.NextPageURI)
			}
		}},
		{"recording URL host", Options{RecordingURLHost: "http://" + other}, 2, func(t *testing.T, s *Server, p page) {
			if u := p.Objects[0]["recordingURL"].(string); u != "http://"+other+"/orktrack/rest/mediastream/1000" {
				t.Errorf("recordingURL %q", u)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.opts)
			addN(s, 5, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
			tc.check(t, s, getPage(t, listURL(s, t0, t0.Add(time.Hour), 1, tc.size), login(t, s)))
		})
	}
}

func TestRecordingsEndBound(t *testing.T) {
	for _, exclusive := range []bool{false, true} {
		s := start(t, Options{EndExclusive: exclusive})
		tok := login(t, s)
		addN(s, 3, func(i int) time.Time { return t0.Add(time.Duration(i)*time.Minute + 500*time.Millisecond) })
		p := getPage(t, listURL(s, t0, t0.Add(2*time.Minute), 1, 10), tok)
		want := 3 // the end second is in
		if exclusive {
			want = 2
		}
		if len(p.Objects) != want {
			t.Errorf("EndExclusive=%v: %d objects, want %d", exclusive, len(p.Objects), want)
		}
	}
}

func TestRecordingsRepeatPagesAndLimit(t *testing.T) {
	s := start(t, Options{RepeatPages: true})
	tok := login(t, s)
	addN(s, 5, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	p1 := getPage(t, listURL(s, t0, t0.Add(time.Hour), 1, 2), tok)
	p9 := getPage(t, listURL(s, t0, t0.Add(time.Hour), 9, 2), tok)
	if p9.Objects[0]["id"] != p1.Objects[0]["id"] || p9.NextPageURI == nil {
		t.Errorf("RepeatPages: page 9 %v next %v, want page 1 again with a next page", p9.Objects, p9.NextPageURI)
	}

	s = start(t, Options{})
	tok = login(t, s)
	addN(s, 5, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	u := strings.Replace(listURL(s, t0, t0.Add(time.Hour), 1, 10), "maxresults=0", "maxresults=3", 1)
	if p := getPage(t, u, tok); len(p.Objects) != 3 || !p.LimitReached || p.NextPageURI != nil {
		t.Errorf("maxresults=3: %d objects, limitReached %v, next %v", len(p.Objects), p.LimitReached, p.NextPageURI)
	}
}

func TestRendering(t *testing.T) {
	s := start(t, Options{})
	tok := login(t, s)
	s.Add(Recording{ID: 1, Timestamp: t0.Add(7 * time.Hour).In(time.FixedZone("ICT", 7*3600)), Direction: "UNKN", LastName: "Only"})
	s.Add(Recording{ID: 2, Timestamp: t0.Add(time.Second), RawTimestamp: "20/05/2026 01:00", Direction: "OUT"})
	p := getPage(t, listURL(s, t0, t0.Add(8*time.Hour), 1, 10), tok)
	if len(p.Objects) != 2 {
		t.Fatalf("%d objects", len(p.Objects))
	}
	if ts := p.Objects[1]["timestamp"]; ts != "2026-05-20 08:00:00" {
		t.Errorf("timestamp %v, want UTC", ts)
	}
	if u := p.Objects[1]["userDto"].(map[string]any); u["firstname"] != nil || u["lastname"] != "Only" {
		t.Errorf("userDto %v", u)
	}
	if ts := p.Objects[0]["timestamp"]; ts != "20/05/2026 01:00" {
		t.Errorf("raw timestamp %v", ts)
	}
	if p.Objects[0]["userDto"] != nil {
		t.Errorf("userDto %v, want null", p.Objects[0]["userDto"])
	}
}

func TestMedia(t *testing.T) {
	s := start(t, Options{})
	tok := login(t, s)
	audio := fakeaudio.Audio{Seed: 3, Size: 10_000}
	s.Add(Recording{ID: 1, Timestamp: t0, Audio: audio})
	s.Add(Recording{ID: 2, Timestamp: t0, Audio: audio, State: NotReady})
	s.Add(Recording{ID: 3, Timestamp: t0, Audio: audio, State: Gone})
	base := s.URL() + "/orktrack/rest/mediastream/"
	auth := map[string]string{"Authorization": tok}

	a := do(t, "GET", base+"1", auth)
	if a.code != 200 || a.header.Get("Content-Type") != "audio/x-wav" || a.body != string(audio.Bytes()) {
		t.Errorf("whole: HTTP %d %s, %d bytes", a.code, a.header.Get("Content-Type"), len(a.body))
	}
	a = do(t, "GET", base+"1?at="+tok+"&usage=download", nil)
	if a.code != 200 || len(a.body) != 10_000 || !strings.Contains(a.header.Get("Content-Disposition"), "1.wav") {
		t.Errorf("?at= download: HTTP %d, %d bytes, %q", a.code, len(a.body), a.header.Get("Content-Disposition"))
	}
	a = do(t, "GET", base+"1", map[string]string{"Authorization": tok, "Range": "bytes=100-199"})
	if a.code != 206 || a.body != string(audio.Bytes()[100:200]) {
		t.Errorf("range: HTTP %d, %d bytes", a.code, len(a.body))
	}
	if a = do(t, "GET", base+"2", auth); a.code != 200 || a.body != "" || a.header.Get("Content-Length") != "0" {
		t.Errorf("not ready: HTTP %d, %d bytes, Content-Length %q", a.code, len(a.body), a.header.Get("Content-Length"))
	}
	s.SetReady(2)
	if a = do(t, "GET", base+"2", auth); a.code != 200 || len(a.body) != 10_000 {
		t.Errorf("after SetReady: HTTP %d, %d bytes", a.code, len(a.body))
	}
	for _, p := range []string{"3", "4", "x"} {
		if a = do(t, "GET", base+p, auth); a.code != 404 {
			t.Errorf("%s: HTTP %d, want 404", p, a.code)
		}
	}
	if a = do(t, "GET", base+"1", nil); a.code != 401 {
		t.Errorf("no token: HTTP %d, want 401", a.code)
	}
}

func TestTokenExpiry(t *testing.T) {
	keepalive := func(s *Server, tok string) int {
		return do(t, "GET", s.URL()+"/orktrack/rest/keepalive", map[string]string{"Authorization": tok}).code
	}
	t.Run("by count", func(t *testing.T) {
		s := start(t, Options{TokenMaxRequests: 3})
		tok := login(t, s)
		for i := range 3 {
			if c := keepalive(s, tok); c != 200 {
				t.Fatalf("request %d: HTTP %d", i+1, c)
			}
		}
		if c := keepalive(s, tok); c != 401 {
			t.Fatalf("request 4: HTTP %d, want 401", c)
		}
	})
	t.Run("by idle time", func(t *testing.T) {
		clk := fakeclock.New(t0)
		s := start(t, Options{TokenTTL: 10 * time.Minute, Now: clk.Now})
		tok := login(t, s)
		clk.Advance(9 * time.Minute)
		if c := keepalive(s, tok); c != 200 {
			t.Fatalf("after 9 min: HTTP %d", c)
		}
		clk.Advance(9 * time.Minute) // keepalive kept it alive
		if c := keepalive(s, tok); c != 200 {
			t.Fatalf("9 min after keepalive: HTTP %d", c)
		}
		clk.Advance(10 * time.Minute)
		if c := keepalive(s, tok); c != 401 {
			t.Fatalf("10 min idle: HTTP %d, want 401", c)
		}
	})
	t.Run("ExpireSessions", func(t *testing.T) {
		s := start(t, Options{})
		tok := login(t, s)
		s.ExpireSessions()
		if c := keepalive(s, tok); c != 401 {
			t.Fatalf("after ExpireSessions: HTTP %d, want 401", c)
		}
		if s.Requests("/orktrack/rest/keepalive") != 1 {
			t.Errorf("Requests(keepalive) = %d", s.Requests("/orktrack/rest/keepalive"))
		}
	})
}

func TestServes20kQuickly(t *testing.T) {
	s := start(t, Options{})
	tok := login(t, s)
	const n = 20_000
	// Added in a scrambled order, as late arrivals would be.
	addN(s, n, func(i int) time.Time { return t0.Add(time.Duration(i*7919%n) * time.Second) })
	begin := time.Now()
	var last int64 = -1
	seen := 0
	for u := listURL(s, t0, t0.Add(n*time.Second), 1, 1000); u != ""; {
		var p struct {
			Objects []struct {
				Timestamp string `json:"timestamp"`
			} `json:"objects"`
			NextPageURI string `json:"nextPageUri"`
		}
		a := do(t, "GET", u, map[string]string{"Authorization": tok})
		if err := json.Unmarshal([]byte(a.body), &p); err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			ts, err := time.Parse(timestampLayout, o.Timestamp)
			if err != nil || ts.Unix() < last {
				t.Fatalf("timestamp %q after %d: out of order", o.Timestamp, last)
			}
			last = ts.Unix()
		}
		seen += len(p.Objects)
		u = p.NextPageURI
	}
	if seen != n {
		t.Fatalf("listed %d, want %d", seen, n)
	}
	// A generous bound: this is about the algorithm (sorted, binary
	// searched), not the machine. A linear scan per page would take
	// minutes; the race detector alone takes some 10 s on a loaded box.
	bound := 10 * time.Second
	if raceEnabled {
		bound = 60 * time.Second
	}
	if d := time.Since(begin); d > bound {
		t.Errorf("20 pages of 1000 took %s", d)
	}
}

func BenchmarkPageOf1000In20k(b *testing.B) {
	s, err := Start(Options{Users: map[string]string{user: pass}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addN(s, 20_000, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	s.ExpireSessions()
	tok := newGUID()
	s.sessions[tok] = &session{lastUsed: time.Now()}
	u := listURL(s, t0, t0.Add(20_000*time.Second), 10, 1000)
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), "GET", u, http.NoBody)
		req.Header.Set("Authorization", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
