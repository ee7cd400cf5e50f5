package fakecrk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// presign returns the upload URL of recording id of business: an S3-style
// presigned PUT on this server, signed over the path, date, expiry and
// content type.
func (s *Server) presign(r *http.Request, business, id, contentType string, now time.Time, expiry time.Duration) string {
	path := storagePathPrefix + url.PathEscape(business) + "/" + url.PathEscape(id)
	date := now.UTC().Format(amzDateLayout)
	exp := strconv.FormatInt(max(1, int64(expiry/time.Second)), 10)
	q := "X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Date=" + date +
		"&X-Amz-Expires=" + exp +
		"&X-Amz-SignedHeaders=content-type%3Bhost" +
		"&X-Amz-Signature=" + s.sign(business, id, date, exp, contentType)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path + "?" + q
}

func (s *Server) sign(business, id, date, expires, contentType string) string {
	m := hmac.New(sha256.New, s.secret)
	for _, part := range []string{business, id, date, expires, contentType} {
		_, _ = io.WriteString(m, part)
		_, _ = m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// upload answers PUT on a presigned URL, as S3 would: the body is hashed
// while it streams in, and only a complete body replaces the audio.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, _ *principal) {
	reqID := s.nextRequestID()
	fail := func(status int, code, msg string) { writeS3Error(w, status, code, msg, reqID) }

	if r.Header.Get("Authorization") != "" {
		fail(http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	business, id, ok := storageKey(r.URL.EscapedPath())
	q := r.URL.Query()
	date, exp, sig := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"), q.Get("X-Amz-Signature")
	signedAt, derr := time.Parse(amzDateLayout, date)
	secs, eerr := strconv.ParseInt(exp, 10, 64)
	if !ok || date == "" || exp == "" || sig == "" || derr != nil || eerr != nil {
		fail(http.StatusBadRequest, "AuthorizationQueryParametersError", "Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters")
		return
	}
	want := s.sign(business, id, date, exp, r.Header.Get("Content-Type"))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	if s.now().After(signedAt.Add(time.Duration(secs) * time.Second)) {
		fail(http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	b := s.knobs()
	if r.ContentLength < 0 && !b.AllowChunked {
		if b.ChunkedStatus == http.StatusLengthRequired {
			fail(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		} else {
			fail(http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented")
		}
		return
	}
	if b.MaxUploadSize > 0 && r.ContentLength > b.MaxUploadSize {
		fail(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		return
	}
	if !s.exists(business, id) {
		fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}

	sum, n, err := hashBody(r.Body, b.MaxUploadSize)
	switch {
	case errors.Is(err, errTooLarge):
		fail(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		return
	case err != nil:
		fail(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	}

	s.store.mu.Lock()
	rec, ok := s.store.byID[id]
	if ok && rec.BusinessID == business {
		rec.AudioSHA256, rec.AudioSize, rec.HasAudio = sum, n, true
		rec.Uploads++
	}
	s.store.mu.Unlock()
	if !ok {
		fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	w.Header().Set("x-amz-request-id", reqID)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) exists(business, id string) bool {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	rec, ok := s.store.byID[id]
	return ok && rec.BusinessID == business
}

// storageKey splits an escaped /storage/<business>/<id> path.
func storageKey(escaped string) (business, id string, ok bool) {
	b, i, ok := strings.Cut(strings.TrimPrefix(escaped, storagePathPrefix), "/")
	if !ok || b == "" || i == "" || strings.Contains(i, "/") {
		return "", "", false
	}
	var err1, err2 error
	business, err1 = url.PathUnescape(b)
	id, err2 = url.PathUnescape(i)
	return business, id, err1 == nil && err2 == nil
}

// errTooLarge is returned by hashBody for a body beyond its limit.
var errTooLarge = errors.New("upload too large")

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// hashBody streams body through SHA-256, never holding it; limit > 0 caps
// its size.
func hashBody(body io.Reader, limit int64) (sum [32]byte, n int64, err error) {
	h := sha256.New()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	src := struct{ io.Reader }{body} // hide any WriterTo: always use buf
	if limit > 0 {
		src.Reader = io.LimitReader(body, limit+1)
	}
	n, err = io.CopyBuffer(h, src, *buf)
	if err != nil {
		return sum, n, err
	}
	if limit > 0 && n > limit {
		return sum, n, errTooLarge
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}
