package dtac

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeaudio"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// rejections are every answer the fake can give a dead token.
var rejections = []struct {
	name   string
	reject fakedtac.TokenRejection
	quoted string // how the errors name the answer
}{
	{"401", fakedtac.Reject401, "HTTP 401"},
	{"403", fakedtac.Reject403, "HTTP 403"},
	{"200 invalid access token", fakedtac.Reject200InvalidAccessToken, `HTTP 200 "invalid access token"`},
	{"200 session expired", fakedtac.Reject200SessionExpired, `HTTP 200 "session expired"`},
	{"200 message Invalid token", fakedtac.Reject200InvalidTokenMessage, `HTTP 200 "Invalid token"`},
}

// TestExpiredTokenAnsweredWith200: a portal that answers a dead token with
// 200 and a JSON error ({"error":"invalid access token"},
// {"error":"session expired"}, {"message":"Invalid token"}) instead of a
// 401 is healed like a 401: the cached token is replaced by one fresh
// log-in, for the listing and for the audio, whatever Content-Type the
// audio endpoint sends with its refusal.
func TestExpiredTokenAnsweredWith200(t *testing.T) {
	for _, rj := range rejections {
		for _, ctype := range []string{"", "audio/x-wav", "application/octet-stream", fakedtac.NoContentType} {
			t.Run(fmt.Sprintf("%s, %q", rj.name, ctype), func(t *testing.T) {
				fake := startFake(t, fakedtac.Options{RejectToken: rj.reject, RejectTokenContentType: ctype})
				ids := addRecordings(fake, 7, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
				c := newTestConnector(t, fake.URL(), testPass, 5)
				waits := noWaits(c)
				if got := listIDs(t, c, t0, t0.Add(time.Hour)); len(got) != 7 {
					t.Fatalf("listed %d, want 7", len(got))
				}
				fake.ExpireSessions()
				if got := listIDs(t, c, t0, t0.Add(time.Hour)); strings.Join(got, ",") != strings.Join(ids, ",") {
					t.Fatalf("after expiry listed %v, want %v", got, ids)
				}
				if n := fake.Logins(); n != 2 {
					t.Errorf("List after expiry: %d log-ins in all, want 2", n)
				}
				fake.ExpireSessions()
				rec := connectors.Recording{ID: ids[3], DataID: DataID(ids[3])}
				a, err := c.Open(ctxT(t), rec)
				if err != nil {
					t.Fatalf("Open after expiry: %v", err)
				}
				h := sha256.New()
				_, err = io.Copy(h, a.Body)
				a.Body.Close()
				if err != nil || [32]byte(h.Sum(nil)) != recordingAudio(t, ids[3]).Sum() {
					t.Fatalf("Open after expiry: not the audio (%v)", err)
				}
				if n := fake.Logins(); n != 3 {
					t.Errorf("Open after expiry: %d log-ins in all, want 3", n)
				}
				if len(*waits) != 0 {
					t.Errorf("waits %v before the first fresh log-in", *waits)
				}
			})
		}
	}
}

// TestExpiredTokenAnsweredWith200Bounded: when every fresh token is
// refused with 200 and a JSON error, a request gets three fresh log-ins and
// fails alone, as with a 401: neither ErrAuth nor ErrForbidden nor
// permanent, naming the answer.
func TestExpiredTokenAnsweredWith200Bounded(t *testing.T) {
	for _, rj := range rejections {
		t.Run(rj.name, func(t *testing.T) {
			fake := startFake(t, fakedtac.Options{RejectToken: rj.reject, RevokeLogins: -1})
			ids := addRecordings(fake, 1, func(int) time.Time { return t0 })
			c := newTestConnector(t, fake.URL(), testPass, 5)
			noWaits(c)
			_, listErr := c.List(ctxT(t), t0, t0.Add(time.Hour))
			_, openErr := c.Open(ctxT(t), connectors.Recording{ID: ids[0], DataID: DataID(ids[0])})
			if n := fake.Logins(); n != 7 {
				t.Errorf("%d log-ins, want 7 (one, then three fresh ones for each request)", n)
			}
			for name, err := range map[string]error{"List": listErr, "Open": openErr} {
				switch {
				case err == nil:
					t.Errorf("%s succeeded", name)
				case errors.Is(err, connectors.ErrAuth), errors.Is(err, connectors.ErrForbidden),
					connectors.Permanent(err), errors.Is(err, connectors.ErrNotReady):
					t.Errorf("%s: %v: must be a plain error, tried again later", name, err)
				case !strings.Contains(err.Error(), rj.quoted+" even with a fresh token, 3 times"):
					t.Errorf("%s: %v, want it to name %s", name, err, rj.quoted)
				}
			}
		})
	}
}

// TestRefusalWith200Crafted: the forms of a 200 refusal a portal might
// send, on the listing's first and second page, and answers that are not
// refusals: those stay errors of the listing, with no log-in.
func TestRefusalWith200Crafted(t *testing.T) {
	const token = "11111111-2222-4333-8444-555555555555" // portal's
	for _, tc := range []struct {
		name    string
		ctype   string
		body    string
		refusal bool
		quoted  string
	}{
		{"invalid access token", "application/json", `{"error":"invalid access token"}`, true, `"invalid access token"`},
		{"session expired", "application/json", `{"error":"session expired"}`, true, `"session expired"`},
		{"message Invalid token", "application/json", `{"message":"Invalid token"}`, true, `"Invalid token"`},
		{"Unauthorized with a status", "application/json", `{"status":401,"error":"Unauthorized","path":"/orktrack/rest/recordings"}`, true, `"Unauthorized"`},
		{"nested error", "application/json", `{"error":{"code":"E_AUTH","message":"Token has expired"}}`, true, `"E_AUTH Token has expired"`},
		{"errors array", "application/json", `{"errors":[{"detail":"not authenticated"}]}`, true, `"not authenticated"`},
		{"whitespace and a BOM", "text/plain", "\ufeff  \n{\"error\" : \"Session Expired\"}\n", true, `"Session Expired"`},
		{"no content type", "", `{"error":"invalid access token"}`, true, `"invalid access token"`},
		{"the token echoed", "application/json", `{"error":"invalid access token ` + token + `"}`, true, `"invalid access token [redacted]"`},
		{"an unrelated error", "application/json", `{"error":"database unavailable"}`, false, ""},
		{"an empty object", "application/json", `{}`, false, ""},
		{"token words outside error fields", "application/json", `{"session":"x","token":"y"}`, false, ""},
		{"HTML sign-in page", "text/html", `<html><body>Session expired, please sign in</body></html>`, false, ""},
		{"a JSON string", "application/json", `"invalid access token"`, false, ""},
	} {
		for _, onPage := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s on page %d", tc.name, onPage), func(t *testing.T) {
				p := portal(t, func(n int) (int, string, string) {
					if n < onPage {
						return 200, "application/json", `{"objects":[` + objs(1, 2) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
					}
					return 200, tc.ctype, tc.body
				})
				c := newTestConnector(t, p.URL, testPass, 2)
				noWaits(c)
				recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
				if err == nil || recs != nil {
					t.Fatalf("List: %d recordings, %v; want an error", len(recs), err)
				}
				logins := 0
				for _, r := range p.requests() {
					if r.Path == "/orktrack/rest/user/login" {
						logins++
					}
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("the error shows the token: %v", err)
				}
				if !tc.refusal {
					if logins != 1 || strings.Contains(err.Error(), "fresh token") {
						t.Errorf("%d log-ins, %v: want the listing's error after one log-in", logins, err)
					}
					return
				}
				if logins != 1+maxRelogins || !strings.Contains(err.Error(), "HTTP 200 "+tc.quoted) {
					t.Errorf("%d log-ins, %v: want %d and an error naming HTTP 200 %s", logins, err, 1+maxRelogins, tc.quoted)
				}
			})
		}
	}
}

// TestRefusalWith200Audio: the audio endpoint answering 200 with a JSON
// refusal is a refused token (a fresh log-in, then the audio); a 200 JSON
// error that is no refusal stays an error of Open, never audio.
func TestRefusalWith200Audio(t *testing.T) {
	var refused atomic.Bool
	p := newSpy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/orktrack/rest/user/login":
			_, _ = w.Write([]byte(`{"accesstoken":"11111111-2222-4333-8444-555555555555"}`))
		case r.URL.Path == "/orktrack/rest/mediastream/7" && !refused.Swap(true):
			w.Header().Set("Content-Type", "audio/x-wav")
			_, _ = w.Write([]byte(`{"error":"invalid access token"}`))
		case r.URL.Path == "/orktrack/rest/mediastream/7":
			w.Header().Set("Content-Type", "audio/x-wav")
			_, _ = w.Write(append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 100)...))
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte(`{"error":"file not found on the recorder"}`))
		}
	}))
	c := newTestConnector(t, p.URL, testPass, 2)
	noWaits(c)
	a, err := c.Open(ctxT(t), connectors.Recording{ID: "7"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, _ := io.ReadAll(a.Body)
	a.Body.Close()
	if !strings.HasPrefix(string(b), "RIFF") || len(b) != 116 {
		t.Fatalf("Open: %d bytes %q", len(b), b[:min(len(b), 12)])
	}
	if a, err := c.Open(ctxT(t), connectors.Recording{ID: "8"}); err == nil {
		b, _ := io.ReadAll(a.Body)
		a.Body.Close()
		if string(b) != `{"error":"file not found on the recorder"}` {
			t.Fatalf("Open of 8: %q", b)
		}
		// The syncer's byte check refuses it (internal/audioformat); the
		// connector passes it on, unchanged, with no log-in.
	}
	logins := 0
	for _, r := range p.requests() {
		if r.Path == "/orktrack/rest/user/login" {
			logins++
		}
	}
	if logins != 2 {
		t.Errorf("%d log-ins, want 2 (the first, one fresh for the refusal)", logins)
	}
}

// TestRefusalText: the classifier alone.
func TestRefusalText(t *testing.T) {
	for body, want := range map[string]bool{
		`{"error":"invalid access token"}`:                 true,
		`{"error":"session expired"}`:                      true,
		`{"message":"Invalid token"}`:                      true,
		`{"errorMessage":"Your session has timed out"}`:    true,
		`{"error_description":"The access token expired"}`: true,
		`{"msg":"please log in"}`:                          true,
		`{"reason":"login required"}`:                      true,
		`{"status":"UNAUTHORIZED"}`:                        true,
		`{"error":"database unavailable"}`:                 false,
		`{"message":"ok","data":{"token":"x"}}`:            false,
		`{"objects":null,"error":"invalid token"}`:         false,
		`{"Objects":[],"message":"session expired"}`:       false,
		`[{"error":"invalid token"}]`:                      false,
		`invalid token`:                                    false,
		``:                                                 false,
	} {
		if _, got := refusalText([]byte(body)); got != want {
			t.Errorf("refusalText(%s) = %v, want %v", body, got, want)
		}
	}
}

// recordingAudio returns the audio addRecordings gave recording id (PCM
// WAV, as the fake serves it by default).
func recordingAudio(t *testing.T, id string) fakeaudio.Audio {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return fakeaudio.Audio{Seed: uint64(n), Size: 2000}
}
