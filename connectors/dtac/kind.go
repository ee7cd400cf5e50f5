package dtac

import (
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

// DefaultBaseURL is DTAC_BASE_URL's default: the portal.
const DefaultBaseURL = "https://onecallvoicerecord.dtac.co.th"

// Kind is DTAC One Call, enabled by DTAC_USERNAME.
var Kind = connectors.Kind{
	Name:  "dtac",
	Title: "DTAC One Call",
	Short: "DTAC",
	Vars: []connectors.Var{
		{Name: "DTAC_USERNAME", Help: "enables DTAC One Call: the portal log-in, +66…"},
		{Name: "DTAC_PASSWORD", Secret: true},
		{Name: "DTAC_BASE_URL", Default: DefaultBaseURL, Help: "the portal"},
	},
	Configure: configure,
	Demo:      demo,
}

func configure(s connectors.Settings) connectors.Configured {
	cfg := Config{Username: s.Text("DTAC_USERNAME")}
	checkUsername(s, cfg.Username)
	cfg.Password = s.Secret("DTAC_PASSWORD")
	s.Require("DTAC_PASSWORD")
	cfg.BaseURL = s.URL("DTAC_BASE_URL", "the DTAC password", true)
	return connectors.Configured{
		Login: []string{cfg.BaseURL, cfg.Username, cfg.Password},
		New:   func(d connectors.Deps) (connectors.Connector, error) { return New(cfg, d) },
	}
}

// checkUsername checks that the log-in is a phone number in +66… form,
// saying how to write a local one.
func checkUsername(s connectors.Settings, u string) {
	const name = "DTAC_USERNAME"
	switch {
	case strings.HasPrefix(u, "+") && isDigits(u[1:], 8, 15):
	case strings.HasPrefix(u, "0") && isDigits(u, 8, 15):
		s.Problem(name, "%q is a local number: write it as +66 and the number without its leading 0 (%s)", u, "+66"+u[1:])
	case isDigits(u, 8, 15):
		s.Problem(name, "%q lacks the leading \"+\": write it as +%s", u, u)
	case strings.HasPrefix(u, "0"):
		s.Problem(name, "%q is a local number: write it as +66 and the number without its leading 0, digits only", u)
	default:
		s.Problem(name, "%q is not a phone number in +66… form (\"+\" and 8 to 15 digits)", u)
	}
}

// isDigits reports whether s is n digits, lo ≤ n ≤ hi.
func isDigits(s string, lo, hi int) bool {
	return len(s) >= lo && len(s) <= hi && strings.Trim(s, "0123456789") == ""
}

// The demo's made-up credentials: they exist only inside the fake.
const (
	demoUser     = "+66812345678"
	demoPassword = "demo-password"
)

// demo starts the fake portal with a day of sample recordings, one of
// whose audio was deleted at the portal (to show a quarantine).
func demo(day time.Time, loc *time.Location, n int, seed uint64) (*connectors.DemoFake, error) {
	srv, err := fakedtac.Start(fakedtac.Options{Users: map[string]string{demoUser: demoPassword}})
	if err != nil {
		return nil, err
	}
	recs := fakedtac.SampleDay(day, loc, n, seed)
	if len(recs) > 0 {
		recs[len(recs)/2].State = fakedtac.Gone
	}
	for _, r := range recs {
		srv.Add(r)
	}
	return &connectors.DemoFake{
		URL:   srv.URL(),
		Env:   map[string]string{"DTAC_USERNAME": demoUser, "DTAC_PASSWORD": demoPassword, "DTAC_BASE_URL": srv.URL()},
		Close: srv.Close,
		Call:  func(end time.Time) { srv.AddCall(end, seed) },
	}, nil
}
