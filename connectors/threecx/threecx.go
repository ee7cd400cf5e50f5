// Package threecx is the connector for a 3CX V20 PBX: it logs in to the
// Configuration API (XAPI) as an API client or as a user, lists call
// recordings with OData queries and streams their audio.
package threecx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
)

// Config is the connector's configuration, from THREECX_* variables.
type Config struct {
	// BaseURL is the PBX's address, e.g. https://acme.3cx.co.th.
	BaseURL string
	// ClientID and ClientSecret log in as an API client (POST
	// /connect/token, client credentials).
	ClientID, ClientSecret string
	// Username and Password log in as a user instead (POST
	// /webclient/api/Login/GetAccessToken), for PBXs without an API client.
	Username, Password string
	// IncludeInternal also lists extension-to-extension calls.
	IncludeInternal bool
	// PageSize is the $top of each listing request; 0 means 100.
	PageSize int
}

// Default timeouts; a 3CX in the cloud can be slow to start a download.
const (
	defaultRequestTimeout = 60 * time.Second
	defaultHeaderTimeout  = 120 * time.Second
	defaultPageSize       = 100
)

// Connector is a 3CX V20 source. It is safe for concurrent use.
type Connector struct {
	cfg    Config
	base   *url.URL
	host   string // of BaseURL, lower-case: in every DataID
	portal *remote.Portal
	log    *slog.Logger
	loc    *time.Location
	region string
	now    func() time.Time
	tokens *tokenSource
	pages  *pageSize // the $top that works for this PBX

	keysetMu       sync.Mutex
	keysetOffUntil time.Time // List pages with $skip until then

	requestTimeout time.Duration // for a log-in or one page of a listing
	headerTimeout  time.Duration // for a download's response headers
}

var _ connectors.Connector = (*Connector)(nil)

// New checks cfg and builds a connector. It does no I/O: log-in is lazy.
// Its checks guard against a programmer's mistake: what a person
// configures is checked by internal/config, through Kind, before New is
// called.
//
// Every request goes through deps.HTTP. If that client has no
// CheckRedirect of its own, the connector uses a copy of it with
// httpsafe.CheckRedirect, so that neither the access token nor a log-in's
// secret follows a redirect to clear text or to another host.
func New(cfg Config, deps connectors.Deps) (*Connector, error) {
	deps = deps.Defaulted()
	base, err := remote.BaseURL(cfg.BaseURL)
	client := cfg.ClientID != "" || cfg.ClientSecret != ""
	user := cfg.Username != "" || cfg.Password != ""
	switch {
	case err != nil:
		return nil, fmt.Errorf("3cx: %w", err)
	case client == user || client && (cfg.ClientID == "" || cfg.ClientSecret == "") || user && (cfg.Username == "" || cfg.Password == ""):
		return nil, errors.New("3cx: exactly one log-in is required: ClientID and ClientSecret, or Username and Password")
	case cfg.PageSize < 0:
		return nil, errors.New("3cx: PageSize is negative")
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = defaultPageSize
	}

	c := &Connector{
		cfg:            cfg,
		base:           base,
		host:           strings.ToLower(base.Hostname()),
		portal:         remote.New("PBX", deps),
		loc:            deps.Location,
		region:         deps.Region,
		now:            deps.Now,
		requestTimeout: defaultRequestTimeout,
		headerTimeout:  defaultHeaderTimeout,
	}
	c.log = c.portal.Log
	c.pages = newPageSize(cfg.PageSize)
	login, refresh := c.clientLogin, (func(context.Context, *token) (*token, error))(nil)
	if user {
		login, refresh = c.userLogin, c.refreshToken
	}
	c.tokens = newTokenSource(login, refresh, c.now, c.log)
	return c, nil
}

// Name is "3cx".
func (c *Connector) Name() string { return "3cx" }

// Logins counts the full sign-ins this connector has sent to the PBX
// (POST /connect/token with client credentials, or GetAccessToken),
// whatever their answer; refreshes are not among them. 3CX's anti-hacking
// protection counts sign-ins and can block the caller's address: this is
// the number to watch (syncd_source_logins_total).
func (c *Connector) Logins() uint64 { return c.tokens.logins.Load() }

// Refreshes counts the refresh-token requests this connector has sent
// (user log-ins only; an API client gets no refresh token).
func (c *Connector) Refreshes() uint64 { return c.tokens.refreshes.Load() }

// DataID is a 3CX recording's id at CRK: "3cx-<host>-<Id>", host being
// BaseURL's host name in lower case, without a port: a PBX moved to
// another port keeps its recordings' ids.
func DataID(host string, id int64) string {
	return fmt.Sprintf("3cx-%s-%d", strings.ToLower(host), id)
}

// Check logs in (unless a token is still fresh) and reads one recording's
// Id, which proves both the credentials and the role.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.page(ctx, "checking the connection", "$top=1&$select=Id")
	return err
}

// endpoint is the absolute URL of path (and rawQuery) under BaseURL.
func (c *Connector) endpoint(path, rawQuery string) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	// Keep OData's parentheses literal, as 3CX's own clients send them;
	// EscapedPath falls back to escaping if this is not a valid encoding.
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + path
	u.RawQuery = rawQuery
	return u.String()
}
