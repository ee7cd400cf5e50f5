package fakecrk

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	tests := []struct {
		name   string
		ep     Endpoint
		status int
		code   string // API code, or S3 code for upload
	}{
		{"whoami 500", EndpointWhoami, 500, "internal_error"},
		{"create 503", EndpointCreate, 503, "internal_error"},
		{"create 429", EndpointCreate, 429, "rate_limited"},
		{"create 422", EndpointCreate, 422, "validation_failed"},
		{"create 401", EndpointCreate, 401, "invalid_token"},
		{"list 429", EndpointList, 429, "rate_limited"},
		{"reextract 500", EndpointReextract, 500, "internal_error"},
		{"reextract 404", EndpointReextract, 404, "not_found"},
		{"upload 500", EndpointUpload, 500, "InternalError"},
		{"upload 503", EndpointUpload, 503, "SlowDown"},
		{"upload 403", EndpointUpload, 403, "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := start(t, nil)
			c := client(t, true)
			cr := mustCreate(t, s, c, TokFull, "", "fn-1", "")
			put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false)
			req := func() answer {
				switch tc.ep {
				case EndpointWhoami:
					return do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull})
				case EndpointCreate:
					return do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody("fn-1", "")})
				case EndpointList:
					return do(t, s, c, call{method: "GET", path: "/recordings", token: TokFull})
				case EndpointReextract:
					return do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull})
				default:
					return put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF2"), false)
				}
			}
			before, _ := s.Recording(BizA, "fn-1")
			s.FailNext(tc.ep, tc.status, 2)
			for i := range 2 {
				a := req()
				if a.status != tc.status {
					t.Fatalf("injected %d: got %d %s", i, a.status, a.body)
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
				if tc.status == 429 && a.header.Get("Retry-After") != "1" {
					t.Fatalf("429 without Retry-After: %v", a.header)
				}
			}
			if after, _ := s.Recording(BizA, "fn-1"); after != before {
				t.Fatalf("an injected failure did the work:\n%+v\n%+v", before, after)
			}
			if a := req(); a.status >= 300 {
				t.Fatalf("after the injections: %d %s", a.status, a.body)
			}
			if got := s.Requests(tc.ep, tc.status); got != 2 {
				t.Errorf("Requests(%s, %d) = %d", tc.ep, tc.status, got)
			}
		})
	}
}

func TestFailNextBeforeAuthAndQueued(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	s.FailNext(EndpointWhoami, 500, 1)
	s.FailNextError(EndpointWhoami, 400, "business_required", 1)
	s.FailNext(EndpointWhoami, 0, 0)                            // no-op
	a := do(t, s, c, call{method: "GET", path: "/meta/whoami"}) // no token at all
	if a.status != 500 || a.apiError(t).Code != "internal_error" {
		t.Fatalf("first: %d %s", a.status, a.body)
	}
	a = do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull})
	if a.status != 400 || a.apiError(t).Code != "business_required" {
		t.Fatalf("second: %d %s", a.status, a.body)
	}
	if a = do(t, s, c, call{method: "GET", path: "/meta/whoami"}); a.status != 401 {
		t.Fatalf("third: %d %s", a.status, a.body)
	}
	// Injections go before random faults.
	s.SetFaults(Faults{P500: 1})
	s.FailNext(EndpointWhoami, 502, 1)
	if a = do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 502 {
		t.Fatalf("queued before random: %d", a.status)
	}
	if a = do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 500 {
		t.Fatalf("random: %d", a.status)
	}
	if s.Count(EndpointWhoami) != 5 {
		t.Errorf("Count = %d", s.Count(EndpointWhoami))
	}
}

func TestDropNext(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, false) // a fresh connection each time: no transparent retries
	cr := mustCreate(t, s, c, TokFull, "", "dn-1", "")

	s.DropNext(EndpointCreate, 1)
	if _, err := try(s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody("dn-2", "")}); err == nil {
		t.Fatal("dropped create answered")
	}
	if r, ok := s.Recording(BizA, "dn-2"); !ok || r.Creates != 1 {
		t.Fatalf("dropped create did not do its work: %+v", r)
	}
	if got := s.Requests(EndpointCreate, 0); got != 1 {
		t.Errorf("Requests(create, 0) = %d", got)
	}
	if a := do(t, s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody("dn-2", "")}); a.status != 200 {
		t.Fatalf("retry of a dropped create: %d", a.status)
	}

	s.DropNext(EndpointUpload, 1)
	req, _ := http.NewRequest(http.MethodPut, cr.UploadURL, bytes.NewReader([]byte("RIFF-dropped")))
	req.Header.Set("Content-Type", "audio/wav")
	if _, err := send(c, req); err == nil {
		t.Fatal("dropped upload answered")
	}
	if r, _ := s.Recording(BizA, "dn-1"); !r.HasAudio || r.Uploads != 1 || r.AudioSize != 12 {
		t.Fatalf("dropped upload did not store the audio: %+v", r)
	}
	if s.Requests(EndpointUpload, 0) != 1 {
		t.Error("dropped upload not counted as 0")
	}

	s.DropNext(EndpointReextract, 1)
	if _, err := try(s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull}); err == nil {
		t.Fatal("dropped reextract answered")
	}
	if r, _ := s.Recording(BizA, "dn-1"); r.Reextracts != 1 {
		t.Fatalf("dropped reextract not counted: %+v", r)
	}
	// Even an error answer is dropped: the work was the refusal.
	s.DropNext(EndpointWhoami, 1)
	if _, err := try(s, c, call{method: "GET", path: "/meta/whoami"}); err == nil {
		t.Fatal("dropped whoami answered")
	}
	if a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 200 {
		t.Fatalf("after the drop: %d", a.status)
	}
}

// codes runs n sequential whoami calls and returns their statuses (0 for
// a dropped one).
func codes(t *testing.T, s *Server, c *http.Client, n int) []int {
	var out []int
	for range n {
		a, err := try(s, c, call{method: "GET", path: "/meta/whoami", token: TokFull})
		if err != nil {
			out = append(out, 0)
			continue
		}
		out = append(out, a.status)
	}
	return out
}

func TestRandomFaults(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, false)
	f := Faults{P500: 0.2, P429: 0.2, PDrop: 0.2, Seed: 42}
	s.SetFaults(f)
	first := codes(t, s, c, 200)
	s.SetFaults(f)
	if again := codes(t, s, c, 200); !slices.Equal(first, again) {
		t.Fatal("the same seed gave other faults")
	}
	n := map[int]int{}
	for _, code := range first {
		n[code]++
	}
	// Expected about 40 / 32 / 26 / 102 of 200; allow wide bounds.
	for _, code := range []int{500, 429, 0, 200} {
		if n[code] < 10 {
			t.Errorf("%d of 200 answered %d: %v", n[code], code, n)
		}
	}
	if got := s.Requests(EndpointWhoami, 500); got != 2*n[500] {
		t.Errorf("Requests(whoami, 500) = %d, want %d", got, 2*n[500])
	}
	s.SetFaults(Faults{Seed: 43, P500: 0.2})
	if other := codes(t, s, c, 200); slices.Equal(first, other) {
		t.Error("another seed gave the same faults")
	}
}

func TestRandomFaultsOnStorage(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, false)
	cr := mustCreate(t, s, c, TokFull, "", "rs-1", "")
	s.SetFaults(Faults{P429: 1})
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("a"), false); a.status != 200 {
		t.Fatalf("P429 applied to storage: %d", a.status)
	}
	if a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Fatalf("P429 on the API: %d", a.status)
	}
	s.SetFaults(Faults{P500: 1})
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("b"), false); a.status != 500 || a.s3Error(t).Code != "InternalError" {
		t.Fatalf("P500 on storage: %d %s", a.status, a.body)
	}
	s.SetFaults(Faults{PDrop: 1})
	req, _ := http.NewRequest(http.MethodPut, cr.UploadURL, bytes.NewReader([]byte("ccc")))
	req.Header.Set("Content-Type", "audio/wav")
	if _, err := send(c, req); err == nil {
		t.Fatal("PDrop on storage answered")
	}
	if r, _ := s.Recording(BizA, "rs-1"); r.Uploads != 2 || r.AudioSize != 3 {
		t.Fatalf("uploads: %+v", r)
	}
}

func TestLatency(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	s.SetFaults(Faults{Latency: 50 * time.Millisecond})
	begin := time.Now()
	if a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: TokFull}); a.status != 200 {
		t.Fatal(a.status)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Fatalf("answered in %v, before the latency", d)
	}
}
