package dtac

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

// payloadPortal serves the answers in testdata/payloads: the log-in answer
// login (a GUID of its own when ""), and listing answers pages in turn,
// an empty last page after them.
func payloadPortal(t *testing.T, login string, pages ...string) *spy {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join("testdata", "payloads", name+".provenance")); err != nil {
			t.Fatalf("%s has no provenance: %v", name, err)
		}
		return b
	}
	loginBody := []byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`)
	if login != "" {
		loginBody = read(login)
	}
	var bodies [][]byte
	for _, p := range pages {
		bodies = append(bodies, read(p))
	}
	n := 0
	return newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/orktrack/rest/user/login" {
			_, _ = w.Write(loginBody)
			return
		}
		if n < len(bodies) {
			_, _ = w.Write(bodies[n])
		} else {
			_, _ = w.Write([]byte(`{"objects":[],"nextPageUri":null,"limitReached":false,"pageSize":20}`))
		}
		n++
	}))
}

// listingRequests are the requests p got other than log-ins.
func listingRequests(p *spy) []seenRequest {
	var out []seenRequest
	for _, r := range p.requests() {
		if r.Path != "/orktrack/rest/user/login" {
			out = append(out, r)
		}
	}
	return out
}

func TestPayloadRecordings(t *testing.T) {
	bkk := bangkok(t)
	for _, tc := range []struct {
		file     string
		from, to time.Time
		want     []connectors.Recording
		requests int
		paths    []string // of the listing requests
	}{
		{
			// One short page of a reported pageSize 20 ends the listing; its
			// nextPageUri ("https://.../…", host "...") would never be
			// followed anyway.
			file: "recordings-screenshot.json",
			from: time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC), to: time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC),
			want: []connectors.Recording{{
				ID: "100659220", DataID: "dtac-100659220",
				CallAt: time.Date(2026, 6, 2, 16, 23, 27, 0, bkk), Duration: 54 * time.Second,
				Direction: "", // no direction in what the screenshot kept: SYNCD_UNKNOWN_DIRECTION decides
			}},
			requests: 1,
			paths:    []string{"/orktrack/rest/recordings"},
		},
		{
			// No pageSize: the short page does not end the listing, and the
			// relative nextPageUri "...&page=2" stays on the portal's host.
			file: "recordings-howto.json",
			from: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), to: time.Date(2026, 6, 15, 11, 0, 0, 0, time.UTC),
			want: []connectors.Recording{{
				ID: "100659220", DataID: "dtac-100659220",
				CallAt: time.Date(2026, 6, 15, 17, 23, 27, 0, bkk), Duration: 183 * time.Second,
				Direction: "out", AgentNumber: "+66812345678",
			}},
			requests: 2,
			paths:    []string{"/orktrack/rest/recordings", "/orktrack/rest/...&page=2"},
		},
		{
			file: "recordings-sourcesmd.json",
			from: time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC), to: time.Date(2026, 5, 20, 2, 0, 0, 0, time.UTC),
			want: []connectors.Recording{{
				ID: "100659220", DataID: "dtac-100659220",
				CallAt: time.Date(2026, 5, 20, 8, 14, 0, 0, bkk), Duration: 95 * time.Second,
				Direction: "in", CustomerPhone: "+6621234567", AgentNumber: "+66812345678", AgentName: "สมชาย ใจดี",
			}, {
				ID: "100659221", DataID: "dtac-100659221",
				CallAt: time.Date(2026, 5, 20, 8, 20, 31, 0, bkk), Duration: 12 * time.Second,
				Direction: "out", CustomerPhone: "+66891234567", AgentNumber: "+66812345678",
			}},
			requests: 1,
			paths:    []string{"/orktrack/rest/recordings"},
		},
		{
			// limitReached: true on a short page without a next page: the
			// connector asks once past the newest recording seen, gets
			// nothing new (here, nothing at all) and ends the listing.
			file: "recordings-last-page-derived.json",
			from: time.Date(2026, 5, 20, 3, 0, 0, 0, time.UTC), to: time.Date(2026, 5, 20, 4, 0, 0, 0, time.UTC),
			want: []connectors.Recording{{
				ID: "100659301", DataID: "dtac-100659301",
				CallAt: time.Date(2026, 5, 20, 10, 0, 5, 0, bkk), Duration: 41 * time.Second,
				Direction: "", CustomerPhone: "+66891112222", AgentNumber: "+66812345678", // UNKN
			}, {
				ID: "100659302", DataID: "dtac-100659302",
				CallAt: time.Date(2026, 5, 20, 10, 2, 10, 0, bkk), Duration: 8 * time.Second,
				Direction: "", CustomerPhone: "+66891113333", AgentNumber: "+66812345678", // none
			}},
			requests: 2,
			paths:    []string{"/orktrack/rest/recordings", "/orktrack/rest/recordings"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := payloadPortal(t, "", tc.file)
			c := newTestConnector(t, p.URL, testPass, 20)
			got, err := c.List(ctxT(t), tc.from, tc.to)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d recordings, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, r := range got {
				want := tc.want[i]
				if !r.CallAt.Equal(want.CallAt) || r.CallAt.Location().String() != "Asia/Bangkok" {
					t.Errorf("%s: CallAt %s, want %s", r.ID, r.CallAt, want.CallAt)
				}
				r.CallAt, want.CallAt = time.Time{}, time.Time{}
				if r != want {
					t.Errorf("recording %d:\n got  %+v\n want %+v", i, r, want)
				}
			}
			reqs := listingRequests(p)
			if len(reqs) != tc.requests {
				t.Errorf("%d listing requests, want %d", len(reqs), tc.requests)
			}
			for i, r := range reqs {
				if i < len(tc.paths) && r.Path != tc.paths[i] {
					t.Errorf("request %d: %s, want %s", i+1, r.Path, tc.paths[i])
				}
				if got := r.Header.Get("Authorization"); got != "11111111-2222-4333-8444-555555555555" {
					t.Errorf("request %d: Authorization %q, want the raw token", i+1, got)
				}
			}
			if tc.file == "recordings-last-page-derived.json" && len(reqs) == 2 {
				if q := reqs[1].RawQuery; !strings.Contains(q, "startdate=20260520_030210") || !strings.Contains(q, "page=1&") {
					t.Errorf("the request past the last page asked %s, want page 1 from 03:02:10", q)
				}
			}
		})
	}
}

// TestPayloadLogin: the log-in answers found, read through the real log-in
// path: accesstoken is taken, everything else ignored, and the token is
// sent as is on the next request.
func TestPayloadLogin(t *testing.T) {
	for _, tc := range []struct{ file, token string }{
		{"login-howto.json", "a1b2c3d4-xxxx-xxxx-xxxx-..."},
		{"login-sourcesmd.json", "0b7e5c3a-91d4-4f0e-8a6b-2c9d7e1f3a45"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := payloadPortal(t, tc.file, "recordings-sourcesmd.json")
			c := newTestConnector(t, p.URL, testPass, 20)
			if err := c.Check(ctxT(t)); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := c.auth.Current(); got != tc.token {
				t.Fatalf("token %q, want %q", got, tc.token)
			}
			recs, err := c.List(ctxT(t), time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC), time.Date(2026, 5, 20, 2, 0, 0, 0, time.UTC))
			if err != nil || len(recs) != 2 {
				t.Fatalf("List: %d, %v", len(recs), err)
			}
			reqs := p.requests()
			if len(reqs) != 2 || reqs[0].Path != "/orktrack/rest/user/login" || reqs[0].Method != http.MethodPost {
				t.Fatalf("requests %+v, want a log-in then a listing", reqs)
			}
			if got := reqs[1].Header.Get("Authorization"); got != tc.token {
				t.Errorf("listing sent Authorization %q, want %q", got, tc.token)
			}
		})
	}
}
