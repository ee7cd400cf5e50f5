package threecx

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors/connectortest"
	fake "github.com/crkai/syncd/internal/fake/threecx"
)

func TestConformance(t *testing.T) {
	bad := Config{ClientID: clientID, ClientSecret: wrongSecret}
	badUser := Config{Username: userName, Password: wrongSecret}
	for _, tc := range []struct {
		name      string
		good, bad Config
	}{
		{"APIClient", clientConfig(), bad},
		{"User", userConfig(), badUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Run(t, func(t *testing.T) *connectortest.Fake {
				srv := startFake(t, fake.Options{})
				good := tc.good
				good.PageSize = 5
				var next atomic.Int32
				return &connectortest.Fake{
					Connector: connect(t, srv.URL(), good, nil),
					BadLogin:  connect(t, srv.URL(), tc.bad, nil),
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
					Logins:        srv.TokenRequests,
				}
			})
		})
	}
}
