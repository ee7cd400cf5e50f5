package fakeorkweb

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

// t0 is when the reconstructed pages were "generated": Fri Mar 01
// 15:02:11 ICT 2024.
var t0 = time.Date(2024, 3, 1, 15, 2, 11, 0, ICT)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func startClock(t *testing.T, opts Options) (*Server, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	opts.Now = clk.Now
	return start(t, opts), clk
}

// browser is a client of the fake: with a cookie jar (like a browser) or
// without one (following ;jsessionid= URLs only), never following
// redirects, optionally sending another Host header.
type browser struct {
	t    *testing.T
	s    *Server
	c    *http.Client
	host string
}

func newBrowser(t *testing.T, s *Server, cookies bool) *browser {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if cookies {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar = jar
	}
	return &browser{t: t, s: s, c: c}
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) do(method, ref string, form url.Values) answer {
	b.t.Helper()
	u := ref
	if strings.HasPrefix(ref, "/") {
		u = b.s.URL() + ref
	}
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.host != "" {
		req.Host = b.host
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

func (b *browser) get(ref string) answer { return b.do(http.MethodGet, ref, nil) }

func (b *browser) post(ref string, form url.Values) answer {
	return b.do(http.MethodPost, ref, form)
}

// loginForm is Home's form as the page has it, filled in.
func loginForm(user, pass string) url.Values {
	return url.Values{
		"formids": {homeFormIDs}, "component": {"$Form"}, "page": {"Home"}, "service": {"direct"},
		"session": {"T"}, "submitmode": {""}, "submitname": {""},
		"TextField": {user}, "TextField_0": {pass}, "Submit": {"Login"},
	}
}

// searchForm is RecSegments' form with a window and both directions.
func searchForm(start, end string) url.Values {
	return url.Values{
		"formids": {searchFormIDs}, "component": {"$Form"}, "page": {"RecSegments"}, "service": {"direct"},
		"session": {"T"}, "submitmode": {""}, "submitname": {""},
		"If_0": {"F"}, "If_1": {"F"}, "If_2": {"F"}, "If_3": {"F"},
		"TextField": {""}, "TextField_0": {""}, "TextField_1": {""}, "TextField_2": {""},
		"DatePicker": {start}, "DatePicker_0": {end}, "direction": {"2"},
	}
}

var (
	titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)
	tapeRE  = regexp.MustCompile(`(?m)^\t+ {6}\t\t(\d+)$`)
)

func title(body string) string {
	m := titleRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// tapes lists the tape ids of a page's rows, in order.
func tapes(body string) []string {
	var out []string
	for _, m := range tapeRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
