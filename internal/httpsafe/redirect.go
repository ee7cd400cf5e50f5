package httpsafe

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many redirects a request follows, as net/http's
// default policy.
const maxRedirects = 10

// ErrUnsafeRedirect is matched (errors.Is) by the error CheckRedirect
// returns for a redirect it refuses to follow with credentials.
var ErrUnsafeRedirect = errors.New("unsafe redirect")

// RedirectError is a redirect refused because the request carries
// credentials. From and To are the URLs without user info, query or
// fragment (a query may hold a signature or a token).
type RedirectError struct {
	From, To string
	Reason   string // "it leaves https", "it goes to another host"
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refusing to follow a redirect from %s to %s with credentials: %s", e.From, e.To, e.Reason)
}

// Is makes errors.Is(err, ErrUnsafeRedirect) true.
func (e *RedirectError) Is(target error) bool { return target == ErrUnsafeRedirect }

// CheckRedirect is the redirect policy of every client syncd uses, for
// http.Client.CheckRedirect. A request that carries credentials (an
// Authorization, Proxy-Authorization or Cookie header, or a body that a 307
// or 308 would send again, such as a log-in form with its secret) does not
// follow a redirect that leaves https for http or goes to another host
// (host and port) than the one it was first sent to: net/http would send
// the header along on a same-host downgrade, in clear text. Other
// redirects are followed, up to 10 as net/http's default. A presigned
// upload PUT carries no credentials and is not affected.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first, prev := via[0], via[len(via)-1]
	if !carriesCredentials(first, req) {
		return nil
	}
	var reason string
	switch {
	case downgrades(via, req.URL):
		reason = "it leaves https for clear text"
	case !sameHost(first.URL, req.URL):
		reason = "it goes to another host"
	default:
		return nil
	}
	return &RedirectError{From: bareURL(prev.URL), To: bareURL(req.URL), Reason: reason}
}

// WithRedirectPolicy returns c if it has a CheckRedirect of its own, else a
// copy of c (sharing its Transport and Jar) whose CheckRedirect is
// CheckRedirect. A nil c gives a new client with the policy.
func WithRedirectPolicy(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{CheckRedirect: CheckRedirect}
	}
	if c.CheckRedirect != nil {
		return c
	}
	cp := *c
	cp.CheckRedirect = CheckRedirect
	return &cp
}

// carriesCredentials reports whether the first request of a chain had a
// credential header (net/http drops some on a change of domain, not on a
// downgrade), or next still has one, or next sends the body again (a 307
// or 308 does; net/http then sets GetBody).
func carriesCredentials(first, next *http.Request) bool {
	for _, r := range []*http.Request{first, next} {
		for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
			if r.Header.Get(h) != "" {
				return true
			}
		}
	}
	return next.GetBody != nil
}

// downgrades reports whether going to to leaves https that an earlier hop
// used.
func downgrades(via []*http.Request, to *url.URL) bool {
	if strings.EqualFold(to.Scheme, "https") {
		return false
	}
	for _, r := range via {
		if strings.EqualFold(r.URL.Scheme, "https") {
			return true
		}
	}
	return false
}

// sameHost compares host and port, the port defaulting by scheme.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// bareURL is u without user info, query and fragment, for a message.
func bareURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}
