package sink_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// TestReextractAccepted: every success status the API might answer with.
func TestReextractAccepted(t *testing.T) {
	for _, status := range []int{0, 200, 202, 204} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := startFake(t, nil)
			srv.SetBehaviour(fakecrk.Behaviour{ReextractStatus: status})
			c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
			cr := mustUpload(t, c, "ra-1", 2000)
			if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
				t.Fatal(err)
			}
			if got, _ := srv.Recording(fakecrk.BizA, "ra-1"); got.Reextracts != 1 || srv.Count(fakecrk.EndpointReextract) != 1 {
				t.Fatalf("%d reextracts acted on, %d requests", got.Reextracts, srv.Count(fakecrk.EndpointReextract))
			}
		})
	}
}

// TestReextractRefused: a reextract of a recording without audio (the
// answer is undocumented: every plausible one) or of an unknown id is
// refused for good, and not retried.
func TestReextractRefused(t *testing.T) {
	tests := []struct {
		name     string
		noAudio  int // Behaviour.ReextractNoAudio
		unknown  bool
		status   int
		code     string
		sentinel error
	}{
		{name: "no audio, default", status: 422, code: "validation_failed", sentinel: sink.ErrValidation},
		{name: "no audio, 409", noAudio: 409, status: 409, code: "audio_missing"},
		{name: "no audio, 400", noAudio: 400, status: 400, code: "bad_request"},
		{name: "unknown id", unknown: true, status: 404, code: "not_found", sentinel: sink.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, nil)
			srv.SetBehaviour(fakecrk.Behaviour{ReextractNoAudio: tt.noAudio})
			c := newClient(t, srv.URL(), fakecrk.TokFull, nil)
			id := mustCreate(t, c, "rr-1").ID
			if tt.unknown {
				id = "00000000-0000-4000-8000-00000000dead"
			}
			_, err := c.Reextract(t.Context(), id)
			ae := apiError(t, err)
			if ae.Endpoint != "reextract" || ae.Status != tt.status || ae.Code != tt.code {
				t.Fatalf("%+v", *ae)
			}
			matchesOnly(t, err, tt.sentinel)
			if !sink.Permanent(err) || sink.IsAuth(err) {
				t.Errorf("%v: permanent %v, auth %v", err, sink.Permanent(err), sink.IsAuth(err))
			}
			if n := srv.Count(fakecrk.EndpointReextract); n != 1 {
				t.Errorf("%d reextract requests, want 1", n)
			}
			if got, _ := srv.Recording(fakecrk.BizA, "rr-1"); got.Reextracts != 0 {
				t.Errorf("%d reextracts acted on", got.Reextracts)
			}
		})
	}
}

// TestReextractScope: a key that may not ingest may not reextract either.
func TestReextractScope(t *testing.T) {
	srv := startFake(t, nil)
	cr := mustUpload(t, newClient(t, srv.URL(), fakecrk.TokFull, nil), "rs-1", 100)
	_, err := newClient(t, srv.URL(), fakecrk.TokView, nil).Reextract(t.Context(), cr.ID)
	if !errors.Is(err, sink.ErrInsufficientScope) || !sink.IsAuth(err) {
		t.Fatalf("reextract: %v", err)
	}
}

// TestReextractStatus: the processingStatus of a reextract's answer is read
// wherever an undocumented answer may put it, and an answer without one is
// no error.
func TestReextractStatus(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"top level", `{"id":"r-1","processingStatus":"Queued"}`, "queued"},
		{"in recording", `{"recording":{"id":"r-1","processingStatus":"pending"}}`, "pending"},
		{"in data", `{"data":{"processingStatus":"processing"}}`, "processing"},
		{"none", `{"ok":true}`, ""},
		{"empty body", ``, ""},
		{"not JSON", `accepted`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := stub(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(tc.body))
			})
			got, err := newClient(t, base, tokHTTPTest, nil).Reextract(t.Context(), "r-1")
			if err != nil || got.Status != tc.want {
				t.Fatalf("Reextract = %+v, %v; want status %q", got, err, tc.want)
			}
		})
	}
}
