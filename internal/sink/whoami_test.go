package sink_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/crkai/syncd/internal/fake/fakecrk"
	"github.com/crkai/syncd/internal/sink"
)

func TestWhoAmIAndAuthorize(t *testing.T) {
	a := sink.Business{ID: fakecrk.BizA, Name: "Acme Sales", Slug: "acme-sales"}
	b := sink.Business{ID: fakecrk.BizB, Name: "Acme Support", Slug: "acme-support"}
	const lacksView = "the token lacks view_recording_all: after a crash between asking for AI processing and recording it, syncd cannot check CRK and will quarantine those recordings instead of paying twice"
	const reaches = fakecrk.BizA + " (Acme Sales), " + fakecrk.BizB + " (Acme Support)"
	tests := []struct {
		name  string
		token string
		want  sink.Identity
		// authorize maps a CRK_BUSINESS_ID to the error text Authorize
		// gives for it ("" = none).
		authorize map[string]string
		canVerify string
		name4     map[string]string // BusinessName for a business id
	}{
		{
			name: "business key with level", token: fakecrk.TokFull,
			want: sink.Identity{Level: "business", Business: &a, Scopes: []string{"manage_call_recording", "view_recording_all"}},
			authorize: map[string]string{
				"":           "",
				fakecrk.BizA: "",
				fakecrk.BizB: `CRK_BUSINESS_ID "` + fakecrk.BizB + `" differs from the business key's own business "` + fakecrk.BizA + `": unset CRK_BUSINESS_ID`,
			},
			name4: map[string]string{"": "Acme Sales", fakecrk.BizB: "Acme Sales"},
		},
		{
			name: "business key without level (older deployments)", token: fakecrk.TokOld,
			want:      sink.Identity{Level: "business", Business: &a, Scopes: []string{"manage_call_recording"}},
			authorize: map[string]string{"": "", fakecrk.BizA: ""},
			canVerify: lacksView,
		},
		{
			name: "business key without the ingest scope", token: fakecrk.TokView,
			want: sink.Identity{Level: "business", Business: &a, Scopes: []string{"view_recording_all"}},
			authorize: map[string]string{
				"":           "the token lacks the scope manage_call_recording that syncd needs (it has: view_recording_all): create a token with it",
				fakecrk.BizB: `CRK_BUSINESS_ID "` + fakecrk.BizB + `" differs from the business key's own business "` + fakecrk.BizA + `": unset CRK_BUSINESS_ID`,
			},
		},
		{
			name: "business key that sees only its own recordings", token: fakecrk.TokSelf,
			want: sink.Identity{Level: "business", Business: &a, Scopes: []string{"view_recording_self"}},
			authorize: map[string]string{
				"": "the token lacks the scope manage_call_recording that syncd needs (it has: view_recording_self): create a token with it",
			},
			// view_recording_self shows only recordings linked to the
			// token's user, and syncd's are linked to nobody.
			canVerify: lacksView,
		},
		{
			name: "business key without any scope", token: fakecrk.TokNone,
			want: sink.Identity{Level: "business", Business: &a, Scopes: []string{}},
			authorize: map[string]string{
				"": "the token lacks the scope manage_call_recording that syncd needs (it has: ): create a token with it",
			},
			canVerify: lacksView,
		},
		{
			name: "account key", token: fakecrk.TokAccount,
			want: sink.Identity{Level: "account", UserID: "u1", Scopes: []string{"manage_all"}, Businesses: []sink.Business{a, b}},
			authorize: map[string]string{
				"":           "CRK_API_TOKEN is an account key: set CRK_BUSINESS_ID to one of its businesses: " + reaches,
				fakecrk.BizA: "",
				fakecrk.BizB: "",
				fakecrk.BizC: `CRK_BUSINESS_ID "` + fakecrk.BizC + `" is not a business this account key reaches; it reaches: ` + reaches,
			},
			name4: map[string]string{fakecrk.BizA: "Acme Sales", fakecrk.BizB: "Acme Support", fakecrk.BizC: "", "": ""},
		},
		{
			name: "account key without manage_all", token: fakecrk.TokAccountView,
			want: sink.Identity{Level: "account", UserID: "u1", Scopes: []string{"view_recording_all"}, Businesses: []sink.Business{a, b}},
			authorize: map[string]string{
				fakecrk.BizA: "the account key lacks manage_all (it has: view_recording_all)",
			},
		},
		{
			name: "account key of no business", token: fakecrk.TokLonely,
			want: sink.Identity{Level: "account", UserID: "u3", Scopes: []string{"manage_all"}, Businesses: []sink.Business{}},
			authorize: map[string]string{
				"":           "CRK_API_TOKEN is an account key: set CRK_BUSINESS_ID to one of its businesses: (none)",
				fakecrk.BizA: `CRK_BUSINESS_ID "` + fakecrk.BizA + `" is not a business this account key reaches; it reaches: (none)`,
			},
		},
	}
	srv := startFake(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL(), tt.token, nil)
			id, err := c.WhoAmI(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*id, tt.want) {
				t.Fatalf("identity\n got %+v\nwant %+v", *id, tt.want)
			}
			for biz, want := range tt.authorize {
				err := id.Authorize(biz)
				if got := errText(err); got != want {
					t.Errorf("Authorize(%q)\n got %q\nwant %q", biz, got, want)
				}
				if err != nil {
					noSecret(t, "Authorize", err.Error())
				}
			}
			if got := errText(id.CanVerify()); got != tt.canVerify {
				t.Errorf("CanVerify\n got %q\nwant %q", got, tt.canVerify)
			}
			for biz, want := range tt.name4 {
				if got := id.BusinessName(biz); got != want {
					t.Errorf("BusinessName(%q) = %q, want %q", biz, got, want)
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWhoAmIAccountKeyWithBusinessID: whoami is not a data endpoint, so an
// account key answers at account level whether CRK_BUSINESS_ID is set or
// not, and X-Business-Id does not go along.
func TestWhoAmIAccountKeyWithBusinessID(t *testing.T) {
	srv := startFake(t, nil)
	base, rec := record(t, srv)
	c := newClient(t, base, fakecrk.TokAccount, func(c *sink.Config, d *sink.Deps) { c.BusinessID = fakecrk.BizB })
	id, err := c.WhoAmI(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if id.Level != "account" || id.Authorize(fakecrk.BizB) != nil || id.BusinessName(fakecrk.BizB) != "Acme Support" {
		t.Fatalf("identity %+v", id)
	}
	for _, s := range rec.all() {
		if h := s.Header.Get("X-Business-Id"); h != "" {
			t.Errorf("%s %s sent X-Business-Id %q", s.Method, s.Path, h)
		}
	}
}

// TestWhoAmIAnswers: answers the fake does not give, from deployments the
// documentation does not pin down.
func TestWhoAmIAnswers(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		level   string
		wantErr string
	}{
		{"business without level", `{"business":{"id":"b9","name":"Nine","slug":"nine"},"scopes":["manage_call_recording"]}`, "business", ""},
		{"account without level", `{"userId":"u9","scopes":["manage_all"],"businesses":[]}`, "account", ""},
		{"account with only a user", `{"userId":"u9","scopes":["manage_all"]}`, "account", ""},
		{"extra fields", `{"level":"business","business":{"id":"b9","name":"Nine","slug":"nine","plan":{"tier":3}},"scopes":[],"tokenPrefix":"crk_ab","expiresAt":null}`, "business", ""},
		{"unknown level kept", `{"level":"robot","scopes":[]}`, "robot", ""},
		{"neither business nor account", `{"scopes":["manage_all"]}`, "", "crk whoami: the answer names neither a business nor an account"},
		{"not JSON", `<html>hello</html>`, "", "crk whoami: decoding the 200 answer: invalid character '<' looking for beginning of value"},
		{"empty", ``, "", "crk whoami: decoding the 200 answer: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := stub(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/meta/whoami" || r.Header.Get("Authorization") != "Bearer "+tokHTTPTest {
					http.Error(w, "unexpected request", http.StatusTeapot)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.body))
			})
			c := newClient(t, base, tokHTTPTest, func(c *sink.Config, d *sink.Deps) { c.Retry.Attempts = 1 })
			id, err := c.WhoAmI(t.Context())
			if got := errText(err); got != tt.wantErr {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
			if err != nil {
				return
			}
			if id.Level != tt.level {
				t.Errorf("level %q, want %q", id.Level, tt.level)
			}
		})
	}
}

func TestAuthorizeUnknownLevel(t *testing.T) {
	id := &sink.Identity{Level: "robot", Scopes: []string{"manage_all"}}
	if got := errText(id.Authorize("")); got != `unknown key level "robot"` {
		t.Fatalf("Authorize: %q", got)
	}
}

// TestWhoAmIErrors: whoami of a key that does not work says why, typed.
func TestWhoAmIErrors(t *testing.T) {
	srv := startFake(t, func(o *fakecrk.Options) {})
	for _, tt := range []struct {
		token    string
		sentinel error
	}{
		{fakecrk.TokWrong, sink.ErrInvalidToken},
		{fakecrk.TokOff, sink.ErrTokenDisabled},
	} {
		c := newClient(t, srv.URL(), tt.token, nil)
		_, err := c.WhoAmI(t.Context())
		if !errors.Is(err, tt.sentinel) || !sink.IsAuth(err) {
			t.Errorf("whoami: %v, want %v", err, tt.sentinel)
		}
	}
	if n := srv.Count(fakecrk.EndpointWhoami); n != 2 {
		t.Errorf("%d whoami requests, want 2 (a 401 is not retried)", n)
	}
}
