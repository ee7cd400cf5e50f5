package threecx

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/deps"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// Credentials the fakes know; no error may contain a secret.
const (
	clientID     = "syncd"
	clientSecret = "cs-9f3a7e2b1d4c"
	userName     = "alice"
	userPassword = "pw-71c0ffee5eed"
	mfaUser      = "bob"
	wrongSecret  = "wrong-8d2e6a"
)

var secrets = []string{clientSecret, userPassword, wrongSecret}

// bangkok stands for SYNCD_TIMEZONE without needing tzdata.
var bangkok = time.FixedZone("ICT", 7*60*60)

// base is a whole-second instant for the tests' windows.
var base = time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)

func clientConfig() Config { return Config{ClientID: clientID, ClientSecret: clientSecret} }
func userConfig() Config   { return Config{Username: userName, Password: userPassword} }

// startFake starts a fake PBX that knows the test credentials (unless opts
// brings its own) and closes it when the test ends.
func startFake(tb testing.TB, opts fake.Options) *fake.Server {
	tb.Helper()
	if opts.Clients == nil {
		opts.Clients = map[string]fake.Client{clientID: {Secret: clientSecret, Role: fake.RoleSystemOwner}}
	}
	if opts.Users == nil {
		opts.Users = map[string]fake.User{userName: {Password: userPassword}, mfaUser: {Password: userPassword, MFA: true}}
	}
	srv, err := fake.Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}

// connect builds a connector to baseURL with cfg's credentials and the
// clock now (time.Now when nil).
func connect(tb testing.TB, baseURL string, cfg Config, now func() time.Time) *Connector {
	tb.Helper()
	cfg.BaseURL = baseURL
	deps := connectDeps()
	deps.Now = now
	c, err := New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// connectDeps are the dependencies connect gives a connector.
func connectDeps() connectors.Deps {
	return connectors.Deps{
		Shared:    deps.Shared{HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}, Logger: slog.New(slog.DiscardHandler)},
		Location:  bangkok,
		Region:    "TH",
		UserAgent: "syncd-test/1.0",
	}
}

// addRange adds n recordings of callType, one a second from start, with Ids
// from firstID, and returns their Ids.
func addRange(srv *fake.Server, firstID int32, n int, start time.Time, callType string) []int32 {
	ids := make([]int32, 0, n)
	for i := range n {
		id := firstID + int32(i)
		r := fake.NewRecording(id, start.Add(time.Duration(i)*time.Second), callType, uint64(id))
		r.Audio.Size = 256
		srv.Add(r)
		ids = append(ids, id)
	}
	return ids
}
