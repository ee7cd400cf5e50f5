// Package sink is the client of the CRK Call Recording AI API: it checks the
// token, creates recordings, streams their audio to presigned storage URLs,
// triggers re-extraction and looks recordings up, with one shared rate
// limiter, bounded retries and typed errors.
//
// It is the only layer that retries a CRK request (Config.Retry): a 429
// always, a 5xx or a network failure only for requests that do no harm
// twice; a request that may cost twice (reextract, notify) only when CRK
// surely did not act; an upload never. The syncer does not send again in
// the same pass what failed here; the next pass is the retry
// (docs/retries.md).
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/httpsafe"
)

// Config is what a Client needs. BaseURL and Token are required.
type Config struct {
	BaseURL    string // e.g. https://phone.mcloud.co.th/api/v1
	Token      string // crk_…; never logged, never in an error
	BusinessID string // sent as X-Business-Id on data calls when set (account keys)
	UserAgent  string
	// Timeout bounds each API request; 0 means 30 s. Uploads are bounded by
	// UploadStall instead, since a large file may take long to send.
	Timeout time.Duration
	// UploadStall is how long an upload may make no progress (and how long
	// storage may take to answer once the body is sent); 0 means 60 s.
	UploadStall time.Duration
	Retry       Retry
}

// Deps are what a Client is built with. The shared HTTP client is used
// as it is if it has a CheckRedirect of its own, else through a copy with
// httpsafe.CheckRedirect, so that the token never follows a redirect to
// clear text or to another host. Its metrics are
// syncd_crk_requests_total{endpoint,code} and
// syncd_crk_request_duration_seconds{endpoint}.
type Deps struct {
	deps.Shared
	// Limiter paces every CRK API call of the process (every attempt,
	// retries included). Share one between every Client and the alerter.
	// nil means unlimited.
	Limiter *rate.Limiter
}

// Retry bounds the retries of one request. Zero values take the defaults.
type Retry struct {
	Attempts      int           // tries in all, first included; default 5
	Base          time.Duration // first backoff; default 500 ms
	Max           time.Duration // cap of one backoff; default 30 s
	MaxRetryAfter time.Duration // cap on a server's Retry-After; default 2 min
}

// NewLimiter returns a limiter allowing perMinute requests a minute, evenly
// spaced (burst 1), so that a server counting per minute never sees more.
func NewLimiter(perMinute int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), 1)
}

// Client talks to one CRK API base URL with one token. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter
	log     *slog.Logger
	now     func() time.Time
	m       *metrics
}

// New checks cfg and returns a Client. It does no I/O.
func New(cfg Config, d Deps) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("crk: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.Token == "" {
		return nil, errors.New("crk: no API token")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.UploadStall <= 0 {
		cfg.UploadStall = 60 * time.Second
	}
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry.Attempts = 5
	}
	if cfg.Retry.Base <= 0 {
		cfg.Retry.Base = 500 * time.Millisecond
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = 30 * time.Second
	}
	if cfg.Retry.MaxRetryAfter <= 0 {
		cfg.Retry.MaxRetryAfter = 2 * time.Minute
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "syncd"
	}
	sh := d.Shared.Defaulted()
	return &Client{
		cfg: cfg, base: u, http: httpsafe.WithRedirectPolicy(sh.HTTP), limiter: d.Limiter,
		log: sh.Logger, now: sh.Now, m: newMetrics(sh.Registerer),
	}, nil
}

// call is one API request.
type call struct {
	endpoint string // metric label and error prefix
	method   string
	path     string // below the base URL
	query    url.Values
	body     any // marshalled as JSON when non-nil
	out      any // decoded from a 2xx JSON body when non-nil
	// idempotent requests are retried on 5xx and network errors too;
	// others only when the server surely did not act (429, refused dial).
	idempotent bool
	data       bool // a data endpoint: X-Business-Id goes along
	// optionalOut: a 2xx whose body is empty or not JSON still succeeds
	// (out is left as it was). For answers whose shape is undocumented.
	optionalOut bool
}

func (c *Client) do(ctx context.Context, cl call) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("crk %s: encoding request: %w", cl.endpoint, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return fmt.Errorf("crk %s: waiting for the rate limiter: %w", cl.endpoint, ctxErr(ctx, err))
			}
		}
		reqErr := c.once(ctx, cl, payload)
		if reqErr == nil {
			return nil
		}
		wait, retry := c.backoff(cl, reqErr, attempt)
		if !retry || ctx.Err() != nil {
			return reqErr
		}
		c.log.Debug("crk request failed, retrying", "endpoint", cl.endpoint, "attempt", attempt, "wait", wait, "err", reqErr)
		if err := deps.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (gave up waiting to retry: %w)", reqErr, err)
		}
	}
}

func (c *Client) once(ctx context.Context, cl call, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.base.JoinPath(cl.path)
	u.RawQuery = cl.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("crk %s: %w", cl.endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.data && c.cfg.BusinessID != "" {
		req.Header.Set("X-Business-Id", c.cfg.BusinessID)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.m.observe(cl.endpoint, "error", time.Since(start))
		return &NetError{Endpoint: cl.endpoint, Err: cleanNetErr(err), Sent: !dialFailed(err)}
	}
	defer resp.Body.Close()
	c.m.observe(cl.endpoint, strconv.Itoa(resp.StatusCode), time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.readAPIError(cl.endpoint, resp)
	}
	if cl.out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpsafe.MaxDrain))
		return nil
	}
	// Bounded after decompression: net/http inflates a gzip answer itself.
	answer := httpsafe.JSON(resp.Body, httpsafe.MaxAnswer, "the "+cl.endpoint+" answer")
	if err := json.NewDecoder(answer).Decode(cl.out); err != nil {
		if !cl.optionalOut {
			return &NetError{Endpoint: cl.endpoint, Err: fmt.Errorf("decoding the %d answer: %w", resp.StatusCode, err), Sent: true}
		}
		if errors.Is(err, httpsafe.ErrTooLarge) {
			// The answer's shape is optional; the request itself succeeded.
			c.log.Warn("crk answer not read", "endpoint", cl.endpoint, "status", resp.StatusCode, "err", err)
		}
	}
	return nil
}

// backoff says whether to retry after err and how long to wait first.
func (c *Client) backoff(cl call, err error, attempt int) (time.Duration, bool) {
	if attempt >= c.cfg.Retry.Attempts {
		return 0, false
	}
	var ae *APIError
	var ne *NetError
	switch {
	case errors.Is(err, httpsafe.ErrUnsafeRedirect), errors.Is(err, httpsafe.ErrTooLarge):
		return 0, false // the same request would get the same answer
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		if ae.RetryAfter > 0 {
			return min(ae.RetryAfter, c.cfg.Retry.MaxRetryAfter), true
		}
	case errors.As(err, &ae) && ae.Status >= 500 && cl.idempotent:
	case errors.As(err, &ne) && ne.Timeout() && !cl.idempotent:
		return 0, false
	case errors.As(err, &ne) && (cl.idempotent || !ne.Sent):
	default:
		return 0, false
	}
	return jitter(c.cfg.Retry.Base, c.cfg.Retry.Max, attempt), true
}

// jitter is capped exponential backoff with full jitter.
func jitter(base, maxWait time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	return d/2 + rand.N(d/2+1)
}

// readAPIError turns a non-2xx answer into an *APIError, whatever its body.
// Only the body's first httpsafe.MaxErrorBody bytes are read; the code and
// message taken from them are scrubbed of credentials (a proxy's page may
// echo the request's Authorization header).
func (c *Client) readAPIError(endpoint string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, httpsafe.MaxErrorBody))
	e := &APIError{Endpoint: endpoint, Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = max(t.Sub(c.now()), 0)
		}
	}
	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &shape) == nil && shape.Error.Code != "" {
		e.Code, e.Message = c.excerpt([]byte(shape.Error.Code)), c.excerpt([]byte(shape.Error.Message))
	} else {
		e.Message = c.excerpt(raw)
	}
	return e
}

// excerpt is a short, single-line, printable rendering of a foreign body,
// without the token or any other credential (httpsafe.Redact).
func (c *Client) excerpt(raw []byte) string {
	s := httpsafe.Redact(strings.ToValidUTF8(string(raw), "?"), c.cfg.Token)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // never split a character
		}
		s = s[:cut] + "…"
	}
	return s
}

// NetError is a request that got no usable answer: the connection failed or
// dropped, or the answer could not be read.
type NetError struct {
	Endpoint string
	Err      error
	// Sent is false when the request surely never reached the server (the
	// dial failed), so that even a non-idempotent request may be retried.
	Sent bool
}

func (e *NetError) Error() string { return fmt.Sprintf("crk %s: %v", e.Endpoint, e.Err) }
func (e *NetError) Unwrap() error { return e.Err }

// Timeout reports whether the request timed out.
func (e *NetError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// cleanNetErr drops the request URL from a *url.Error: for uploads it holds
// the presigned signature, and the endpoint already says what failed.
func cleanNetErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
