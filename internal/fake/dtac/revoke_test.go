package dtac

import (
	"net/http"
	"testing"
)

func TestRevokeLogins(t *testing.T) {
	keepalive := func(s *Server, tok string) int {
		return do(t, http.MethodGet, s.URL()+"/orktrack/rest/keepalive", map[string]string{"Authorization": tok}).code
	}
	s := start(t, Options{RevokeLogins: 2})
	for i, want := range []int{401, 401, 200} {
		if got := keepalive(s, login(t, s)); got != want {
			t.Errorf("log-in %d: keepalive answered %d, want %d", i+1, got, want)
		}
	}
	every := start(t, Options{RevokeLogins: -1})
	for i := range 3 {
		if got := keepalive(every, login(t, every)); got != 401 {
			t.Errorf("every log-in revoked: log-in %d's token answered %d", i+1, got)
		}
	}
	if every.Logins() != 3 {
		t.Errorf("%d log-ins counted, want 3", every.Logins())
	}
	if _, err := Start(Options{RevokeLogins: -2}); err == nil {
		t.Error("RevokeLogins -2 accepted")
	}
}
