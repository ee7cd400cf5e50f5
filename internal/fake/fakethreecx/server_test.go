package fakethreecx

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakeclock"
)

var at0 = time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Clients == nil {
		opts.Clients = map[string]Client{"api": {Secret: "s3cret"}, "low": {Secret: "s3cret", Role: "user"}}
	}
	if opts.Users == nil {
		opts.Users = map[string]User{"alice": {Password: "pw"}, "bob": {Password: "pw", MFA: true}}
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func clientToken(t *testing.T, s *Server, id, secret string) response {
	t.Helper()
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// accessToken logs in as client id and returns the access token.
func accessToken(t *testing.T, s *Server, id string) string {
	t.Helper()
	r := clientToken(t, s, id, "s3cret")
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &body) != nil || body.AccessToken == "" {
		t.Fatalf("log-in as %s: %d %s", id, r.status, r.body)
	}
	return body.AccessToken
}

func get(t *testing.T, s *Server, tok, pathAndQuery string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not header.payload.signature", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientToken(t *testing.T) {
	clock := fakeclock.New(at0)
	s := start(t, Options{Now: clock.Now, ExpiresUnit: time.Second, ExpiresIn: 90})

	r := clientToken(t, s, "api", "s3cret")
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != http.StatusOK {
		t.Fatalf("urlencoded log-in: %d %s", r.status, r.body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(90) || body["refresh_token"] != nil {
		t.Errorf("token answer %v", body)
	}
	c := claims(t, body["access_token"].(string))
	if c["exp"] != float64(at0.Unix()+90) || c["iat"] != float64(at0.Unix()) || c["sub"] != "api" {
		t.Errorf("claims %v, want exp=iat+90 and sub api", c)
	}

	// multipart/form-data, as 3CX's own client sends it.
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	for k, v := range map[string]string{"client_id": "api", "client_secret": "s3cret", "grant_type": "client_credentials"} {
		w.WriteField(k, v)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/connect/token", &mp)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if r := do(t, req); r.status != http.StatusOK {
		t.Errorf("multipart log-in: %d %s", r.status, r.body)
	}

	for _, tc := range []struct{ id, secret string }{{"api", "nope"}, {"nobody", "s3cret"}, {"api", ""}} {
		r := clientToken(t, s, tc.id, tc.secret)
		var e map[string]string
		if r.status != http.StatusUnauthorized || json.Unmarshal(r.body, &e) != nil || e["error"] != "unauthorized" || e["error_description"] == "" {
			t.Errorf("log-in %s/%s: %d %s, want 401 unauthorized", tc.id, tc.secret, r.status, r.body)
		}
	}
	if n := s.TokenRequests(); n != 5 {
		t.Errorf("TokenRequests = %d, want 5", n)
	}
}

func TestTokenLifecycle(t *testing.T) {
	clock := fakeclock.New(at0)
	s := start(t, Options{Now: clock.Now, Version: "20.0.8"}) // 60, in minutes before 20.0.9
	first := accessToken(t, s, "api")
	if r := get(t, s, first, "/xapi/v1/Recordings"); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", r.status, r.body)
	}
	// A new token revokes the client's previous one, not other clients'.
	other := accessToken(t, s, "low")
	second := accessToken(t, s, "api")
	if r := get(t, s, first, "/xapi/v1/Recordings"); r.status != http.StatusUnauthorized {
		t.Errorf("replaced token: %d, want 401", r.status)
	}
	if r := get(t, s, other, "/xapi/v1/Recordings"); r.status != http.StatusForbidden {
		t.Errorf("other client's token: %d, want 403 (its role)", r.status)
	}
	// It expires 60 minutes (ExpiresUnit) later, by the clock.
	clock.Advance(59 * time.Minute)
	if r := get(t, s, second, "/xapi/v1/Recordings"); r.status != http.StatusOK {
		t.Errorf("token at 59 min: %d", r.status)
	}
	clock.Advance(time.Minute)
	r := get(t, s, second, "/xapi/v1/Recordings")
	var e struct {
		Error struct {
			Code, Message string
			Details       []any
		} `json:"error"`
	}
	if r.status != http.StatusUnauthorized || json.Unmarshal(r.body, &e) != nil || e.Error.Message == "" || e.Error.Details == nil {
		t.Errorf("expired token: %d %s, want 401 with the error body", r.status, r.body)
	}
	third := accessToken(t, s, "api")
	s.RevokeTokens()
	if r := get(t, s, third, "/xapi/v1/Recordings"); r.status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", r.status)
	}
	if r := get(t, s, "", "/xapi/v1/Recordings"); r.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.status)
	}
	if n := s.Unauthorized(); n != 4 {
		t.Errorf("Unauthorized = %d, want 4", n)
	}
}

func TestNoExpClaim(t *testing.T) {
	s := start(t, Options{NoExpClaim: true})
	if c := claims(t, accessToken(t, s, "api")); c["exp"] != nil || c["iat"] == nil {
		t.Errorf("claims %v, want iat and no exp", c)
	}
}

func TestUserLogin(t *testing.T) {
	s := start(t, Options{ExpiresIn: 30, ExpiresUnit: time.Second})
	login := func(user, password string) response {
		b, _ := json.Marshal(map[string]string{"Username": user, "Password": password, "SecurityCode": ""})
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/webclient/api/Login/GetAccessToken", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	r := login("alice", "pw")
	var ok struct {
		Status string
		Token  struct {
			AccessToken  string `json:"access_token"`
			ExpiresIn    int    `json:"expires_in"`
			TokenType    string `json:"token_type"`
			RefreshToken string `json:"refresh_token"`
		}
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &ok) != nil || ok.Status != "AuthSuccess" ||
		ok.Token.AccessToken == "" || ok.Token.ExpiresIn != 30 || ok.Token.TokenType != "Bearer" || ok.Token.RefreshToken == "" {
		t.Fatalf("user log-in: %d %s", r.status, r.body)
	}
	if r := get(t, s, ok.Token.AccessToken, "/xapi/v1/Recordings"); r.status != http.StatusOK {
		t.Errorf("user token on Recordings: %d", r.status)
	}
	if r := login("alice", "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", r.status)
	}
	r = login("bob", "pw")
	var mfa map[string]any
	if r.status != http.StatusOK || json.Unmarshal(r.body, &mfa) != nil || mfa["Status"] != "AuthFailed" || mfa["Token"] != nil ||
		mfa["TwoFactorAuth"] == nil {
		t.Errorf("MFA user: %d %s", r.status, r.body)
	}
	// A success carries "TwoFactorAuth":null.
	var success map[string]any
	if json.Unmarshal(login("alice", "pw").body, &success) != nil || success["TwoFactorAuth"] != nil {
		t.Errorf("success: %v", success)
	} else if _, ok := success["TwoFactorAuth"]; !ok {
		t.Errorf("success without TwoFactorAuth: %v", success)
	}

	// The other answer seen for a wrong password.
	s = start(t, Options{WrongPassword: WrongPasswordAuthFailed})
	r = login("alice", "wrong")
	var failed map[string]any
	if r.status != http.StatusOK || json.Unmarshal(r.body, &failed) != nil || failed["Status"] != "AuthFailed" || failed["Token"] != nil || failed["TwoFactorAuth"] != nil {
		t.Errorf("wrong password, AuthFailed knob: %d %s", r.status, r.body)
	}
	if s.Logins() != 0 {
		t.Errorf("Logins = %d after a refusal", s.Logins())
	}
}

// TestLoginConcurrencyCounted holds four log-ins inside the handler at
// once, so that the in-flight maximum the connector tests rely on is
// proven to see overlap.
func TestLoginConcurrencyCounted(t *testing.T) {
	s := &Server{}
	arrived, release := make(chan struct{}), make(chan struct{})
	h := s.loginHandler(func(http.ResponseWriter, *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { h(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/connect/token", nil)) })
	}
	for range 4 {
		<-arrived
	}
	close(release)
	wg.Wait()
	if s.TokenRequests() != 4 || s.ConcurrentTokenRequestsMax() != 4 {
		t.Errorf("%d log-ins counted, %d at once at most; want 4 and 4", s.TokenRequests(), s.ConcurrentTokenRequestsMax())
	}
}

// page decodes a Recordings answer.
type page struct {
	Context  string            `json:"@odata.context"`
	Count    *int              `json:"@odata.count"`
	NextLink *string           `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

func listing(t *testing.T, s *Server, tok string, q url.Values) (page, response) {
	t.Helper()
	r := get(t, s, tok, "/xapi/v1/Recordings?"+strings.ReplaceAll(q.Encode(), "+", "%20"))
	var p page
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
	}
	return p, r
}

func idsOf(t *testing.T, p page) []int {
	t.Helper()
	var out []int
	for _, raw := range p.Value {
		var r struct{ Id int }
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Id)
	}
	return out
}

func TestRecordingsQueryOptions(t *testing.T) {
	s := start(t, Options{TopCap: 5})
	for i := range 8 {
		callType := []string{InboundExternal, OutboundExternal, Local, ""}[i%4]
		s.Add(NewRecording(int32(10-i), at0.Add(time.Duration(i)*time.Minute), callType, uint64(i))) // Ids 10…3, later start, smaller Id
	}
	tok := accessToken(t, s, "api")
	window := "StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T01:06:00Z"
	for _, tc := range []struct {
		name string
		q    url.Values
		want []int
	}{
		{"filter and order", url.Values{"$filter": {window}, "$orderby": {"StartTime asc,Id asc"}}, []int{10, 9, 8, 7, 6, 5}},
		{"top and skip", url.Values{"$filter": {window}, "$orderby": {"StartTime asc"}, "$top": {"2"}, "$skip": {"3"}}, []int{7, 6}},
		{"skip past the end", url.Values{"$filter": {window}, "$skip": {"100"}}, nil},
		{"not Local, null CallType kept", url.Values{"$filter": {window + " and CallType ne 'Local'"}}, []int{10, 9, 7, 6, 5}},
		{"order by Id", url.Values{"$orderby": {"Id"}, "$top": {"3"}}, []int{3, 4, 5}},
		{"order by StartTime desc", url.Values{"$orderby": {"StartTime desc"}, "$top": {"3"}}, []int{3, 4, 5}},
		{"order by CallType then Id desc", url.Values{"$orderby": {"CallType asc, Id desc"}}, []int{7, 3, 10, 6, 8, 4, 9, 5}},
		{"Id filter, Id order", url.Values{"$filter": {"Id gt 6"}, "$orderby": {"Id asc"}}, []int{7, 8, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r := listing(t, s, tok, tc.q)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			got := idsOf(t, p)
			if len(got) != len(tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ids %v, want %v", got, tc.want)
				}
			}
			if p.NextLink != nil || p.Count != nil || p.Context != s.URL()+"/xapi/v1/$metadata#Recordings" {
				t.Errorf("context %q, count %v, nextLink %v", p.Context, p.Count, p.NextLink)
			}
		})
	}

	p, _ := listing(t, s, tok, url.Values{"$filter": {window}, "$count": {"true"}, "$top": {"1"}})
	if p.Count == nil || *p.Count != 6 || len(p.Value) != 1 {
		t.Errorf("$count=true: count %v, %d values", p.Count, len(p.Value))
	}

	p, _ = listing(t, s, tok, url.Values{"$select": {"Id,CallType,Summary,ToDn"}, "$filter": {"Id eq 7"}})
	var obj map[string]any
	if len(p.Value) != 1 || json.Unmarshal(p.Value[0], &obj) != nil || len(obj) != 2 {
		t.Fatalf("$select: %s", p.Value)
	}
	if obj["Id"] != float64(7) || obj["ToDn"] == nil || !strings.HasSuffix(p.Context, "#Recordings(Id,CallType,Summary,ToDn)") {
		t.Errorf("$select: %v (context %s), want Id and ToDn, the null CallType and Summary left out", obj, p.Context)
	}

	for _, tc := range []struct {
		q      url.Values
		status int
		says   string
	}{
		{url.Values{"$top": {"6"}}, http.StatusBadRequest, "The limit of '5' for Top query has been exceeded"},
		{url.Values{"$top": {"-1"}}, http.StatusBadRequest, "$top"},
		{url.Values{"$skip": {"x"}}, http.StatusBadRequest, "$skip"},
		{url.Values{"$count": {"yes"}}, http.StatusBadRequest, "count"},
		{url.Values{"$orderby": {"Nope asc"}}, http.StatusBadRequest, "Nope"},
		{url.Values{"$orderby": {"Id sideways"}}, http.StatusBadRequest, "sideways"},
		{url.Values{"$select": {"Id,Nope"}}, http.StatusBadRequest, "Nope"},
		{url.Values{"$expand": {"x"}}, http.StatusBadRequest, "$expand"},
		{url.Values{"$filter": {"StartTime ge 2026-02-30T00:00:00Z"}}, http.StatusInternalServerError, "DateTimeOffset"},
		{url.Values{"$filter": {"StartTime ge"}}, http.StatusBadRequest, ""},
	} {
		_, r := listing(t, s, tok, tc.q)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if r.status != tc.status || json.Unmarshal(r.body, &e) != nil || !strings.Contains(e.Error.Message, tc.says) {
			t.Errorf("%v: %d %s, want %d saying %q", tc.q, r.status, r.body, tc.status, tc.says)
		}
	}

	if r := get(t, s, tok, "/xapi/v1/Recordings(7)"); r.status != http.StatusNotFound {
		t.Errorf("Recordings(7): %d, want 404", r.status)
	}
	if n := s.Requests("/xapi/v1/Recordings(7)"); n != 1 {
		t.Errorf("Requests(Recordings(7)) = %d", n)
	}
}

func TestRecordingsKnobs(t *testing.T) {
	s := start(t, Options{TopCap: 2, TopClamp: true, MaxQueryMatches: 3})
	for i := range 4 {
		s.Add(NewRecording(int32(i+1), at0.Add(time.Duration(i)*time.Minute), InboundExternal, uint64(i)))
	}
	tok := accessToken(t, s, "api")
	p, r := listing(t, s, tok, url.Values{"$filter": {"Id le 3"}, "$top": {"10"}})
	if r.status != http.StatusOK || len(p.Value) != 2 {
		t.Fatalf("clamped $top: %d, %d values", r.status, len(p.Value))
	}
	var rec map[string]any
	json.Unmarshal(p.Value[0], &rec)
	if rec["FromDnType"] != float64(1) || rec["ToDnType"] != float64(0) {
		t.Errorf("DnTypes %v, %v; want the int32s 1 and 0", rec["FromDnType"], rec["ToDnType"])
	}
	if _, r := listing(t, s, tok, url.Values{"$top": {"1"}}); r.status != http.StatusGatewayTimeout {
		t.Errorf("query matching 4 > 3: %d, want 504", r.status)
	}

	ig := start(t, Options{IgnoreFilter: true})
	ig.Add(NewRecording(1, at0, Local, 1))
	p, _ = listing(t, ig, accessToken(t, ig, "api"), url.Values{"$filter": {"CallType ne 'Local'"}})
	if len(p.Value) != 1 {
		t.Errorf("IgnoreFilter served %d, want the 1 Local call", len(p.Value))
	}
}

func TestLowRoleForbidden(t *testing.T) {
	s := start(t, Options{})
	s.Add(NewRecording(1, at0, InboundExternal, 1))
	tok := accessToken(t, s, "low")
	for _, path := range []string{"/xapi/v1/Recordings", "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=1)"} {
		if r := get(t, s, tok, path); r.status != http.StatusForbidden || !bytes.Contains(r.body, []byte(`"error"`)) {
			t.Errorf("%s with a low role: %d %s", path, r.status, r.body)
		}
	}
}

func TestDownload(t *testing.T) {
	s := start(t, Options{SlowDelay: 10 * time.Millisecond})
	tok := accessToken(t, s, "api")
	audio := fakeaudio.Audio{Seed: 4, Size: 70_001}
	for i, st := range []DownloadState{Ready, ZeroByteUntilReady, Truncated, Archived, Slow} {
		r := NewRecording(int32(i+1), at0, InboundExternal, uint64(i))
		r.Audio, r.State = audio, st
		s.Add(r)
	}
	path := func(id int) string {
		return "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=" + strconv.Itoa(id) + ")"
	}
	for _, id := range []int{1, 5} {
		r := get(t, s, tok, path(id))
		if r.status != http.StatusOK || sha256.Sum256(r.body) != audio.Sum() || r.header.Get("Content-Type") != "audio/x-wav" {
			t.Errorf("recording %d: %d, %d bytes, %s", id, r.status, len(r.body), r.header.Get("Content-Type"))
		}
	}
	if r := get(t, s, tok, path(2)); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("zero-byte: %d, %d bytes", r.status, len(r.body))
	}
	// Truncated: Content-Length promises the file, half comes.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path(3), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ContentLength != audio.Size || n != audio.Size/2 || err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: Content-Length %d, %d bytes, %v", resp.ContentLength, n, err)
	}
	s.SetReady(2)
	s.SetReady(3)
	for _, id := range []int{2, 3} {
		if r := get(t, s, tok, path(id)); sha256.Sum256(r.body) != audio.Sum() {
			t.Errorf("recording %d once ready: %d bytes", id, len(r.body))
		}
	}
	for _, p := range []string{path(4), path(99), "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=x)",
		"/xapi/v1/Recordings/Pbx.DownloadRecording(1)", "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=99999999999)", "/xapi/v1/Recordings/Other(recId=1)"} {
		if r := get(t, s, tok, p); r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.status)
		}
	}
	if r := get(t, s, "", path(1)); r.status != http.StatusUnauthorized {
		t.Errorf("download without a token: %d", r.status)
	}
}

func TestNewRecordingLooksReal(t *testing.T) {
	for _, tc := range []struct {
		callType       string
		fromExt, toExt bool
		nullCallType   bool
		customerOnFrom bool
	}{
		{InboundExternal, false, true, false, true},
		{OutboundExternal, true, false, false, false},
		{Local, true, true, false, false},
		{"", false, true, true, true},
	} {
		r := NewRecording(42, at0, tc.callType, 9)
		b, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, null := range []string{"Transcription", "Summary", "SentimentScore", "ArchivedUrl", "FromCrmContact", "ToCrmContact"} {
			if v, ok := m[null]; !ok || v != nil {
				t.Errorf("%s: %s = %v, want a nil field", tc.callType, null, v)
			}
		}
		if (m["CallType"] == nil) != tc.nullCallType {
			t.Errorf("%q: CallType %v", tc.callType, m["CallType"])
		}
		if got := strings.HasPrefix(*r.FromCallerNumber, "Ext.") && *r.FromDnType == DnExtension; got != tc.fromExt {
			t.Errorf("%q: From %s (%d)", tc.callType, *r.FromCallerNumber, *r.FromDnType)
		}
		if got := strings.HasPrefix(*r.ToCallerNumber, "Ext.") && *r.ToDnType == DnExtension; got != tc.toExt {
			t.Errorf("%q: To %s (%d)", tc.callType, *r.ToCallerNumber, *r.ToDnType)
		}
		if tc.customerOnFrom && (r.FromDidNumber == nil || strings.HasPrefix(*r.FromDidNumber, "+")) {
			t.Errorf("%q: DID %v, want one without +", tc.callType, r.FromDidNumber)
		}
		if u := *r.RecordingURL; strings.Contains(u, "://") || strings.HasPrefix(u, "/") || !strings.HasSuffix(u, ".wav") {
			t.Errorf("RecordingUrl %q is not a relative file path", u)
		}
		if d := r.EndTime.Sub(*r.StartTime); d <= 0 || r.Audio.Size != fakeaudio.HeaderSize+int64(d/time.Second)*16000 {
			t.Errorf("duration %v, audio %d bytes", d, r.Audio.Size)
		}
		if again := NewRecording(42, at0, tc.callType, 9); *again.FromCallerNumber != *r.FromCallerNumber || *again.EndTime != *r.EndTime {
			t.Error("NewRecording is not deterministic")
		}
	}
}

func TestSampleDay(t *testing.T) {
	day := time.Date(2026, 5, 20, 15, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	recs := SampleDay(day, 200, 1)
	if len(recs) != 200 {
		t.Fatalf("%d recordings", len(recs))
	}
	kinds := map[string]int{}
	for i, r := range recs {
		local := r.StartTime.In(day.Location())
		if r.ID != int32(i+1) || local.Hour() < 8 || local.Hour() >= 18 || local.Day() != 20 || r.State != Ready {
			t.Errorf("recording %d: Id %d at %v, state %v", i, r.ID, local, r.State)
		}
		if i > 0 && r.StartTime.Before(*recs[i-1].StartTime) {
			t.Errorf("recording %d starts before the one before it", r.ID)
		}
		kinds[*r.CallType]++
	}
	if kinds[InboundExternal] == 0 || kinds[OutboundExternal] == 0 || kinds[Local] == 0 {
		t.Errorf("call types %v, want all three", kinds)
	}
}

// TestListFiftyThousand pages through 50,000 recordings with the
// connector's query, and checks each appears once, in order. (The
// connector's BenchmarkList50k does it in pages of 100.)
func TestListFiftyThousand(t *testing.T) {
	s := start(t, Options{TopCap: 1000})
	const n = 50_000
	for i := range n {
		st := at0.Add(time.Duration(i) * time.Second)
		s.Add(Recording{ID: int32(i + 1), StartTime: &st, CallType: new(InboundExternal)})
	}
	tok := accessToken(t, s, "api")
	seen := 0
	for skip := 0; ; skip += 1000 {
		q := url.Values{"$filter": {"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-22T00:00:00Z and CallType ne 'Local'"},
			"$orderby": {"StartTime asc,Id asc"}, "$top": {"1000"}, "$skip": {strconv.Itoa(skip)}, "$select": {"Id"}}
		p, r := listing(t, s, tok, q)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, id := range idsOf(t, p) {
			seen++
			if id != seen {
				t.Fatalf("recording %d where %d was due", id, seen)
			}
		}
		if len(p.Value) < 1000 {
			break
		}
	}
	if seen != n {
		t.Fatalf("paged through %d recordings, want %d", seen, n)
	}
}
