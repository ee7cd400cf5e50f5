package threecx

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors/connectortest"
	fake "github.com/crkai/syncd/internal/fake/fakethreecx"
)

// pbxShapes are the fakes the conformance suite runs against: the real
// shapes as the default (20.0.9: null properties left out, int32
// DnTypes, code "" in errors), and the other shapes and answers seen or
// plausible for each unknown.
var pbxShapes = []struct {
	name string
	opts fake.Options
}{
	{"20.0.9", fake.Options{}},
	{"20.0.10", fake.Options{Version: "20.0.10"}},
	{"20.0.6 with nulls", fake.Options{Version: "20.0.6", SendNulls: true}},
	{"20.0.8 minutes", fake.Options{Version: "20.0.8", NumericErrorCodes: true}},
	{"other refusals", fake.Options{WrongPassword: fake.WrongPasswordAuthFailed, BadClient: fake.BadClient400, MissingFile: fake.MissingFile400}},
	{"form refresh, rotating, NOT_FOUND", fake.Options{Refresh: fake.RefreshForm, RefreshRotates: true, MissingFile: fake.MissingFile400NotFound}},
	{"no refresh, cookie-only token, names", fake.Options{Refresh: fake.RefreshUnsupported, RefreshCookieOnly: true, DnTypeNames: true}},
}

func TestConformance(t *testing.T) {
	bad := Config{ClientID: clientID, ClientSecret: wrongSecret}
	badUser := Config{Username: userName, Password: wrongSecret}
	for _, shape := range pbxShapes {
		for _, tc := range []struct {
			name      string
			good, bad Config
		}{
			{"APIClient", clientConfig(), bad},
			{"User", userConfig(), badUser},
		} {
			t.Run(shape.name+"/"+tc.name, func(t *testing.T) {
				conformance(t, shape.opts, tc.good, tc.bad)
			})
		}
	}
}

func conformance(t *testing.T, opts fake.Options, good, bad Config) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Fake {
		srv := startFake(t, opts)
		good := good
		good.PageSize = 5
		var next atomic.Int32
		return &connectortest.Fake{
			Connector: connect(t, srv.URL(), good, nil),
			BadLogin:  connect(t, srv.URL(), bad, nil),
			Secrets:   secrets,
			PageSize:  good.PageSize,
			Add: func(at time.Time, a connectortest.Audio) string {
				id := next.Add(1)
				r := fake.NewRecording(id, at, fake.InboundExternal, uint64(id))
				r.Audio = a.Audio
				switch a.State {
				case connectortest.NotReady:
					r.State = fake.ZeroByteUntilReady
				case connectortest.Gone:
					r.State = fake.Archived
				}
				srv.Add(r)
				return strconv.Itoa(int(id))
			},
			SetReady: func(id string) {
				n, err := strconv.ParseInt(id, 10, 32)
				if err != nil {
					t.Fatalf("SetReady(%q): %v", id, err)
				}
				srv.SetReady(int32(n))
			},
			ExpireSession: srv.RevokeTokens,
			Logins:        srv.Grants,
		}
	})
}
