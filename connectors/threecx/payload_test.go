package threecx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

// payload reads testdata/payloads/name, which must have its provenance.
func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("testdata", "payloads", name+".provenance")); err != nil {
		t.Fatalf("%s has no provenance: %v", name, err)
	}
	return b
}

// payloadPBX answers each path with a status and a payload file's bytes
// (an empty Recordings page when a listing's is used up).
type answerFile struct {
	status int
	file   string
}

func payloadPBX(t *testing.T, answers map[string]answerFile) *httptest.Server {
	t.Helper()
	bodies := map[string][]byte{}
	for path, a := range answers {
		bodies[path] = payload(t, a.file)
	}
	served := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if strings.HasPrefix(path, "/xapi/v1/Recordings/") {
			path = "download"
		}
		a, ok := answers[path]
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
		case path == recordingsPath && served[path] > 0:
			w.Write([]byte(`{"value":[]}`))
		default:
			w.WriteHeader(a.status)
			w.Write(bodies[path])
		}
		served[path]++
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPayloadRecordingsPage serves the derived page through the
// connector's log-in and listing and checks every field of every
// recording.
func TestPayloadRecordingsPage(t *testing.T) {
	pbx := payloadPBX(t, map[string]answerFile{
		"/connect/token": {200, "token-client-credentials.json"},
		recordingsPath:   {200, "recordings-page-derived.json"},
	})
	cfg := clientConfig()
	cfg.IncludeInternal = true
	c := connect(t, pbx.URL, cfg, nil)
	from := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)
	got, err := c.List(t.Context(), from, from.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.Recording{
		{ID: "1811", DataID: "3cx-127.0.0.1-1811", CallAt: time.Date(2026, 5, 20, 1, 14, 0, 123456700, time.UTC),
			Duration: 95*time.Second + 76543300*time.Nanosecond, Direction: "in",
			CustomerPhone: "+66812345678", AgentNumber: "101", AgentName: "Somchai Jaidee", ContentType: "audio/wav"},
		{ID: "1812", DataID: "3cx-127.0.0.1-1812", CallAt: time.Date(2026, 5, 20, 1, 20, 0, 0, time.UTC),
			Duration: 2 * time.Minute, Direction: "out",
			CustomerPhone: "+6621234567", AgentNumber: "102", AgentName: "Suda Rakdee", ContentType: "audio/wav"},
		{ID: "1813", DataID: "3cx-127.0.0.1-1813", CallAt: time.Date(2026, 5, 20, 1, 30, 0, 0, time.UTC),
			Duration: time.Minute, Direction: "out",
			CustomerPhone: "120", AgentNumber: "101", AgentName: "Somchai Jaidee", ContentType: "audio/wav"},
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d recordings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.DataID != w.DataID || !g.CallAt.Equal(w.CallAt) || g.CallAt.Location() != bangkok ||
			g.Duration != w.Duration || g.Direction != w.Direction || g.CustomerPhone != w.CustomerPhone ||
			g.AgentNumber != w.AgentNumber || g.AgentName != w.AgentName || g.ContentType != w.ContentType || g.Invalid != nil {
			t.Errorf("recording %d:\n got  %+v\n want %+v", i, g, w)
		}
	}
	// Without internal calls the Local one is left out.
	pbx = payloadPBX(t, map[string]answerFile{
		"/connect/token": {200, "token-client-credentials.json"},
		recordingsPath:   {200, "recordings-page-derived.json"},
	})
	cfg.IncludeInternal = false
	got, err = connect(t, pbx.URL, cfg, nil).List(t.Context(), from, from.Add(time.Hour))
	if err != nil || len(got) != 2 {
		t.Errorf("without internal calls: %d recordings, %v; want 2 (the Local one left out)", len(got), err)
	}
}

// TestPayloadSwaggerExample: the official example record is read whole,
// and quarantined for its placeholder StartTime.
func TestPayloadSwaggerExample(t *testing.T) {
	m := mapper{host: "acme.3cx.co.th", region: "TH", loc: bangkok}
	rec, id, internal, err := m.decode(payload(t, "recording-swagger-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if id != 0 || rec.ID != "0" || rec.DataID != "3cx-acme.3cx.co.th-0" || !internal {
		t.Errorf("Id %d, ID %q, DataID %q, internal %v", id, rec.ID, rec.DataID, internal)
	}
	if !errors.Is(rec.Invalid, connectors.ErrInvalid) || !strings.Contains(rec.Invalid.Error(), `StartTime "0001-01-01T00:00:00.0000000+00:00" is not a real call time`) {
		t.Errorf("Invalid = %v", rec.Invalid)
	}
	if !rec.CallAt.IsZero() || rec.Duration != 0 || rec.Direction != "out" || rec.AgentNumber != "string" || rec.AgentName != "string" ||
		rec.CustomerPhone != "string" || rec.ContentType != "audio/wav" {
		t.Errorf("mapped to %+v", rec)
	}
	// Every property of the example is one the fake knows and serves.
	var fields map[string]any
	if err := json.Unmarshal(payload(t, "recording-swagger-example.json"), &fields); err != nil || len(fields) != 28 {
		t.Errorf("%d fields, %v; want the 28 of Pbx.Recording", len(fields), err)
	}
}

// TestPayloadLogins serves each log-in and token answer through the
// connector's own log-in and refresh code.
func TestPayloadLogins(t *testing.T) {
	const user, client = "/webclient/api/Login/GetAccessToken", "/connect/token"
	for _, tc := range []struct {
		name    string
		path    string
		answer  answerFile
		cfg     Config
		value   string // the access token; "" when refused
		refresh string
		life    time.Duration
		auth    bool   // refused with ErrAuth
		says    string // in the error
	}{
		{"client credentials", client, answerFile{200, "token-client-credentials.json"}, clientConfig(),
			"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3ODAwMDAwMDAsImV4cCI6MTc4MDAwMDA2MH0.c2lnbmF0dXJl", "", time.Minute, false, ""},
		{"invalid_client", client, answerFile{400, "token-invalid-client.json"}, clientConfig(), "", "", 0, true, "400: invalid_client"},
		{"user success", user, answerFile{200, "login-success-sourcesmd.json"}, userConfig(),
			"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3ODAwMDAwMDAsImV4cCI6MTc4MDAwMDA2MH0.c2lnbmF0dXJl", "GUID-like-refresh-token-60-days", time.Minute, false, ""},
		{"user Token without a Status", user, answerFile{200, "login-token-only.json"}, userConfig(), "test_token", "test_refresh_token", time.Minute, false, ""},
		{"wrong password, 200", user, answerFile{200, "login-authfailed.json"}, userConfig(), "", "", 0, true, "wrong username or password"},
		{"second factor", user, answerFile{200, "login-mfa.json"}, userConfig(), "", "", 0, true, "second factor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pbx := payloadPBX(t, map[string]answerFile{tc.path: tc.answer})
			c := connect(t, pbx.URL, tc.cfg, nil)
			tok, err := c.tokens.get(t.Context())
			if tc.value == "" {
				if err == nil || errors.Is(err, connectors.ErrAuth) != tc.auth || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("log-in = %v; want ErrAuth %v saying %q", err, tc.auth, tc.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// A 60 s life is renewed 6 s before its end (10%).
			margin, want := tok.expires.Sub(tok.refreshAt), max(tc.life/10, min(5*time.Second, tc.life/2))
			if tok.value != tc.value || tok.refresh != tc.refresh || margin != want {
				t.Errorf("token %q, refresh %q, renewed %v before its end; want %q, %q, %v", tok.value, tok.refresh, margin, tc.value, tc.refresh, want)
			}
		})
	}

	// The refresh answer: a new access token, the refresh token kept.
	pbx := payloadPBX(t, map[string]answerFile{
		user:   {200, "login-success-sourcesmd.json"},
		client: {200, "refresh-answer-derived.json"},
	})
	c := connect(t, pbx.URL, userConfig(), nil)
	first, err := c.tokens.get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	next, err := c.tokens.renew(t.Context(), first)
	if err != nil || next == first || next.refresh != "GUID-like-refresh-token-60-days" || c.Logins() != 1 || c.Refreshes() != 1 {
		t.Errorf("refresh: %+v, %v; %d sign-ins, %d refreshes", next, err, c.Logins(), c.Refreshes())
	}
}

// TestPayloadErrors: XAPI error bodies on a download and a listing.
func TestPayloadErrors(t *testing.T) {
	pbx := payloadPBX(t, map[string]answerFile{
		"/connect/token": {200, "token-client-credentials.json"},
		"download":       {400, "error-file-not-found.json"},
		recordingsPath:   {400, "error-xapi-warning.json"},
	})
	c := connect(t, pbx.URL, clientConfig(), nil)
	if _, err := c.Open(t.Context(), connectors.Recording{ID: "1"}); !errors.Is(err, connectors.ErrGone) || !strings.Contains(err.Error(), "WARNINGS.XAPI.FILE_NOT_FOUND") {
		t.Errorf("download answered FILE_NOT_FOUND: %v, want ErrGone naming it", err)
	}
	_, err := c.List(t.Context(), base, base.Add(time.Hour))
	if err == nil || connectors.Permanent(err) || !strings.Contains(err.Error(), "400: SAMPLE_FIELD: WARNINGS.XAPI.SAMPLE_ERROR") {
		t.Errorf("listing answered a warning: %v", err)
	}
	resp := &http.Response{Body: ioNopCloser(payload(t, "error-xapi-warning.json"))}
	msg, warnings := c.errorDetail(resp)
	if msg != ": SAMPLE_FIELD: WARNINGS.XAPI.SAMPLE_ERROR" || strings.Join(warnings, ",") != "SAMPLE_ERROR,SAMPLE_ERROR" {
		t.Errorf("errorDetail = %q, %v", msg, warnings)
	}
}

// TestPayloadODataBoolean: the real @odata.context form, and a value that
// is not an array is not a page.
func TestPayloadODataBoolean(t *testing.T) {
	b := payload(t, "odata-boolean-capture.json")
	var ctx struct {
		Context string `json:"@odata.context"`
	}
	if json.Unmarshal(b, &ctx) != nil || !strings.HasSuffix(ctx.Context, "/xapi/v1/$metadata#Edm.Boolean") {
		t.Errorf("@odata.context %q", ctx.Context)
	}
	if _, err := decodePage(strings.NewReader(string(b))); err == nil {
		t.Error("a boolean value was taken for a page")
	}
}

func ioNopCloser(b []byte) *nopCloser { return &nopCloser{strings.NewReader(string(b))} }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
