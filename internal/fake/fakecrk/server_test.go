package fakecrk

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakelog"
)

// TestConcurrentUse drives every endpoint from many goroutines while the
// knobs change, for the race detector, and checks the counts add up.
func TestConcurrentUse(t *testing.T) {
	const workers, each = 8, 25
	s, _ := start(t, nil)
	c := client(t, true)
	stop := make(chan struct{})
	var knobs sync.WaitGroup
	knobs.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.SetFaults(Faults{Seed: int64(i)})
			s.SetBehaviour(Behaviour{SearchAllFields: i%2 == 0})
			_ = s.Recordings()
			_ = s.Requests(EndpointCreate, 201)
		}
	})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("cc-%d-%d", w, i)
				a, err := try(s, c, call{method: "POST", path: "/recordings", token: TokFull, body: createBody(id, "")})
				if err != nil || a.status != 201 {
					errs <- fmt.Errorf("create %s: %v %d", id, err, a.status)
					return
				}
				var cr created
				a.decode(t, &cr)
				req, _ := http.NewRequest(http.MethodPut, cr.UploadURL, strings.NewReader(id))
				req.Header.Set("Content-Type", "audio/wav")
				if a, err := send(c, req); err != nil || a.status != 200 {
					errs <- fmt.Errorf("upload %s: %v %d", id, err, a.status)
					return
				}
				if a, err := try(s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokFull}); err != nil || a.status != 202 {
					errs <- fmt.Errorf("reextract %s: %v %d", id, err, a.status)
					return
				}
				if a, err := try(s, c, call{method: "GET", path: "/recordings?search=" + id, token: TokFull}); err != nil || a.status != 200 {
					errs <- fmt.Errorf("list %s: %v %d", id, err, a.status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	knobs.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs := s.Recordings()
	if len(recs) != workers*each {
		t.Fatalf("%d recordings", len(recs))
	}
	for _, r := range recs {
		if r.Creates != 1 || r.Uploads != 1 || r.Reextracts != 1 || r.AudioSize != int64(len(r.DataID)) {
			t.Fatalf("%+v", r)
		}
	}
	for _, ep := range []Endpoint{EndpointCreate, EndpointUpload, EndpointReextract, EndpointList} {
		if s.Count(ep) != workers*each {
			t.Errorf("Count(%s) = %d", ep, s.Count(ep))
		}
	}
}

func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	var logs fakelog.Buffer
	s, clk := start(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.RateLimit, o.Burst = 60, 1
	})
	c := client(t, true)
	tokens := []string{TokFull, TokIngest, TokView, TokSelf, TokNone, TokOff, TokOld, TokB, TokAccount, TokOther, "crk_never_seen_9z9z"}
	var bodies []string
	for _, tok := range tokens {
		for range 2 { // the second is rate limited
			for _, k := range []call{
				{method: "GET", path: "/meta/whoami", token: tok},
				{method: "POST", path: "/recordings", token: tok, body: createBody("sec-1", "")},
				{method: "GET", path: "/recordings", token: tok, business: BizC},
			} {
				bodies = append(bodies, string(do(t, s, c, k).body))
			}
		}
	}
	clk.Advance(time.Minute)
	cr := mustCreate(t, s, c, TokB, "", "sec-2", "")
	req, _ := http.NewRequest(http.MethodPut, cr.UploadURL, strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+TokB)
	a, err := send(c, req)
	if err != nil || a.status != 400 {
		t.Fatalf("bearer to storage: %v %d", err, a.status)
	}
	bodies = append(bodies, string(a.body))

	_, startErr := Start(Options{Tokens: map[string]Token{"crk_secret_in_options": {Level: LevelBusiness}}})
	_, startErr2 := Start(Options{Tokens: map[string]Token{"crk_secret_in_options": {Level: "owner"}}})
	if startErr == nil || startErr2 == nil {
		t.Fatal("Start accepted a business key without a business or an unknown level")
	}
	out := logs.String() + strings.Join(bodies, "\n") + startErr.Error() + startErr2.Error()
	if !strings.Contains(logs.String(), "crk fake request") {
		t.Fatal("nothing was logged")
	}
	for _, tok := range append(tokens, "crk_secret_in_options") {
		if strings.Contains(out, tok) {
			t.Errorf("token %s… appears in logs, answers or errors", tok[:6])
		}
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"business without id", Options{Businesses: []Business{{Name: "x"}}}},
		{"business twice", Options{Businesses: []Business{{ID: "a"}, {ID: "a"}}}},
		{"business key without business", Options{Tokens: map[string]Token{"crk_x": {}}}},
		{"account key without user", Options{Tokens: map[string]Token{"crk_x": {Level: LevelAccount}}}},
		{"unknown level", Options{Tokens: map[string]Token{"crk_x": {Level: "root", BusinessID: "a"}}}},
		{"negative rate", Options{RateLimit: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := Start(tc.opts); err == nil {
				_ = s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestClose(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/api/v1") {
		t.Fatalf("URL %s", s.URL())
	}
	c := client(t, false)
	if a := do(t, s, c, call{method: "GET", path: "/meta/whoami"}); a.status != 401 {
		t.Fatalf("before Close: %d", a.status)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := try(s, c, call{method: "GET", path: "/meta/whoami"}); err == nil {
		t.Fatal("answered after Close")
	}
}

func TestHandlerBehindAnotherServer(t *testing.T) {
	s, _ := start(t, nil)
	other := httptest.NewServer(s.Handler()) // 127.0.0.1
	defer other.Close()
	c := client(t, true)
	a, err := send(c, mustRequest(t, "POST", other.URL+"/api/v1/recordings", createBody("h-1", ""), TokFull))
	if err != nil || a.status != 201 {
		t.Fatalf("create through Handler: %v %d", err, a.status)
	}
	var cr created
	a.decode(t, &cr)
	if !strings.HasPrefix(cr.UploadURL, other.URL+"/storage/") {
		t.Fatalf("upload URL %s does not point at the serving host %s", cr.UploadURL, other.URL)
	}
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("RIFF"), false); a.status != 200 {
		t.Fatalf("upload through Handler: %d", a.status)
	}
	if r, _ := s.Recording(BizA, "h-1"); !r.HasAudio {
		t.Fatal("no audio")
	}
}

func mustRequest(t *testing.T, method, url, body, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func TestAddRecordingReplaces(t *testing.T) {
	s, _ := start(t, nil)
	s.AddRecording(BizA, Recording{DataID: "seed-1", CallAt: "2026-05-20T08:00:00+07:00", Direction: "in"})
	s.AddRecording(BizA, Recording{DataID: "seed-1", CallAt: "2026-05-20T09:00:00+07:00", Direction: "out", ID: "rec_7"})
	got := s.Recordings()
	if len(got) != 1 || got[0].ID != "rec_7" || got[0].Direction != "out" || got[0].SourceProvider != SourceUpload {
		t.Fatalf("%+v", got)
	}
	c := client(t, true)
	// The seeded id is the one the API knows.
	s.AddRecording(BizA, Recording{DataID: "seed-1", ID: "rec_7", CallAt: "2026-05-20T09:00:00+07:00", Direction: "out", HasAudio: true})
	if a := do(t, s, c, call{method: "POST", path: "/recordings/rec_7/reextract", token: TokFull}); a.status != 202 {
		t.Fatalf("reextract of a seeded recording: %d %s", a.status, a.body)
	}
	if cr := mustCreate(t, s, c, TokFull, "", "seed-1", ""); cr.ID != "rec_7" {
		t.Fatalf("create of a seeded dataId gave id %s", cr.ID)
	}
	if _, ok := s.Recording(BizA, "nope"); ok {
		t.Fatal("found a recording never made")
	}
}
