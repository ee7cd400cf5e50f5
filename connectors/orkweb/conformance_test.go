package orkweb

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/connectortest"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/fake/fakeorkweb"
)

const wrongPass = "wrong-password"

// connect builds a connector on the fake at base, reading times in ICT.
func connect(t testing.TB, base, password string, now func() time.Time) *Connector {
	t.Helper()
	c, err := New(Config{BaseURL: base, Username: user, Password: password}, connectors.Deps{
		Shared:   deps.Shared{HTTP: &http.Client{}, Now: now},
		Location: ict,
		Region:   "TH",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fakeorkweb.Options
	}{
		{"OrecX", fakeorkweb.Options{}},
		{"voiceip", fakeorkweb.Options{Flavour: fakeorkweb.VoiceIP}},
		{"OrecX, Thai locale, unresolvable link host", fakeorkweb.Options{ThaiLocale: true, AudioLinkHost: "oreka-rec01.invalid:8080"}},
		{"voiceip, Thai locale, no Content-Type", fakeorkweb.Options{Flavour: fakeorkweb.VoiceIP, ThaiLocale: true, StreamContentType: fakeorkweb.NoContentType}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Run(t, func(t *testing.T) *connectortest.Fake {
				opts := tc.opts
				opts.Users = map[string]string{user: pass}
				opts.Location = ict
				srv, err := fakeorkweb.Start(opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = srv.Close() })
				var next atomic.Int64
				return &connectortest.Fake{
					Connector: connect(t, srv.URL(), pass, nil),
					BadLogin:  connect(t, srv.URL(), wrongPass, nil),
					Secrets:   []string{pass, wrongPass},
					PageSize:  ResultsPerPage,
					Add: func(at time.Time, a connectortest.Audio) string {
						id := next.Add(1)
						dir := fakeorkweb.In
						if id%2 == 0 {
							dir = fakeorkweb.Out
						}
						srv.Add(fakeorkweb.Recording{
							TapeID: id, Time: at, Duration: 42, LocalParty: "1001", RemoteParty: "0812345678",
							Direction: dir, Format: fakeorkweb.PCM, Audio: a.Audio,
							Writing: a.State == connectortest.NotReady, Missing: a.State == connectortest.Gone,
						})
						return strconv.FormatInt(id, 10)
					},
					SetReady: func(id string) {
						n, _ := strconv.ParseInt(id, 10, 64)
						srv.SetWriting(n, false)
					},
					ExpireSession: srv.ExpireSessions,
					Logins:        func() int { return srv.Stats().Logins },
				}
			})
		})
	}
}
