package fakecrk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestStoragePut(t *testing.T) {
	audio := []byte("RIFF\x24\x00\x00\x00WAVEfmt some audio bytes")
	tests := []struct {
		name        string
		behaviour   Behaviour
		urlExpiry   time.Duration
		declared    string // contentType in the POST; "" = default
		contentType string // of the PUT
		advance     time.Duration
		chunked     bool
		bearer      bool
		tamper      func(u *url.URL)
		status      int
		code        string
		message     string
	}{
		{name: "ok", contentType: "audio/wav", status: 200},
		{name: "ok chunked where allowed", behaviour: Behaviour{AllowChunked: true}, contentType: "audio/wav", chunked: true, status: 200},
		{name: "declared type", declared: "audio/mpeg", contentType: "audio/mpeg", status: 200},
		{name: "other content type", contentType: "audio/mpeg", status: 403, code: "SignatureDoesNotMatch"},
		{name: "other than declared", declared: "audio/mpeg", contentType: "audio/wav", status: 403, code: "SignatureDoesNotMatch"},
		{name: "no content type", contentType: "", status: 403, code: "SignatureDoesNotMatch"},
		{name: "bad signature", contentType: "audio/wav", status: 403, code: "SignatureDoesNotMatch",
			tamper: func(u *url.URL) { setQuery(u, "X-Amz-Signature", strings.Repeat("0", 64)) }},
		{name: "longer expiry claimed", contentType: "audio/wav", status: 403, code: "SignatureDoesNotMatch",
			tamper: func(u *url.URL) { setQuery(u, "X-Amz-Expires", "604800") }},
		{name: "another recording's path", contentType: "audio/wav", status: 403, code: "SignatureDoesNotMatch",
			tamper: func(u *url.URL) { u.Path = strings.Replace(u.Path, BizA, BizB, 1) }},
		{name: "signature missing", contentType: "audio/wav", status: 400, code: "AuthorizationQueryParametersError",
			tamper: func(u *url.URL) { setQuery(u, "X-Amz-Signature", "") }},
		{name: "just before expiry", contentType: "audio/wav", advance: 15 * time.Minute, status: 200},
		{name: "expired", contentType: "audio/wav", advance: 15*time.Minute + time.Second, status: 403, code: "AccessDenied", message: "Request has expired"},
		{name: "short expiry", urlExpiry: time.Minute, contentType: "audio/wav", advance: 61 * time.Second, status: 403, code: "AccessDenied", message: "Request has expired"},
		{name: "chunked refused as S3 does", contentType: "audio/wav", chunked: true, status: 501, code: "NotImplemented"},
		{name: "chunked refused with 411", behaviour: Behaviour{ChunkedStatus: 411}, contentType: "audio/wav", chunked: true, status: 411, code: "MissingContentLength"},
		{name: "chunked allowed", behaviour: Behaviour{AllowChunked: true}, contentType: "audio/wav", chunked: true, status: 200},
		{name: "length given", contentType: "audio/wav", status: 200},
		{name: "bearer sent to storage", contentType: "audio/wav", bearer: true, status: 400, code: "InvalidArgument"},
		{name: "too large", behaviour: Behaviour{MaxUploadSize: 10}, contentType: "audio/wav", status: 400, code: "EntityTooLarge"},
		{name: "too large chunked", behaviour: Behaviour{MaxUploadSize: 10, AllowChunked: true}, contentType: "audio/wav", chunked: true, status: 400, code: "EntityTooLarge"},
		{name: "at the limit", behaviour: Behaviour{MaxUploadSize: int64(len(audio))}, contentType: "audio/wav", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := start(t, nil)
			s.SetBehaviour(tc.behaviour)
			s.SetFaults(Faults{URLExpiry: tc.urlExpiry})
			c := client(t, true)
			extra := ""
			if tc.declared != "" {
				extra = `"contentType":"` + tc.declared + `"`
			}
			cr := mustCreate(t, s, c, TokFull, "", "st-1", extra)
			u, err := url.Parse(cr.UploadURL)
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != strings.TrimPrefix(strings.TrimSuffix(s.URL(), "/api/v1"), "http://") ||
				!strings.HasPrefix(u.Path, "/storage/"+BizA+"/"+cr.ID) {
				t.Fatalf("upload URL %s", cr.UploadURL)
			}
			for _, p := range []string{"X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"} {
				if u.Query().Get(p) == "" {
					t.Fatalf("upload URL lacks %s: %s", p, cr.UploadURL)
				}
			}
			if tc.tamper != nil {
				tc.tamper(u)
			}
			clk.Advance(tc.advance)
			var body io.Reader = bytes.NewReader(audio)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: chunked
			}
			req, _ := http.NewRequest(http.MethodPut, u.String(), body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.bearer {
				req.Header.Set("Authorization", "Bearer "+TokFull)
			}
			a, err := send(c, req)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			r, _ := s.Recording(BizA, "st-1")
			if tc.status != 200 {
				e := a.s3Error(t)
				if e.Code != tc.code || (tc.message != "" && e.Message != tc.message) {
					t.Fatalf("error %+v, want %s %q", e, tc.code, tc.message)
				}
				if r.HasAudio || r.Uploads != 0 {
					t.Fatalf("a refused upload changed the recording: %+v", r)
				}
				return
			}
			sum := sha256.Sum256(audio)
			if !r.HasAudio || r.Uploads != 1 || r.AudioSize != int64(len(audio)) || r.AudioSHA256 != sum {
				t.Fatalf("after upload: %+v", r)
			}
			if want := `"` + hex.EncodeToString(sum[:16]) + `"`; a.header.Get("ETag") != want {
				t.Errorf("ETag %q, want %q", a.header.Get("ETag"), want)
			}
		})
	}
}

func setQuery(u *url.URL, k, v string) {
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
}

func TestStorageReplacesAudioAndSignsNewType(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "re-1", "")
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("first"), false); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	// A repeat POST declaring another type gets a URL signed for it; the
	// old URL stays valid for the old type until it expires.
	again := mustCreate(t, s, c, TokFull, "", "re-1", `"contentType":"audio/ogg"`)
	if a := put(t, c, again.UploadURL, "audio/wav", []byte("x"), false); a.status != 403 {
		t.Fatalf("new URL with old type: %d", a.status)
	}
	if a := put(t, c, again.UploadURL, "audio/ogg", []byte("second!"), false); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	r, _ := s.Recording(BizA, "re-1")
	if r.Uploads != 2 || r.AudioSize != 7 || r.AudioSHA256 != sha256.Sum256([]byte("second!")) {
		t.Fatalf("after second upload: %+v", r)
	}
	if a := put(t, c, cr.UploadURL, "audio/wav", []byte("third"), false); a.status != 200 || s.Count(EndpointUpload) != 4 {
		t.Fatalf("old URL: %d, count %d", a.status, s.Count(EndpointUpload))
	}
}

func TestStorageRoutes(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "rt-1", "")
	base := strings.TrimSuffix(s.URL(), "/api/v1")
	tests := []struct {
		method, url string
		status      int
		code        string
	}{
		{"GET", cr.UploadURL, 405, "MethodNotAllowed"},
		{"DELETE", cr.UploadURL, 405, "MethodNotAllowed"},
		{"PUT", base + "/storage/" + BizA, 400, "AuthorizationQueryParametersError"},
		{"PUT", base + "/storage/" + BizA + "/" + cr.ID + "/extra", 400, "AuthorizationQueryParametersError"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			req.Header.Set("Content-Type", "audio/wav")
			a, err := send(c, req)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tc.status || a.s3Error(t).Code != tc.code {
				t.Fatalf("%d %s", a.status, a.body)
			}
		})
	}
}

// TestStorageIncompleteBody sends fewer bytes than Content-Length and hangs
// up: the recording keeps no audio.
func TestStorageIncompleteBody(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokFull, "", "cut-1", "")
	u, _ := url.Parse(cr.UploadURL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: audio/wav\r\nContent-Length: 1000\r\n\r\n%s",
		u.RequestURI(), u.Host, strings.Repeat("a", 400))
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("incomplete body answered 200")
		}
	}
	waitFor(t, "the upload to be answered", func() bool { return s.Requests(EndpointUpload, 400) == 1 })
	if r, _ := s.Recording(BizA, "cut-1"); r.HasAudio || r.Uploads != 0 {
		t.Fatalf("incomplete body stored: %+v", r)
	}
}

func TestExpireNextUploads(t *testing.T) {
	srv, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.ExpireNextUploads(1)
	put := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPut, srv.base+storagePathPrefix+"b/x", strings.NewReader("abc"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := put(); code != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "Request has expired") {
		t.Fatalf("first PUT: %d %s, want 403 AccessDenied Request has expired", code, body)
	}
	if _, body := put(); strings.Contains(body, "Request has expired") {
		t.Fatalf("second PUT still expired: %s", body)
	}
}
