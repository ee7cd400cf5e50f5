package threecx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

const recordingsPath = "/xapi/v1/Recordings"

func ids(rs []connectors.Recording) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

func wantIDs(ns ...[]int32) []string {
	var out []string
	for _, n := range ns {
		for _, id := range n {
			out = append(out, strconv.Itoa(int(id)))
		}
	}
	slices.Sort(out)
	return out
}

// TestListLowersTopOnItsRefusal: a 400 naming the limit (ASP.NET OData's
// wording) lowers $top to it at once, and the next List starts there.
func TestListLowersTopOnItsRefusal(t *testing.T) {
	srv := startFake(t, fake.Options{TopCap: 30})
	added := addRange(srv, 1, 70, base, fake.InboundExternal)
	cfg := clientConfig()
	cfg.PageSize = 100
	c := connect(t, srv.URL(), cfg, nil)

	got, err := c.List(t.Context(), base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), wantIDs(added)) {
		t.Fatalf("listed %d recordings, want the 70 added", len(got))
	}
	// 100 refused, then 30+30+10.
	if n := srv.Requests(recordingsPath); n != 4 {
		t.Errorf("%d listing requests, want 4 (a refusal, three pages)", n)
	}
	if top := c.pages.size(); top != 30 {
		t.Errorf("remembered $top %d, want 30", top)
	}
	// The next call starts at the working size, and does not probe above
	// the limit the PBX named.
	if _, err := c.List(t.Context(), base, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(recordingsPath) - 4; n != 3 {
		t.Errorf("second List made %d requests, want 3 (no refusal)", n)
	}
}

// TestListHalvesTopWithoutALimit: a 400 about $top that names no number
// (a proxy, say) halves the page size.
func TestListHalvesTopWithoutALimit(t *testing.T) {
	pbx := startFake(t, fake.Options{TopCap: -1})
	added := addRange(pbx, 1, 70, base, fake.InboundExternal)
	proxy := topProxy(t, pbx.URL(), func(top int) bool { return top > 30 })
	cfg := clientConfig()
	cfg.PageSize = 100
	c := connect(t, proxy.URL, cfg, nil)
	got, err := c.List(t.Context(), base, base.Add(time.Hour))
	if err != nil || !slices.Equal(ids(got), wantIDs(added)) {
		t.Fatalf("List = %d recordings, %v", len(got), err)
	}
	// 100 and 50 refused, then 25+25 and a probe at 50 refused (the
	// refusal at 50 is remembered: half-way is 37, refused), then 25.
	if n := pbx.Requests(recordingsPath); n != 3 {
		t.Errorf("%d requests reached the PBX, want 3 pages of 25, 25 and 20", n)
	}
	if top := c.pages.size(); top != 25 {
		t.Errorf("$top %d, want 25", top)
	}
}

func TestListDownToTopOne(t *testing.T) {
	srv := startFake(t, fake.Options{TopCap: 1})
	added := addRange(srv, 1, 3, base, fake.OutboundExternal)
	cfg := clientConfig()
	cfg.PageSize = 4
	c := connect(t, srv.URL(), cfg, nil)
	got, err := c.List(t.Context(), base, base.Add(time.Hour))
	if err != nil || !slices.Equal(ids(got), wantIDs(added)) {
		t.Fatalf("List with a cap of 1 = %v, %v", ids(got), err)
	}
	// A PBX that refuses even $top=1 gives a plain error, not a loop.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			w.Write([]byte(`{"token_type":"Bearer","expires_in":60,"access_token":"t"}`))
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"code":"400","message":"The limit of '0' for Top query has been exceeded.","details":[]}}`))
	}))
	defer refusing.Close()
	if _, err := connect(t, refusing.URL, cfg, nil).List(t.Context(), base, base.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "$top=1") {
		t.Errorf("List against a PBX refusing every $top = %v", err)
	}
}

func TestListPagesOnWhenThePBXClampsTopSilently(t *testing.T) {
	srv := startFake(t, fake.Options{TopCap: 30, TopClamp: true})
	added := addRange(srv, 1, 70, base, fake.InboundExternal)
	cfg := clientConfig()
	cfg.PageSize = 100
	got, err := connect(t, srv.URL(), cfg, nil).List(t.Context(), base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), wantIDs(added)) {
		t.Fatalf("listed %d recordings from a PBX serving 30 a page for $top=100, want all 70", len(got))
	}
}

func TestListIncludeInternal(t *testing.T) {
	for _, ignoreFilter := range []bool{false, true} {
		t.Run(fmt.Sprintf("server ignores $filter=%v", ignoreFilter), func(t *testing.T) {
			srv := startFake(t, fake.Options{IgnoreFilter: ignoreFilter})
			in := addRange(srv, 1, 4, base, fake.InboundExternal)
			out := addRange(srv, 100, 4, base.Add(time.Minute), fake.OutboundExternal)
			local := addRange(srv, 200, 4, base.Add(2*time.Minute), fake.Local)
			addRange(srv, 300, 3, base.Add(-time.Hour), fake.InboundExternal) // before the window
			addRange(srv, 400, 3, base.Add(time.Hour), fake.Local)            // at its end, excluded
			for _, tc := range []struct {
				include bool
				want    []string
			}{
				{false, wantIDs(in, out)},
				{true, wantIDs(in, out, local)},
			} {
				cfg := clientConfig()
				cfg.PageSize = 5
				cfg.IncludeInternal = tc.include
				got, err := connect(t, srv.URL(), cfg, nil).List(t.Context(), base, base.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(got), tc.want) {
					t.Errorf("IncludeInternal=%v listed %v, want %v", tc.include, ids(got), tc.want)
				}
				for _, r := range got {
					if r.Direction != "in" && r.Direction != "out" || r.Invalid != nil {
						t.Errorf("recording %s: direction %q, invalid %v", r.ID, r.Direction, r.Invalid)
					}
				}
			}
		})
	}
}

// TestListDnTypes: a null CallType is inferred from the DnTypes, int32 as
// every swagger version has them, or enum names should a PBX send those.
func TestListDnTypes(t *testing.T) {
	for _, names := range []bool{false, true} {
		srv := startFake(t, fake.Options{DnTypeNames: names})
		r := fake.NewRecording(9, base, "", 9) // CallType null: inferred from the DnTypes
		r.ToCallerNumber = nil                 // not "Ext.…": the DnType alone tells
		srv.Add(r)
		got, err := connect(t, srv.URL(), clientConfig(), nil).List(t.Context(), base, base.Add(time.Minute))
		if err != nil || len(got) != 1 {
			t.Fatalf("List = %v, %v", got, err)
		}
		if got[0].Invalid != nil || got[0].Direction != "in" || got[0].AgentNumber != *r.ToDn {
			t.Errorf("names=%v: null CallType mapped to %+v", names, got[0])
		}
	}
}

func TestListForbiddenRole(t *testing.T) {
	srv := startFake(t, fake.Options{Clients: map[string]fake.Client{clientID: {Secret: clientSecret, Role: "user"}}})
	c := connect(t, srv.URL(), clientConfig(), nil)
	_, err := c.List(t.Context(), base, base.Add(time.Hour))
	if !errors.Is(err, connectors.ErrForbidden) {
		t.Fatalf("List with a low role = %v, want ErrForbidden", err)
	}
	for _, s := range []string{"role is too low", "System Owner", "Integrations → API"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if err := c.Check(t.Context()); !errors.Is(err, connectors.ErrForbidden) {
		t.Errorf("Check with a low role = %v, want ErrForbidden", err)
	}
	if _, err := c.Open(t.Context(), connectors.Recording{ID: "1"}); !errors.Is(err, connectors.ErrForbidden) || connectors.Permanent(err) {
		t.Errorf("Open with a low role = %v, want ErrForbidden", err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d log-ins; a 403 must not cause another", n)
	}
	t.Log(err)
}

func TestListGatewayTimeout(t *testing.T) {
	srv := startFake(t, fake.Options{MaxQueryMatches: 10})
	addRange(srv, 1, 20, base, fake.InboundExternal)
	_, err := connect(t, srv.URL(), clientConfig(), nil).List(t.Context(), base, base.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "504") || !strings.Contains(err.Error(), "retried") || connectors.Permanent(err) {
		t.Fatalf("List of a too large query = %v, want a retryable error about the 504", err)
	}
}

func TestListStopsWhenThePBXIgnoresSkip(t *testing.T) {
	page := `{"value":[{"Id":1,"StartTime":"2026-05-20T01:00:00Z","CallType":"InboundExternal","ToDn":"101"},` +
		`{"Id":2,"StartTime":"2026-05-20T01:00:01Z","CallType":"InboundExternal","ToDn":"101"}]}`
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			w.Write([]byte(`{"token_type":"Bearer","expires_in":60,"access_token":"t"}`))
			return
		}
		w.Write([]byte(page))
	}))
	defer pbx.Close()
	cfg := clientConfig()
	cfg.PageSize = 2
	_, err := connect(t, pbx.URL, cfg, nil).List(t.Context(), base, base.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "$skip") {
		t.Fatalf("List from a PBX ignoring $skip = %v, want an error naming $skip", err)
	}
}

// TestRequestsCarryHeadersNotSecrets checks what goes on the wire: the
// User-Agent and Bearer token on every request, the client credentials in
// the form, and that no error repeats the token or a secret.
func TestRequestsCarryHeadersNotSecrets(t *testing.T) {
	const access = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA"
	var mu sync.Mutex
	var failures []string
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if ua := r.Header.Get("User-Agent"); ua != "syncd-test/1.0" {
			failures = append(failures, r.URL.Path+": User-Agent "+ua)
		}
		switch r.URL.Path {
		case "/connect/token":
			if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != clientID ||
				r.PostForm.Get("client_secret") != clientSecret || r.PostForm.Get("grant_type") != "client_credentials" {
				failures = append(failures, fmt.Sprintf("token form %v (%v)", r.PostForm, err))
			}
			json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 60, "access_token": access, "refresh_token": nil})
		default:
			if r.Header.Get("Authorization") != "Bearer "+access {
				failures = append(failures, r.URL.Path+": Authorization "+r.Header.Get("Authorization"))
			}
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":{"code":"500","message":"token ` + access + ` and secret ` + clientSecret + ` echoed","details":[]}}`))
		}
	}))
	defer pbx.Close()
	c := connect(t, pbx.URL, clientConfig(), nil)
	_, listErr := c.List(t.Context(), base, base.Add(time.Hour))
	_, openErr := c.Open(t.Context(), connectors.Recording{ID: "5"})
	for _, err := range []error{listErr, openErr} {
		if err == nil {
			t.Fatal("a 500 gave no error")
		}
		if strings.Contains(err.Error(), clientSecret) || strings.Contains(err.Error(), access) {
			t.Errorf("error %q contains the client secret or the access token", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failures) > 0 {
		t.Errorf("requests: %v", failures)
	}
}

// TestKeysetTiesAndFractions: rows sharing a StartTime across page
// boundaries (ties broken by Id) and StartTimes to the tick (7 fractional
// digits) are each listed once, with one request a page.
func TestKeysetTiesAndFractions(t *testing.T) {
	srv := startFake(t, fake.Options{})
	var want []int32
	for i := range 25 {
		id := int32(100 - i) // Ids against the time order
		at := base.Add(time.Duration(i/10) * 1234567 * 100 * time.Nanosecond)
		srv.Add(fake.NewRecording(id, at, fake.OutboundExternal, uint64(i)))
		want = append(want, id)
	}
	cfg := clientConfig()
	cfg.PageSize = 4
	got, err := connect(t, srv.URL(), cfg, nil).List(t.Context(), base, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), wantIDs(want)) {
		t.Fatalf("listed %v, want %v", ids(got), wantIDs(want))
	}
	if n := srv.Requests(recordingsPath); n != 7 {
		t.Errorf("%d requests, want 7 pages of 4 (the last short)", n)
	}
}
