package fakecrk

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestAuthRules(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	rec := mustCreate(t, s, c, TokFull, "", "auth-rec", "")
	endpoints := []struct {
		name, method, path, body string
		ok                       int
	}{
		{"whoami", "GET", "/meta/whoami", "", 200},
		{"create", "POST", "/recordings", createBody("auth-new", ""), 0}, // 201 or 200
		{"list", "GET", "/recordings", "", 200},
		{"reextract", "POST", "/recordings/" + rec.ID + "/reextract", "", 0}, // no audio: 422, past auth
	}
	tests := []struct {
		name      string
		auth      string // raw Authorization header; "" = none
		business  string
		endpoints []string // the endpoints the case applies to; nil = all
		status    int      // 0 = passes auth
		code      string
		message   string
	}{
		{name: "no header", status: 401, code: "missing_token"},
		{name: "basic scheme", auth: "Basic Zm9vOmJhcg==", status: 401, code: "invalid_token"},
		{name: "bare token", auth: TokFull, status: 401, code: "invalid_token"},
		{name: "unknown token", auth: "Bearer crk_unknown", status: 401, code: "invalid_token"},
		{name: "revoked", auth: "Bearer " + TokOff, status: 401, code: "token_disabled"},
		{name: "revoked with a foreign business", auth: "Bearer " + TokOff, business: BizC, status: 401, code: "token_disabled"},
		{name: "lower-case scheme", auth: "bearer " + TokFull},
		{name: "business key", auth: "Bearer " + TokFull},
		{name: "business key ignores X-Business-Id", auth: "Bearer " + TokFull, business: BizB},
		{name: "account without business", auth: "Bearer " + TokAccount, endpoints: []string{"create", "list", "reextract"}, status: 400, code: "business_required"},
		{name: "account with blank business", auth: "Bearer " + TokAccount, business: "   ", endpoints: []string{"create", "list", "reextract"}, status: 400, code: "business_required"},
		{name: "account whoami needs no business", auth: "Bearer " + TokAccount, endpoints: []string{"whoami"}},
		{name: "account not a member", auth: "Bearer " + TokAccount, business: BizC, endpoints: []string{"create", "list", "reextract"}, status: 403, code: "forbidden_business"},
		{name: "account member of unknown business", auth: "Bearer " + TokAccount, business: "gone-business", endpoints: []string{"create", "list", "reextract"}, status: 403, code: "forbidden_business"},
		{name: "account malformed business", auth: "Bearer " + TokAccount, business: "../' OR 1=1", endpoints: []string{"create", "list", "reextract"}, status: 403, code: "forbidden_business"},
		{name: "account member", auth: "Bearer " + TokAccount, business: BizA},
		{name: "no scopes: whoami", auth: "Bearer " + TokNone, endpoints: []string{"whoami"}},
		{name: "no scopes: ingest", auth: "Bearer " + TokNone, endpoints: []string{"create", "reextract"}, status: 403, code: "insufficient_scope", message: "Token lacks 'manage_call_recording'"},
		{name: "no scopes: list", auth: "Bearer " + TokNone, endpoints: []string{"list"}, status: 403, code: "insufficient_scope", message: "Token lacks 'view_recording_all'"},
		{name: "view key cannot ingest", auth: "Bearer " + TokView, endpoints: []string{"create", "reextract"}, status: 403, code: "insufficient_scope", message: "Token lacks 'manage_call_recording'"},
		{name: "ingest key cannot list", auth: "Bearer " + TokIngest, endpoints: []string{"list"}, status: 403, code: "insufficient_scope", message: "Token lacks 'view_recording_all'"},
		{name: "view_recording_self may list", auth: "Bearer " + TokSelf, endpoints: []string{"list"}},
	}
	for _, tc := range tests {
		for _, ep := range endpoints {
			if tc.endpoints != nil && !slices.Contains(tc.endpoints, ep.name) {
				continue
			}
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				req, err := http.NewRequest(ep.method, s.URL()+ep.path, strings.NewReader(ep.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				if tc.business != "" {
					req.Header.Set("X-Business-Id", tc.business)
				}
				a, err := send(c, req)
				if err != nil {
					t.Fatal(err)
				}
				if tc.status == 0 {
					if a.status == 401 || a.status == 403 || (a.status == 400 && a.apiError(t).Code == "business_required") {
						t.Fatalf("want past auth, got %d %s", a.status, a.body)
					}
					if ep.ok != 0 && a.status != ep.ok {
						t.Fatalf("status %d, want %d: %s", a.status, ep.ok, a.body)
					}
					return
				}
				if a.status != tc.status {
					t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
				}
				e := a.apiError(t)
				if e.Code != tc.code {
					t.Errorf("code %q, want %q", e.Code, tc.code)
				}
				if tc.message != "" && e.Message != tc.message {
					t.Errorf("message %q, want %q", e.Message, tc.message)
				}
			})
		}
	}
}

func TestAccountKeyWorksOnItsBusiness(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	cr := mustCreate(t, s, c, TokAccount, BizB, "acct-1", "")
	if _, ok := s.Recording(BizB, "acct-1"); !ok {
		t.Fatal("account key with X-Business-Id B did not create in B")
	}
	if _, ok := s.Recording(BizA, "acct-1"); ok {
		t.Fatal("created in A too")
	}
	// The same id is not reachable from business A.
	a := do(t, s, c, call{method: "POST", path: "/recordings/" + cr.ID + "/reextract", token: TokAccount, business: BizA})
	if a.status != 404 || a.apiError(t).Code != "not_found" {
		t.Fatalf("reextract from another business: %d %s", a.status, a.body)
	}
}

func TestWhoami(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	tests := []struct {
		name, token, business string
		want                  string
	}{
		{"business key", TokFull, "",
			`{"level":"business","business":{"id":"` + BizA + `","name":"Acme Sales","slug":"acme-sales"},"scopes":["manage_call_recording","view_recording_all"]}`},
		{"older deployment", TokOld, "",
			`{"business":{"id":"` + BizA + `","name":"Acme Sales","slug":"acme-sales"},"scopes":["manage_call_recording"]}`},
		{"business key without scopes", TokNone, "",
			`{"level":"business","business":{"id":"` + BizA + `","name":"Acme Sales","slug":"acme-sales"},"scopes":[]}`},
		{"account key lists its known businesses", TokAccount, "",
			`{"level":"account","userId":"u1","scopes":["manage_all"],"businesses":[{"id":"` + BizA + `","name":"Acme Sales","slug":"acme-sales"},{"id":"` + BizB + `","name":"Acme Support","slug":"acme-support"}]}`},
		{"account key with X-Business-Id", TokOther, BizC,
			`{"level":"account","userId":"u2","scopes":["manage_all"],"businesses":[{"id":"` + BizC + `","name":"Other Co","slug":"other-co"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, s, c, call{method: "GET", path: "/meta/whoami", token: tc.token, business: tc.business})
			if a.status != 200 || string(a.body) != tc.want {
				t.Fatalf("got %d %s\nwant %s", a.status, a.body, tc.want)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	s, _ := start(t, nil)
	c := client(t, true)
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/recordings/abc", 404, "not_found", ""},
		{"POST", "/recordings/abc/transcribe", 404, "not_found", ""},
		{"POST", "/recordings//reextract", 404, "not_found", ""},
		{"GET", "/recordings/", 404, "not_found", ""},
		{"DELETE", "/recordings", 405, "method_not_allowed", "GET, POST"},
		{"POST", "/meta/whoami", 405, "method_not_allowed", "GET"},
		{"GET", "/recordings/abc/reextract", 405, "method_not_allowed", "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := do(t, s, c, call{method: tc.method, path: tc.path, token: TokFull})
			if a.status != tc.status || a.apiError(t).Code != tc.code {
				t.Fatalf("got %d %s", a.status, a.body)
			}
			if a.header.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", a.header.Get("Allow"), tc.allow)
			}
		})
	}
	// Outside /api/v1 too.
	req, _ := http.NewRequest("GET", strings.TrimSuffix(s.URL(), "/api/v1")+"/", nil)
	a, err := send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	if a.status != 404 || a.apiError(t).Code != "not_found" {
		t.Fatalf("root: %d %s", a.status, a.body)
	}
}
