package orkweb

import (
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

// Kind is a self-hosted Oreka read through OrkWeb, enabled by
// ORKWEB_BASE_URL.
var Kind = connectors.Kind{
	Name:  "orkweb",
	Title: "Oreka OrkWeb",
	Short: "OrkWeb",
	Vars: []connectors.Var{
		{Name: "ORKWEB_BASE_URL", Help: "enables self-hosted Oreka: OrkWeb's server, e.g. http://oreka.local:8080 (OrkWeb under /orkweb/)"},
		{Name: "ORKWEB_USERNAME", Help: "an OrkWeb log-in"},
		{Name: "ORKWEB_PASSWORD", Secret: true},
	},
	Configure: configure,
	Demo:      demo,
}

// configure reads the ORKWEB_* variables: the connector's whole
// configuration, in one place.
func configure(s connectors.Settings) connectors.Configured {
	cfg := Config{
		BaseURL:  s.LANURL("ORKWEB_BASE_URL", "the OrkWeb password", false),
		Username: s.Text("ORKWEB_USERNAME"),
		Password: s.Secret("ORKWEB_PASSWORD"),
	}
	s.Require("ORKWEB_USERNAME")
	s.Require("ORKWEB_PASSWORD")
	return connectors.Configured{
		Login: []string{cfg.BaseURL, cfg.Username, cfg.Password},
		New:   func(d connectors.Deps) (connectors.Connector, error) { return New(cfg, d) },
	}
}

// The demo's made-up log-in: it exists only inside the fake.
const (
	demoUser     = "supervisor"
	demoPassword = "demo-password"
)

// demo starts the fake OrkWeb (OrecX) with a day of sample recordings, all
// of them clean (the demo's one quarantine is another source's).
func demo(day time.Time, loc *time.Location, n int, seed uint64) (*connectors.DemoFake, error) {
	srv, err := fakeorkweb.Start(fakeorkweb.Options{Users: map[string]string{demoUser: demoPassword}, Location: loc})
	if err != nil {
		return nil, err
	}
	srv.Add(fakeorkweb.SampleDay(day, loc, n, seed)...)
	return &connectors.DemoFake{
		URL:   srv.URL(),
		Env:   map[string]string{"ORKWEB_BASE_URL": srv.URL(), "ORKWEB_USERNAME": demoUser, "ORKWEB_PASSWORD": demoPassword},
		Close: srv.Close,
		Call:  func(end time.Time) { srv.AddCall(end, seed) },
	}, nil
}
