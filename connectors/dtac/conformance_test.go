package dtac

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors/connectortest"
	fakedtac "github.com/crkai/syncd/internal/fake/dtac"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fakedtac.Options
	}{
		{"end inclusive", fakedtac.Options{}},
		{"end exclusive, string ids, page cap 3", fakedtac.Options{EndExclusive: true, StringIDs: true, PageCap: 3}},
		// The suite wants an audio/… type from Open: the audio is served as
		// one here (see open_format_test.go for the others).
		{"newest first, limitReached on the last page, shifting pages, no pageSize, audio/mpeg",
			fakedtac.Options{NewestFirst: true, LimitReachedOnLastPage: true, InsertPerPage: 1, OmitPageSize: true, ContentType: "audio/mpeg"}},
		{"result cap", fakedtac.Options{ResultLimit: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			connectortest.Run(t, func(t *testing.T) *connectortest.Fake {
				return conformanceFake(t, tc.opts)
			})
		})
	}
}

func conformanceFake(t *testing.T, opts fakedtac.Options) *connectortest.Fake {
	const pageSize, wrong = 5, "wrong-password"
	srv := startFake(t, opts)
	var next atomic.Int64
	next.Store(100659220)
	return &connectortest.Fake{
		Connector: newTestConnector(t, srv.URL(), testPass, pageSize),
		BadLogin:  newTestConnector(t, srv.URL(), wrong, pageSize),
		Secrets:   []string{testPass, wrong},
		PageSize:  pageSize,
		Add: func(at time.Time, audio connectortest.Audio) string {
			id := next.Add(1)
			dir := "IN"
			if id%2 == 0 {
				dir = "OUT"
			}
			state := fakedtac.Ready
			switch audio.State {
			case connectortest.NotReady:
				state = fakedtac.NotReady
			case connectortest.Gone:
				state = fakedtac.Gone
			}
			srv.Add(fakedtac.Recording{
				ID: id, Timestamp: at, Duration: 42,
				LocalParty: "+66812345678", RemoteParty: "0812345679", Direction: dir,
				FirstName: "Somchai", LastName: "Jaidee",
				Audio: audio.Audio, State: state,
			})
			return strconv.FormatInt(id, 10)
		},
		SetReady: func(id string) {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				t.Fatalf("SetReady(%q): %v", id, err)
			}
			srv.SetReady(n)
		},
		ExpireSession: srv.ExpireSessions,
		Logins:        srv.Logins,
	}
}
