package dtac

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors/connectortest"
	"github.com/crkai/syncd/internal/fake/fakedtac"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts fakedtac.Options
	}{
		{"end inclusive", fakedtac.Options{}},
		{"end exclusive, string ids, page cap 3, audio as application/octet-stream",
			fakedtac.Options{EndExclusive: true, StringIDs: true, PageCap: 3, ContentType: "application/octet-stream"}},
		{"newest first, limitReached on the last page, shifting pages, no pageSize, audio/mpeg",
			fakedtac.Options{NewestFirst: true, LimitReachedOnLastPage: true, InsertPerPage: 1, OmitPageSize: true, ContentType: "audio/mpeg"}},
		{"result cap, audio without a Content-Type", fakedtac.Options{ResultLimit: 4, ContentType: fakedtac.NoContentType}},
		{"nextPageUri on full pages, 500 past the data, tokens refused with 200 JSON, audio without a Content-Type",
			fakedtac.Options{NextPage: fakedtac.NextPageWhenFull, ServerErrorPastLastPage: true,
				RejectToken: fakedtac.Reject200InvalidAccessToken, RejectTokenContentType: fakedtac.NoContentType, ContentType: fakedtac.NoContentType}},
		{"nextPageUri on every page, no pageSize, newest first, 500 past the data, session expired with 200",
			fakedtac.Options{NextPage: fakedtac.NextPageAlways, OmitPageSize: true, NewestFirst: true, ServerErrorPastLastPage: true,
				RejectToken: fakedtac.Reject200SessionExpired, ContentType: "application/octet-stream"}},
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
	conn := newTestConnector(t, srv.URL(), testPass, pageSize)
	conn.pageRetryWait = 5 * time.Millisecond // a page past the data is asked twice
	return &connectortest.Fake{
		Connector: conn,
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
