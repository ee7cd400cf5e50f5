package fakecrk

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

// start runs a fake holding Fixture on a fake clock; edit adjusts
// the options first.
func start(t testing.TB, edit func(*Options)) (*Server, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC))
	opts := Fixture()
	opts.Now = clk.Now
	if edit != nil {
		edit(&opts)
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, clk
}

// client is an HTTP client of its own for one test.
func client(t testing.TB, keepAlive bool) *http.Client {
	tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// call is one API request.
type call struct {
	method, path    string // path below the API base, e.g. /recordings
	token, business string
	body            string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// apiError decodes the API's error shape, failing the test when the
// answer is not in it.
func (a answer) apiError(t testing.TB) errorDetail {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer %d has Content-Type %q, want application/json", a.status, ct)
	}
	var e struct {
		Error *errorDetail `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == nil || e.Error.Code == "" {
		t.Fatalf("answer %d is not the error shape: %s", a.status, a.body)
	}
	return *e.Error
}

// s3Error decodes storage's XML error shape.
func (a answer) s3Error(t testing.TB) s3Error {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("storage answer %d has Content-Type %q, want application/xml", a.status, ct)
	}
	var e s3Error
	if err := xml.Unmarshal(a.body, &e); err != nil || e.Code == "" {
		t.Fatalf("storage answer %d is not S3 XML: %s", a.status, a.body)
	}
	return e
}

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func do(t testing.TB, s *Server, c *http.Client, k call) answer {
	t.Helper()
	a, err := try(s, c, k)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func try(s *Server, c *http.Client, k call) (answer, error) {
	var body io.Reader
	if k.body != "" {
		body = strings.NewReader(k.body)
	}
	req, err := http.NewRequest(k.method, s.URL()+k.path, body)
	if err != nil {
		return answer{}, err
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	if k.business != "" {
		req.Header.Set("X-Business-Id", k.business)
	}
	if k.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(c, req)
}

func send(c *http.Client, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// created is the answer of a successful create.
type created struct {
	ID               string `json:"id"`
	DataID           string `json:"dataId"`
	UploadURL        string `json:"uploadUrl"`
	ProcessingStatus string `json:"processingStatus"`
}

func createBody(dataID string, extra string) string {
	b := `{"dataId":"` + dataID + `","callAt":"2026-05-20T08:14:00+07:00","direction":"in","audioPresignedUploadUrl":true`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

// mustCreate posts dataID for tok and returns the answer.
func mustCreate(t testing.TB, s *Server, c *http.Client, tok, biz, dataID, extra string) created {
	t.Helper()
	a := do(t, s, c, call{method: "POST", path: "/recordings", token: tok, business: biz, body: createBody(dataID, extra)})
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		t.Fatalf("create %s: %d %s", dataID, a.status, a.body)
	}
	var cr created
	a.decode(t, &cr)
	return cr
}

// put uploads body to url with contentType; chunked hides its length.
func put(t testing.TB, c *http.Client, url, contentType string, body []byte, chunked bool) answer {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length
	}
	req, err := http.NewRequest(http.MethodPut, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	a, err := send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
