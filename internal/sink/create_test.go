package sink_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// TestCreateJSON: the exact body the API gets, and what the fake stored.
func TestCreateJSON(t *testing.T) {
	tests := []struct {
		name string
		r    sink.Recording
		want map[string]any
		// stored content type (the API's default when none is sent)
		contentType string
	}{
		{
			name: "every field",
			r: sink.Recording{
				DataID: "dtac-1001", CallAt: time.Date(2026, 5, 20, 8, 14, 0, 0, bangkok), Direction: "in",
				CustomerPhone: "+66812345678", CallcenterNumber: "+66898765432", CallcenterName: "สมชาย ใจดี",
				ContentType: "audio/mpeg",
			},
			want: map[string]any{
				"dataId": "dtac-1001", "callAt": "2026-05-20T08:14:00+07:00", "direction": "in",
				"customerPhone": "+66812345678", "callcenterNumber": "+66898765432", "callcenterName": "สมชาย ใจดี",
				"contentType": "audio/mpeg", "audioPresignedUploadUrl": true,
			},
			contentType: "audio/mpeg",
		},
		{
			name: "empty optionals are left out",
			r:    sink.Recording{DataID: "3cx-pbx.example.com-7", CallAt: time.Date(2026, 5, 20, 23, 59, 59, 0, bangkok), Direction: "out"},
			want: map[string]any{
				"dataId": "3cx-pbx.example.com-7", "callAt": "2026-05-20T23:59:59+07:00", "direction": "out",
				"audioPresignedUploadUrl": true,
			},
			contentType: "audio/wav",
		},
		{
			name: "callAt keeps its own zone, whole seconds",
			r:    sink.Recording{DataID: "utc-1", CallAt: time.Date(2026, 5, 20, 1, 14, 0, 999_000_000, time.UTC), Direction: "in", ContentType: "audio/wav"},
			want: map[string]any{
				"dataId": "utc-1", "callAt": "2026-05-20T01:14:00Z", "direction": "in", "contentType": "audio/wav",
				"audioPresignedUploadUrl": true,
			},
			contentType: "audio/wav",
		},
	}
	srv := startFake(t, nil)
	base, rc := record(t, srv)
	c := newClient(t, base, fakecrk.TokFull, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := c.Create(t.Context(), tt.r)
			if err != nil {
				t.Fatal(err)
			}
			posts := rc.requests(http.MethodPost, "/api/v1/recordings")
			last := posts[len(posts)-1]
			var got map[string]any
			if err := json.Unmarshal(last.Body, &got); err != nil {
				t.Fatalf("body %s: %v", last.Body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body\n got %s\nwant %v", last.Body, tt.want)
			}
			for h, want := range map[string]string{
				"Content-Type": "application/json", "Accept": "application/json",
				"Authorization": "Bearer " + fakecrk.TokFull, "User-Agent": "syncd/1.2.3 (test)", "X-Business-Id": "",
			} {
				if v := last.Header.Get(h); v != want {
					t.Errorf("header %s: %q, want %q", h, v, want)
				}
			}
			stored, ok := srv.Recording(fakecrk.BizA, tt.r.DataID)
			if !ok || stored.ID != cr.ID || stored.CallAt != tt.want["callAt"] || stored.Direction != tt.r.Direction ||
				stored.CustomerPhone != tt.r.CustomerPhone || stored.CallcenterNumber != tt.r.CallcenterNumber ||
				stored.CallcenterName != tt.r.CallcenterName || stored.ContentType != tt.contentType {
				t.Errorf("stored %+v", stored)
			}
			if !strings.HasPrefix(cr.UploadURL, strings.TrimSuffix(base, "/api/v1")+"/storage/") {
				t.Errorf("upload URL %q", cr.UploadURL)
			}
		})
	}
}

// TestCreateIdempotent: the same dataId twice is one recording with one id;
// the repeat may come without an upload URL once the audio is there.
func TestCreateIdempotent(t *testing.T) {
	srv := startFake(t, nil)
	c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
	first := mustCreate(t, c, "id-1")
	again := mustCreate(t, c, "id-1") // no audio yet: a URL again
	if again.ID != first.ID {
		t.Fatalf("ids %q and %q", first.ID, again.ID)
	}
	if got := srv.Recordings(); len(got) != 1 || got[0].Creates != 2 {
		t.Fatalf("recordings %+v", got)
	}

	if err := c.Upload(t.Context(), again.UploadURL, "audio/wav", audio(1, 100).Reader(), 100); err != nil {
		t.Fatal(err)
	}
	withURL, err := c.Create(t.Context(), rec("id-1"))
	if err != nil || withURL.ID != first.ID || withURL.UploadURL == "" {
		t.Fatalf("repeat after upload: %+v, %v", withURL, err)
	}
	srv.SetBehaviour(fakecrk.Behaviour{NoUploadURLOnRepeat: true})
	noURL, err := c.Create(t.Context(), rec("id-1"))
	if err != nil || noURL.ID != first.ID || noURL.UploadURL != "" {
		t.Fatalf("repeat with NoUploadURLOnRepeat: %+v, %v", noURL, err)
	}
}

// TestCreateStatus: any 2xx is success.
func TestCreateStatus(t *testing.T) {
	for _, status := range []int{0, 200, 201, 202} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := startFake(t, nil)
			srv.SetBehaviour(fakecrk.Behaviour{CreateStatus: status})
			c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
			mustCreate(t, c, "cs-1")
			if n := srv.Count(fakecrk.EndpointCreate); n != 1 {
				t.Fatalf("%d creates", n)
			}
		})
	}
}

// TestCreateAnswers: answers the fake does not give.
func TestCreateAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    sink.Created // UploadURL "/…" is relative to the stub's root
		wantErr string
	}{
		{name: "id as a number", body: `{"id": 12345, "uploadUrl": "http://127.0.0.1:9/up/12345?X-Amz-Signature=abc"}`,
			want: sink.Created{ID: "12345", UploadURL: "http://127.0.0.1:9/up/12345?X-Amz-Signature=abc"}},
		{name: "id as a large number", body: `{"id": 9007199254740993}`, want: sink.Created{ID: "9007199254740993"}},
		{name: "relative upload URL", status: 200, body: `{"id":"r-1","uploadUrl":"/storage/b/r-1?X-Amz-Signature=abc"}`,
			want: sink.Created{ID: "r-1", UploadURL: "/storage/b/r-1?X-Amz-Signature=abc"}},
		{name: "no upload URL", body: `{"id":"r-1"}`, want: sink.Created{ID: "r-1"}},
		{name: "extra fields", status: 202, body: `{"id":"r-1","uploadUrl":"","processingStatus":"uploaded","meta":{"x":[1,2]}}`,
			want: sink.Created{ID: "r-1", Status: "uploaded"}},
		{name: "no id", body: `{"uploadUrl":"http://127.0.0.1:9/x"}`, wantErr: "crk create: the answer for c-1 holds no id"},
		{name: "null id", body: `{"id":null}`, wantErr: "crk create: the answer for c-1 holds no id"},
		{name: "id of another type", body: `{"id":true}`,
			wantErr: "crk create: decoding the 201 answer: id is neither a string nor a number: json: cannot unmarshal bool into Go value of type json.Number"},
		{name: "upload URL that does not parse", body: `{"id":"r-1","uploadUrl":"http://[::1/x?X-Amz-Signature=abc"}`,
			wantErr: "crk create: the upload URL for c-1 does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := stub(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				} else {
					w.WriteHeader(http.StatusCreated)
				}
				_, _ = w.Write([]byte(tt.body))
			})
			c := newClient(t, base, tokHTTPTest, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 1 })
			got, err := c.Create(t.Context(), rec("c-1"))
			if errText(err) != tt.wantErr {
				t.Fatalf("error %q, want %q", errText(err), tt.wantErr)
			}
			noSecret(t, "error", errText(err), "abc")
			want := tt.want
			if strings.HasPrefix(want.UploadURL, "/") {
				want.UploadURL = strings.TrimSuffix(base, "/api/v1") + want.UploadURL
			}
			if got != want {
				t.Errorf("created %+v, want %+v", got, want)
			}
		})
	}
}

// TestAccountKey: with an account key, X-Business-Id names the business on
// every data call, and the recordings land in that business; without it
// every data call is refused as business_required, and with a business the
// key does not reach as forbidden_business.
func TestAccountKey(t *testing.T) {
	srv := startFake(t, nil)
	base, rc := record(t, srv)
	for _, biz := range []string{fakecrk.BizA, fakecrk.BizB} {
		c := newClient(t, base, fakecrk.TokAccount, func(c *sink.Config, d *sink.Deps) { c.BusinessID = biz })
		cr := mustUpload(t, c, "acct-1", 500)
		if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
			t.Fatal(err)
		}
		p, err := c.List(t.Context(), sink.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].DataID != "acct-1" || string(p.Items[0].ID) != cr.ID {
			t.Fatalf("%s lists %+v", biz, p)
		}
		got, ok := srv.Recording(biz, "acct-1")
		if !ok || got.ID != cr.ID || !got.HasAudio || got.Reextracts != 1 {
			t.Fatalf("recording in %s: %+v", biz, got)
		}
	}
	if n := len(srv.Recordings()); n != 2 {
		t.Fatalf("%d recordings, want one in each business", n)
	}
	data := 0
	for _, s := range rc.all() {
		h := s.Header.Get("X-Business-Id")
		switch {
		case strings.HasPrefix(s.Path, "/storage/"):
			if h != "" || s.Header.Get("Authorization") != "" {
				t.Errorf("the upload carried X-Business-Id %q / Authorization", h)
			}
		case h != fakecrk.BizA && h != fakecrk.BizB:
			t.Errorf("%s %s: X-Business-Id %q", s.Method, s.Path, h)
		default:
			data++
		}
	}
	if data != 6 { // create, reextract, list × 2
		t.Errorf("%d data calls seen, want 6", data)
	}

	for _, tt := range []struct {
		business string
		sentinel error
		status   int
	}{
		{"", sink.ErrBusinessRequired, 400},
		{fakecrk.BizC, sink.ErrForbiddenBusiness, 403},
		{"not-a-business", sink.ErrForbiddenBusiness, 403},
	} {
		c := newClient(t, srv.URL(), fakecrk.TokAccount, func(c *sink.Config, d *sink.Deps) { c.BusinessID = tt.business })
		before := srv.Count(fakecrk.EndpointCreate) + srv.Count(fakecrk.EndpointReextract) + srv.Count(fakecrk.EndpointList)
		_, errCreate := c.Create(t.Context(), rec("acct-2"))
		_, errReextract := c.Reextract(t.Context(), "00000000-0000-4000-8000-000000000000")
		_, errList := c.List(t.Context(), sink.Query{})
		_, errFind := c.Find(t.Context(), "acct-1")
		for name, err := range map[string]error{"create": errCreate, "reextract": errReextract, "list": errList, "find": errFind} {
			if !errors.Is(err, tt.sentinel) || !sink.IsAuth(err) || sink.Permanent(err) || apiError(t, err).Status != tt.status {
				t.Errorf("business %q, %s: %v, want %v", tt.business, name, err, tt.sentinel)
			}
		}
		after := srv.Count(fakecrk.EndpointCreate) + srv.Count(fakecrk.EndpointReextract) + srv.Count(fakecrk.EndpointList)
		if after-before != 4 {
			t.Errorf("business %q: %d requests for 4 calls: refused calls must not be retried", tt.business, after-before)
		}
		// whoami is not a data endpoint: it works without a business.
		if _, err := c.WhoAmI(t.Context()); err != nil {
			t.Errorf("business %q, whoami: %v", tt.business, err)
		}
	}
}
