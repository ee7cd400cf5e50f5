package sink_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

// stripAuth drops the Authorization header on the way out, as a
// misconfigured proxy would: the only way to have the API say missing_token
// to a client that always sends one.
type stripAuth struct{ base http.RoundTripper }

func (s stripAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return s.base.RoundTrip(r)
}

// TestErrorCodes: every code of the API's error table, produced by the fake
// for real, comes back typed: status, code and message kept, the matching
// sentinel and no other, and the right classification.
func TestErrorCodes(t *testing.T) {
	tests := []struct {
		code      string
		token     string
		business  string
		strip     bool
		limit     int // the fake's RateLimit
		call      func(t *testing.T, c *client, srv *fakecrk.Server) error
		endpoint  string
		status    int
		message   string
		sentinel  error
		auth      bool
		permanent bool
		// sent is how many requests the fake saw at the endpoint; 0 means
		// 1. A client of 4 attempts sends a request that may pass by
		// itself again, when that cannot cost twice.
		sent int
	}{
		{
			code: "business_required", token: fakecrk.TokAccount, endpoint: "create", status: 400,
			call:     create("br-1"),
			message:  "X-Business-Id header is required for account keys",
			sentinel: sink.ErrBusinessRequired, auth: true,
		},
		{
			code: "missing_token", token: fakecrk.TokFull, strip: true, endpoint: "whoami", status: 401,
			call:     whoami,
			message:  "Missing Authorization header",
			sentinel: sink.ErrMissingToken, auth: true,
		},
		{
			code: "invalid_token", token: fakecrk.TokWrong, endpoint: "whoami", status: 401,
			call:     whoami,
			message:  "Invalid or expired token",
			sentinel: sink.ErrInvalidToken, auth: true,
		},
		{
			code: "token_disabled", token: fakecrk.TokOff, endpoint: "create", status: 401,
			call:     create("td-1"),
			message:  "Token has been revoked",
			sentinel: sink.ErrTokenDisabled, auth: true,
		},
		{
			code: "insufficient_scope", token: fakecrk.TokView, endpoint: "create", status: 403,
			call:     create("is-1"),
			message:  "Token lacks 'manage_call_recording'",
			sentinel: sink.ErrInsufficientScope, auth: true,
		},
		{
			code: "forbidden_business", token: fakecrk.TokAccount, business: fakecrk.BizC, endpoint: "list", status: 403,
			call: func(t *testing.T, c *client, _ *fakecrk.Server) error {
				_, err := c.List(t.Context(), sink.Query{})
				return err
			},
			message:  "Business not accessible with this key",
			sentinel: sink.ErrForbiddenBusiness, auth: true,
		},
		{
			code: "not_found", token: fakecrk.TokFull, endpoint: "reextract", status: 404,
			call: func(t *testing.T, c *client, _ *fakecrk.Server) error {
				_, err := c.Reextract(t.Context(), "00000000-0000-4000-8000-000000000000")
				return err
			},
			message:  "Recording not found",
			sentinel: sink.ErrNotFound, permanent: true,
		},
		{
			code: "validation_failed", token: fakecrk.TokFull, endpoint: "create", status: 422,
			call: func(t *testing.T, c *client, _ *fakecrk.Server) error {
				r := rec("vf-1")
				r.Direction = "sideways"
				_, err := c.Create(t.Context(), r)
				return err
			},
			message:  `direction: must be "in" or "out"`,
			sentinel: sink.ErrValidation, permanent: true,
		},
		{
			code: "rate_limited", token: fakecrk.TokFull, limit: 1, endpoint: "whoami", status: 429,
			call: func(t *testing.T, c *client, _ *fakecrk.Server) error {
				if _, err := c.WhoAmI(t.Context()); err != nil {
					return fmt.Errorf("the first request should pass: %w", err)
				}
				return whoami(t, c, nil)
			},
			message: "Too many requests",
			// The first whoami, then 4 attempts refused.
			sentinel: sink.ErrRateLimited, sent: 5,
		},
		{
			code: "internal_error", token: fakecrk.TokFull, endpoint: "reextract", status: 500,
			call: func(t *testing.T, c *client, srv *fakecrk.Server) error {
				cr := mustUpload(t, c, "ie-1", 1000)
				srv.FailNext(fakecrk.EndpointReextract, http.StatusInternalServerError, 1)
				_, err := c.Reextract(t.Context(), cr.ID)
				return err
			},
			message: "injected fault",
			// A fault that may pass, but asking for AI processing costs
			// money: it is not sent again.
			sentinel: sink.ErrInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := startFake(t, func(o *fakecrk.Options) { o.RateLimit, o.Burst = tt.limit, 1 })
			c := newClient(t, srv.URL(), tt.token, func(c *sink.Config, d *sink.Deps) {
				c.BusinessID = tt.business
				if tt.strip {
					d.HTTP.Transport = stripAuth{d.HTTP.Transport}
				}
			})
			err := tt.call(t, c, srv)
			ae := apiError(t, err)
			if ae.Endpoint != tt.endpoint || ae.Status != tt.status || ae.Code != tt.code || ae.Message != tt.message {
				t.Errorf("APIError %+v, want %s %d %s %q", *ae, tt.endpoint, tt.status, tt.code, tt.message)
			}
			if want := fmt.Sprintf("crk %s: %d %s: %s", tt.endpoint, tt.status, tt.code, tt.message); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			matchesOnly(t, err, tt.sentinel)
			if got := sink.IsAuth(err); got != tt.auth {
				t.Errorf("IsAuth = %v, want %v", got, tt.auth)
			}
			if got := sink.Permanent(err); got != tt.permanent {
				t.Errorf("Permanent = %v, want %v", got, tt.permanent)
			}
			if n := srv.Count(fakecrk.Endpoint(tt.endpoint)); n != max(tt.sent, 1) {
				t.Errorf("%d %s requests, want %d", n, tt.endpoint, max(tt.sent, 1))
			}
			if tt.status == 429 && (ae.RetryAfter < 59*time.Second || ae.RetryAfter > time.Minute) {
				t.Errorf("RetryAfter %v, want the fake's minute", ae.RetryAfter)
			}
		})
	}
}

func whoami(t *testing.T, c *client, _ *fakecrk.Server) error {
	_, err := c.WhoAmI(t.Context())
	return err
}

func create(dataID string) func(t *testing.T, c *client, _ *fakecrk.Server) error {
	return func(t *testing.T, c *client, _ *fakecrk.Server) error {
		_, err := c.Create(t.Context(), rec(dataID))
		return err
	}
}

// TestErrorBodies: answers that are not the API's JSON error shape (a
// proxy's page, an empty body, another JSON shape, garbage) still come back
// as an *APIError, with a short printable excerpt, matched by status where
// the status has one code.
func TestErrorBodies(t *testing.T) {
	long := strings.Repeat("<p>Ошибка — error\xff\xfe ", 20000) // ~500 KB, invalid UTF-8 included
	tests := []struct {
		name        string
		status      int
		ctype, body string
		header      map[string]string
		wantCode    string
		wantMsg     string // "" = the message must be empty; "~x" = must contain x
		sentinel    error
		auth        bool
		permanent   bool
		// retried: the answer may pass by itself, so a client of 2
		// attempts asks again (whoami costs nothing).
		retried bool
	}{
		{
			name: "html 502 from a proxy", status: 502, ctype: "text/html",
			body:    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			wantMsg: "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>",
			// 502 has no code in the table: no sentinel, but it may pass.
			retried: true,
		},
		{
			name: "plain 500", status: 500, ctype: "text/plain", body: "Internal Server Error\n",
			wantMsg: "Internal Server Error", sentinel: sink.ErrInternal, retried: true,
		},
		{
			name: "empty 503", status: 503, wantMsg: "", retried: true,
		},
		{
			name: "html 404", status: 404, ctype: "text/html", body: "<h1>Not Found</h1>",
			wantMsg: "<h1>Not Found</h1>", sentinel: sink.ErrNotFound, permanent: true,
		},
		{
			name: "429 without JSON", status: 429, body: "slow down", header: map[string]string{"Retry-After": "7"},
			wantMsg: "slow down", sentinel: sink.ErrRateLimited, retried: true,
		},
		{
			name: "401 page from a gateway", status: 401, ctype: "text/html", body: "<h1>401 Authorization Required</h1>",
			wantMsg: "~401 Authorization Required", auth: true,
		},
		{
			name: "403 page from a firewall", status: 403, ctype: "text/html", body: "<h1>Access denied</h1>",
			wantMsg: "~Access denied", auth: true,
		},
		{
			name: "401 with an undocumented code", status: 401, ctype: "application/json",
			body: `{"error":{"code":"token_expired","message":"Token expired"}}`, wantCode: "token_expired",
			wantMsg: "Token expired", auth: true,
		},
		{
			name: "json of another shape", status: 400, ctype: "application/json", body: `{"error":"bad thing"}`,
			wantMsg: `{"error":"bad thing"}`, permanent: true,
		},
		{
			name: "json error without code", status: 422, ctype: "application/json", body: `{"error":{"message":"nope"}}`,
			wantMsg: `{"error":{"message":"nope"}}`, sentinel: sink.ErrValidation, permanent: true,
		},
		{
			name: "huge garbage", status: 500, ctype: "text/html", body: long,
			wantMsg: "~<p>Ошибка — error? <p>", sentinel: sink.ErrInternal, retried: true,
		},
		{
			// 3 bytes a character: byte 200 falls inside one.
			name: "long Thai page", status: 500, ctype: "text/html", body: strings.Repeat("ก", 100),
			wantMsg: strings.Repeat("ก", 66) + "…", sentinel: sink.ErrInternal, retried: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			base := stub(t, func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := newClient(t, base, tokHTTPTest, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 2 })
			_, err := c.WhoAmI(t.Context())
			ae := apiError(t, err)
			if ae.Status != tt.status || ae.Code != tt.wantCode {
				t.Errorf("status %d code %q, want %d %q", ae.Status, ae.Code, tt.status, tt.wantCode)
			}
			if m, ok := strings.CutPrefix(tt.wantMsg, "~"); ok {
				if !strings.Contains(ae.Message, m) {
					t.Errorf("message %q does not hold %q", ae.Message, m)
				}
			} else if ae.Message != tt.wantMsg {
				t.Errorf("message %q, want %q", ae.Message, tt.wantMsg)
			}
			if !utf8.ValidString(ae.Message) || strings.ContainsAny(ae.Message, "\r\n\t") || utf8.RuneCountInString(ae.Message) > 201 {
				t.Errorf("message is not a short printable line: %q", ae.Message)
			}
			if len(tt.body) > 200 && !strings.HasSuffix(ae.Message, "…") {
				t.Errorf("a cut message should end in …: %q", ae.Message)
			}
			code := tt.wantCode
			if code == "" {
				code = http.StatusText(tt.status)
			}
			wantErr := fmt.Sprintf("crk whoami: %d %s", tt.status, code)
			if ae.Message != "" {
				wantErr += ": " + ae.Message
			}
			if err.Error() != wantErr {
				t.Errorf("error %q, want %q", err, wantErr)
			}
			matchesOnly(t, err, tt.sentinel)
			if got := sink.IsAuth(err); got != tt.auth {
				t.Errorf("IsAuth = %v, want %v", got, tt.auth)
			}
			if got := sink.Permanent(err); got != tt.permanent {
				t.Errorf("Permanent = %v, want %v", got, tt.permanent)
			}
			if want := map[bool]int32{false: 1, true: 2}[tt.retried]; requests.Load() != want {
				t.Errorf("%d requests, want %d", requests.Load(), want)
			}
			if tt.header["Retry-After"] == "7" && ae.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter %v, want 7s", ae.RetryAfter)
			}
		})
	}
}

// TestClassifyOtherErrors: the classifiers on errors that are not API
// answers, wrapped or not.
func TestClassifyOtherErrors(t *testing.T) {
	expired := &sink.UploadError{Status: 403, Code: "AccessDenied", Message: "Request has expired"}
	tests := []struct {
		name            string
		err             error
		auth, permanent bool
	}{
		{"nil", nil, false, false},
		{"plain", errors.New("boom"), false, false},
		{"context canceled", context.Canceled, false, false},
		{"network", &sink.NetError{Endpoint: "create", Err: errors.New("connection reset"), Sent: true}, false, false},
		{"wrapped network", fmt.Errorf("pass: %w", &sink.NetError{Endpoint: "list", Err: context.DeadlineExceeded}), false, false},
		{"expired upload URL", expired, false, false},
		{"wrapped expired upload URL", fmt.Errorf("x: %w", expired), false, false},
		{"storage refusal", &sink.UploadError{Status: 400, Code: "EntityTooLarge"}, false, false},
		{"storage 503", &sink.UploadError{Status: 503, Code: "SlowDown"}, false, false},
		{"storage 429", &sink.UploadError{Status: 429}, false, false},
		{"wrapped API 422", fmt.Errorf("x: %w", &sink.APIError{Status: 422, Code: "validation_failed"}), false, true},
		{"API 408", &sink.APIError{Status: 408}, false, false},
		{"API 409", &sink.APIError{Status: 409, Code: "audio_missing"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sink.IsAuth(tt.err); got != tt.auth {
				t.Errorf("IsAuth = %v, want %v", got, tt.auth)
			}
			if got := sink.Permanent(tt.err); got != tt.permanent {
				t.Errorf("Permanent = %v, want %v", got, tt.permanent)
			}
		})
	}
}

// TestUploadErrorIs: which storage answers count as an expired URL.
func TestUploadErrorIs(t *testing.T) {
	tests := []struct {
		e                 sink.UploadError
		expired, rejected bool
	}{
		{sink.UploadError{Status: 403, Code: "AccessDenied", Message: "Request has expired"}, true, false},
		{sink.UploadError{Status: 400, Code: "ExpiredToken", Message: "The provided token has expired."}, true, false},
		{sink.UploadError{Status: 403, Code: "RequestExpired"}, true, false},
		{sink.UploadError{Status: 403, Code: "AccessDenied", Message: "Access Denied"}, false, true},
		{sink.UploadError{Status: 403, Code: "SignatureDoesNotMatch"}, false, true},
		{sink.UploadError{Status: 411, Code: "MissingContentLength"}, false, true},
		{sink.UploadError{Status: 500, Code: "InternalError"}, false, false},
		{sink.UploadError{Status: 429}, false, false},
	}
	for _, tt := range tests {
		e := tt.e
		if got := errors.Is(&e, sink.ErrUploadExpired); got != tt.expired {
			t.Errorf("%v: expired = %v, want %v", &e, got, tt.expired)
		}
		if got := errors.Is(&e, sink.ErrUploadRejected); got != tt.rejected {
			t.Errorf("%v: rejected = %v, want %v", &e, got, tt.rejected)
		}
	}
}
