package threecx

import (
	"fmt"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakethreecx"
)

// Kind is 3CX V20, enabled by THREECX_BASE_URL.
var Kind = connectors.Kind{
	Name:  "3cx",
	Title: "3CX",
	Vars: []connectors.Var{
		{Name: "THREECX_BASE_URL", Help: "enables 3CX V20, e.g. https://acme.3cx.co.th"},
		{Name: "THREECX_CLIENT_ID", Help: "API client log-in (with THREECX_CLIENT_SECRET)"},
		{Name: "THREECX_CLIENT_SECRET", Secret: true},
		{Name: "THREECX_USERNAME", Help: "or a user log-in (with THREECX_PASSWORD)"},
		{Name: "THREECX_PASSWORD", Secret: true},
		{Name: "THREECX_INCLUDE_INTERNAL", Default: "false", Help: "also sync extension-to-extension calls"},
	},
	Configure: configure,
	Demo:      demo,
}

func configure(s connectors.Settings) connectors.Configured {
	cfg := Config{
		BaseURL:      s.URL("THREECX_BASE_URL", "the 3CX credentials", false),
		ClientID:     s.Text("THREECX_CLIENT_ID"),
		ClientSecret: s.Secret("THREECX_CLIENT_SECRET"),
		Username:     s.Text("THREECX_USERNAME"),
		Password:     s.Secret("THREECX_PASSWORD"),
	}
	checkLogin(s)
	cfg.IncludeInternal = s.Bool("THREECX_INCLUDE_INTERNAL")
	return connectors.Configured{
		Login: []string{cfg.BaseURL, cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password},
		New:   func(d connectors.Deps) (connectors.Connector, error) { return New(cfg, d) },
	}
}

// checkLogin checks that exactly one log-in is configured, and completely.
// A secret that could not be read (already a problem) counts as given.
func checkLogin(s connectors.Settings) {
	const all = "THREECX_CLIENT_ID/THREECX_CLIENT_SECRET/THREECX_USERNAME/THREECX_PASSWORD"
	id, secret := s.Given("THREECX_CLIENT_ID"), s.Given("THREECX_CLIENT_SECRET")
	user, password := s.Given("THREECX_USERNAME"), s.Given("THREECX_PASSWORD")
	client, userLogin := id || secret, user || password
	switch {
	case client && userLogin:
		s.Problem(all, "both logins are set: use either the API client (THREECX_CLIENT_ID and THREECX_CLIENT_SECRET) or the user (THREECX_USERNAME and THREECX_PASSWORD), not both")
	case !client && !userLogin:
		s.Problem(all, "no login: set THREECX_CLIENT_ID and THREECX_CLIENT_SECRET (API client), or THREECX_USERNAME and THREECX_PASSWORD (user)")
	case client:
		half(s, "THREECX_CLIENT_ID", id, "THREECX_CLIENT_SECRET", secret, "the API client login")
	default:
		half(s, "THREECX_USERNAME", user, "THREECX_PASSWORD", password, "the user login")
	}
}

// half records a problem when only one variable of a login pair is set.
func half(s connectors.Settings, a string, aSet bool, b string, bSet bool, login string) {
	switch {
	case aSet && !bSet:
		s.Problem(b, "%s is set but %s is not: %s needs both", a, b, login)
	case !aSet && bSet:
		s.Problem(a, "%s is set but %s is not: %s needs both", b, a, login)
	}
}

// The demo's made-up API client: it exists only inside the fake.
const (
	demoClient = "syncd-demo"
	demoSecret = "demo-secret"
)

// demo starts the fake PBX with a day of sample recordings.
func demo(day time.Time, _ *time.Location, n int, seed uint64) (*connectors.DemoFake, error) {
	srv, err := fakethreecx.Start(fakethreecx.Options{
		Clients: map[string]fakethreecx.Client{demoClient: {Secret: demoSecret, Role: fakethreecx.RoleSystemOwner}},
	})
	if err != nil {
		return nil, err
	}
	// Real 3CX files are 16 KB a second of call; shortened here so that
	// the demo takes a second, not a quarter of a minute.
	const maxAudio = 96 << 10
	for _, r := range fakethreecx.SampleDay(day, n, seed) {
		r.Audio.Size = min(r.Audio.Size, maxAudio)
		srv.Add(r)
	}
	return &connectors.DemoFake{
		URL:   srv.URL(),
		Env:   map[string]string{"THREECX_BASE_URL": srv.URL(), "THREECX_CLIENT_ID": demoClient, "THREECX_CLIENT_SECRET": demoSecret},
		Close: srv.Close,
		Call:  func(end time.Time) { srv.AddCall(end, seed, maxAudio) },
		Note: func() string {
			in, all := srv.Internal()
			if in == 0 {
				return ""
			}
			return fmt.Sprintf("%d of the %d generated calls were internal (extension to extension) and are not sent (THREECX_INCLUDE_INTERNAL=true sends them)", in, all)
		},
	}, nil
}
