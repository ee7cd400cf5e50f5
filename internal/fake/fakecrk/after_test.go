package fakecrk

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestFailNextAfter: the work is done, then the answer says it failed, in
// the endpoint's error shape.
func TestFailNextAfter(t *testing.T) {
	tests := []struct {
		name   string
		ep     Endpoint
		status int
		code   string // API code, or S3 code for upload
		did    func(before, after Recording) bool
	}{
		{"create 500", EndpointCreate, 500, "internal_error", func(b, a Recording) bool { return a.Creates == b.Creates+1 }},
		{"upload 500", EndpointUpload, 500, "InternalError", func(b, a Recording) bool { return a.Uploads == b.Uploads+1 && a.AudioSize == 5 }},
		{"reextract 500", EndpointReextract, 500, "internal_error", func(b, a Recording) bool { return a.Reextracts == b.Reextracts+1 }},
		{"reextract 503", EndpointReextract, 503, "internal_error", func(b, a Recording) bool { return a.Reextracts == b.Reextracts+1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := start(t, nil)
			c := client(t, true)
			cr := mustCreate(t, s, c, TokFull, "", "fa-1", "")
			put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
			req := func() answer {
				switch tc.ep {
				case EndpointCreate:
					return do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody("fa-1", "")})
				case EndpointReextract:
					return do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
				default:
					return put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF2"), false)
				}
			}
			s.FailNextAfter(tc.ep, tc.status, 1)
			s.FailNextAfter(tc.ep, 0, 0) // no-op
			before, _ := s.Recording(BizA, "fa-1")
			a := req()
			if a.status != tc.status {
				t.Fatalf("injected: %d %s", a.status, a.body)
			}
			var code string
			if tc.ep == EndpointUpload {
				code = a.s3Error(t).Code
			} else {
				code = a.apiError(t).Code
			}
			if code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
			after, _ := s.Recording(BizA, "fa-1")
			if !tc.did(before, after) {
				t.Fatalf("the work was not done:\n%+v\n%+v", before, after)
			}
			if a := req(); a.status >= 300 {
				t.Fatalf("after the injection: %d %s", a.status, a.body)
			}
			if got := s.Requests(tc.ep, tc.status); got != 1 {
				t.Errorf("Requests(%s, %d) = %d", tc.ep, tc.status, got)
			}
		})
	}
}

// TestFailNextAfterOrder: queued failures before the work go first, then
// those after it, then the random faults.
func TestFailNextAfterOrder(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "fo-1", "")
	put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
	s.SetFaults(Faults{P429: 1})
	s.FailNextAfter(EndpointReextract, 500, 1)
	s.FailNext(EndpointReextract, 502, 1)
	var got []int
	for range 3 {
		got = append(got, do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull}).status)
	}
	if want := []int{502, 500, 429}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if r, _ := s.Recording(BizA, "fo-1"); r.Reextracts != 1 {
		t.Fatalf("%d reextracts, want 1 (only the failure after the work acted)", r.Reextracts)
	}
}

// TestP500After: at random, with a seed: CRK acts and answers 500.
func TestP500After(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, false)
	cr := mustCreate(t, s, c, TokFull, "", "pa-1", "")
	put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
	s.SetFaults(Faults{P500After: 1})
	a := do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
	if a.status != 500 || a.apiError(t).Code != "internal_error" {
		t.Fatalf("reextract: %d %s", a.status, a.body)
	}
	if r, _ := s.Recording(BizA, "pa-1"); r.Reextracts != 1 || r.ProcessingStatus != "completed" {
		t.Fatalf("the reextract did not act: %+v", r)
	}
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF-2"), false); a.status != 500 || a.s3Error(t).Code != "InternalError" {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	if r, _ := s.Recording(BizA, "pa-1"); r.AudioSize != 6 {
		t.Fatalf("the upload did not store the audio: %+v", r)
	}

	f := Faults{P500After: 0.3, P500: 0.1, Seed: 9}
	s.SetFaults(f)
	first := codes(t, s, c, 100)
	s.SetFaults(f)
	if again := codes(t, s, c, 100); !slices.Equal(first, again) {
		t.Fatal("the same seed gave other faults")
	}
	if n := s.Requests(EndpointWhoami, 500); n < 20 {
		t.Errorf("%d of 200 whoami answered 500, want about 80", n)
	}
	// A knob at 0 draws nothing: the other faults of a seed are unchanged.
	s.SetFaults(Faults{P500: 0.5, Seed: 3})
	plain := codes(t, s, c, 50)
	s.SetFaults(Faults{P500: 0.5, Seed: 3, P503: 0, P500After: 0})
	if again := codes(t, s, c, 50); !slices.Equal(plain, again) {
		t.Fatal("knobs at 0 changed the draws")
	}
}

// TestP503: CRK down answers 503 before doing anything, on the API and on
// storage.
func TestP503(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "p5-1", "")
	s.SetFaults(Faults{P503: 1})
	if a := do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody("p5-2", "")}); a.status != 503 || a.apiError(t).Code != "internal_error" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	if _, ok := s.Recording(BizA, "p5-2"); ok {
		t.Fatal("a 503 created the recording")
	}
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false); a.status != 503 || a.s3Error(t).Code != "SlowDown" {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	if r, _ := s.Recording(BizA, "p5-1"); r.HasAudio {
		t.Fatal("a 503 stored the audio")
	}
}

// TestZeroLatencyNeverWaits: no fault sleeps unless Latency is set.
func TestZeroLatencyNeverWaits(t *testing.T) {
	var fs faultState
	fs.set(Faults{P500: 0.5, P503: 0.1, P429: 0.1, PDrop: 0.1, P500After: 0.1, Seed: 1})
	for range 1000 {
		if d := fs.decide(EndpointCreate, true); d.latency != 0 {
			t.Fatalf("latency %v with Faults.Latency 0", d.latency)
		}
	}
	fs.set(Faults{Latency: time.Millisecond})
	if d := fs.decide(EndpointCreate, true); d.latency != time.Millisecond {
		t.Fatalf("latency %v, want 1ms", d.latency)
	}
	// End to end: a fake clock far from real time changes nothing, and
	// requests do not wait on any timer.
	s, _ := start(t, nil)
	c := client(t, true)
	begin := time.Now()
	for i := range 50 {
		if a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, a.status)
		}
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("50 requests took %v", d)
	}
}

func TestClearInjections(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, false)
	s.FailNext(EndpointWhoami, 500, 3)
	s.FailNextAfter(EndpointWhoami, 500, 3)
	s.DropNext(EndpointWhoami, 3)
	s.SetFaults(Faults{P429: 1})
	if got := codes(t, s, c, 1); got[0] != 500 {
		t.Fatalf("before clearing: %v", got)
	}
	s.ClearInjections()
	if got := codes(t, s, c, 2); !slices.Equal(got, []int{429, 429}) {
		t.Fatalf("after clearing: %v, want the random faults only", got)
	}
	s.SetFaults(Faults{})
	if got := codes(t, s, c, 1); got[0] != 200 {
		t.Fatalf("without faults: %v", got)
	}
}

// TestWaitIdle: it returns once the client's connections are closed, and
// a request cut off by its client has done its work by then.
func TestWaitIdle(t *testing.T) {
	s, _ := start(t, nil)
	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	cr := mustCreate(t, s, c, TokFull, "", "wi-1", "")
	put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
	s.DropNext(EndpointReextract, 1) // the client never hears back
	if _, err := try(s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull}); err == nil {
		t.Fatal("dropped reextract answered")
	}
	do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}) // a connection kept alive
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.WaitIdle(ctx); err == nil {
		t.Fatal("idle while the client keeps a connection open")
	}
	tr.CloseIdleConnections()
	if err := s.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Recording(BizA, "wi-1"); r.Reextracts != 1 {
		t.Fatalf("%d reextracts once idle, want 1", r.Reextracts)
	}
}
