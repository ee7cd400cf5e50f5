// Package dtac is the connector for DTAC One Call voice record, the OrecX
// OrkTrack portal at onecallvoicerecord.dtac.co.th: it logs in to the
// portal's REST API (/orktrack/rest/), lists the recordings of a time window
// and streams their audio.
package dtac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

const (
	// defaultPageSize is the page size List asks for when Config.PageSize
	// is 0.
	defaultPageSize = 500
	// apiTimeout bounds every API request (log-in, a page of the listing),
	// body included.
	apiTimeout = 60 * time.Second
	// headerTimeout bounds the wait for an audio response's header.
	headerTimeout = 60 * time.Second
	// stallTimeout bounds a pause of an audio stream between two reads;
	// the stream's length is bounded by the caller's context only.
	stallTimeout = 60 * time.Second
	// maxRelogins is how many fresh log-ins one request gets when the
	// portal keeps refusing its token (it invalidates an account's token
	// when someone logs in to the portal with the same account).
	maxRelogins = 3
	// firstReloginWait is the wait before the second fresh log-in of a
	// request; it doubles before each further one.
	firstReloginWait = 200 * time.Millisecond
	// pageRetryWait is the wait before asking again for a listing page
	// (after the first) that answered 5xx; a public client waits 300 ms.
	pageRetryWait = 300 * time.Millisecond
)

// Config is what the connector needs to know about one DTAC account.
type Config struct {
	// BaseURL is the portal, e.g. https://onecallvoicerecord.dtac.co.th.
	BaseURL string
	// Username is the account's phone number ("+66…").
	Username string
	// Password never appears in an error or a log line.
	Password string
	// PageSize is the listing's page size; 0 means 500.
	PageSize int
}

// Connector is a DTAC One Call account. It is safe for concurrent use.
type Connector struct {
	base     *url.URL
	host     string
	user     string
	pass     string
	pageSize int

	portal *remote.Portal
	log    *slog.Logger
	loc    *time.Location
	region string

	apiTimeout    time.Duration
	headerTimeout time.Duration
	stallTimeout  time.Duration
	// reloginWait is the wait before the n-th fresh log-in after the
	// first (n ≥ 1) of a request whose token the portal keeps refusing.
	reloginWait func(n int) time.Duration
	// pageRetryWait is the wait before asking again for a listing page
	// that answered 5xx.
	pageRetryWait time.Duration

	auth *remote.Session[string]
}

var _ connectors.Connector = (*Connector)(nil)

// New checks cfg and returns a connector. It does no I/O: the first call
// that needs the portal logs in. Its checks guard against a programmer's
// mistake: what a person configures is checked by internal/config, through
// Kind, before New is called.
//
// Every request goes through deps.HTTP. If that client has no
// CheckRedirect of its own, the connector uses a copy of it with
// httpsafe.CheckRedirect, so that the token never follows a redirect to
// clear text or to another host.
func New(cfg Config, deps connectors.Deps) (*Connector, error) {
	deps = deps.Defaulted()
	base, err := remote.BaseURL(strings.TrimSpace(cfg.BaseURL))
	switch {
	case err != nil:
		return nil, fmt.Errorf("dtac: %w", err)
	case strings.TrimSpace(cfg.Username) == "" || cfg.Password == "":
		return nil, errors.New("dtac: Username and Password are required")
	case cfg.PageSize < 0:
		return nil, errors.New("dtac: PageSize is negative")
	}
	c := &Connector{
		base:          base,
		host:          base.Host,
		user:          strings.TrimSpace(cfg.Username),
		pass:          cfg.Password,
		pageSize:      cfg.PageSize,
		portal:        remote.New("portal", deps),
		loc:           deps.Location,
		region:        deps.Region,
		apiTimeout:    apiTimeout,
		headerTimeout: headerTimeout,
		stallTimeout:  stallTimeout,
		reloginWait:   func(n int) time.Duration { return firstReloginWait << (n - 1) },
		pageRetryWait: pageRetryWait,
	}
	c.log = c.portal.Log
	c.auth = c.newSession(deps.Now)
	if c.pageSize == 0 {
		c.pageSize = defaultPageSize
	}
	return c, nil
}

// Name is "dtac".
func (c *Connector) Name() string { return "dtac" }

// DataID is the id a DTAC recording gets at CRK: "dtac-" + its id.
func DataID(id string) string { return "dtac-" + id }

// Check logs in afresh, to prove the configuration works.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.relogin(ctx, c.auth.Current())
	return err
}

// endpoint returns the URL of an API path under /orktrack/rest/, the last
// segment (an id, say) escaped.
func (c *Connector) endpoint(path, last string) *url.URL {
	u := *c.base
	u.Path = c.base.Path + "/orktrack/rest/" + path + last
	u.RawPath = c.base.EscapedPath() + "/orktrack/rest/" + path + url.PathEscape(last)
	return &u
}

// sameOrigin reports whether u is on the portal's scheme, host and port, so
// that the token may be sent to it.
func (c *Connector) sameOrigin(u *url.URL) bool {
	return u.User == nil &&
		strings.EqualFold(u.Scheme, c.base.Scheme) &&
		strings.EqualFold(u.Hostname(), c.base.Hostname()) &&
		portOf(u) == portOf(c.base)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
