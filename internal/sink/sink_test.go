package sink_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

func TestNew(t *testing.T) {
	tests := []struct {
		base, token, wantErr string
	}{
		{"https://phone.mcloud.co.th/api/v1", fakecrk.TokFull, ""},
		{"http://127.0.0.1:1/api/v1/", fakecrk.TokFull, ""},
		{"", fakecrk.TokFull, `crk: base URL "" is not an absolute http(s) URL`},
		{"/api/v1", fakecrk.TokFull, `crk: base URL "/api/v1" is not an absolute http(s) URL`},
		{"ftp://phone.mcloud.co.th/api/v1", fakecrk.TokFull, `crk: base URL "ftp://phone.mcloud.co.th/api/v1" is not an absolute http(s) URL`},
		{"https://", fakecrk.TokFull, `crk: base URL "https://" is not an absolute http(s) URL`},
		{"https://phone.mcloud.co.th/api/v1", "", "crk: no API token"},
	}
	for _, tt := range tests {
		_, err := sink.New(sink.Config{BaseURL: tt.base, Token: tt.token}, sink.Deps{})
		if got := errText(err); got != tt.wantErr {
			t.Errorf("New(%q): %q, want %q", tt.base, got, tt.wantErr)
		}
		noSecret(t, "New", errText(err))
	}
}

// TestBaseURLSlash: a base URL with or without its final slash reaches the
// same endpoints.
func TestBaseURLSlash(t *testing.T) {
	srv := startFake(t, nil)
	for _, base := range []string{srv.URL(), srv.URL() + "/"} {
		c := newClient(t, base, fakecrk.TokFull, nil)
		if _, err := c.WhoAmI(t.Context()); err != nil {
			t.Errorf("%s: %v", base, err)
		}
		mustCreate(t, c, "slash")
	}
}

// TestUserAgent: every request, storage included, names syncd as
// configured, or plain "syncd" by default.
func TestUserAgent(t *testing.T) {
	for _, tt := range []struct{ configured, want string }{
		{"syncd/1.2.3 (test)", "syncd/1.2.3 (test)"},
		{"", "syncd"},
	} {
		srv := startFake(t, nil)
		base, rc := record(t, srv)
		c := newClient(t, base, fakecrk.TokFull, func(c *sink.Config, d *sink.Deps) { c.UserAgent = tt.configured })
		if _, err := c.WhoAmI(t.Context()); err != nil {
			t.Fatal(err)
		}
		cr := mustUpload(t, c, "ua-1", 10)
		if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Find(t.Context(), "ua-1"); err != nil {
			t.Fatal(err)
		}
		all := rc.all()
		if len(all) != 5 {
			t.Fatalf("%d requests, want whoami, create, upload, reextract, list", len(all))
		}
		for _, s := range all {
			if ua := s.Header.Get("User-Agent"); ua != tt.want {
				t.Errorf("%s %s: User-Agent %q, want %q", s.Method, s.Path, ua, tt.want)
			}
		}
	}
}

// TestTokenOnlyToTheAPI: the token goes to the API as a Bearer header and
// nowhere else: not to storage, not in a URL.
func TestTokenOnlyToTheAPI(t *testing.T) {
	srv := startFake(t, nil)
	base, rc := record(t, srv)
	c := newClient(t, base, fakecrk.TokFull, nil)
	cr := mustUpload(t, c, "tok-1", 10)
	if _, err := c.Reextract(t.Context(), cr.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range rc.all() {
		auth := s.Header.Get("Authorization")
		switch {
		case s.Method == http.MethodPut:
			if auth != "" {
				t.Errorf("storage got Authorization %q", auth)
			}
		case auth != "Bearer "+fakecrk.TokFull:
			t.Errorf("%s %s: Authorization %q", s.Method, s.Path, auth)
		}
		if u := s.Path + "?" + s.Query.Encode(); strings.Contains(u, fakecrk.TokFull) || strings.Contains(u, "crk_") {
			t.Errorf("a token is in a URL: %s", u)
		}
	}
}
