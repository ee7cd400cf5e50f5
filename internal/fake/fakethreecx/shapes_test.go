package fakethreecx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeclock"
)

// TestVersionShapes: the properties each version serves and accepts, nulls
// left out unless SendNulls, DnTypes as int32 unless DnTypeNames.
func TestVersionShapes(t *testing.T) {
	for _, tc := range []struct {
		version          string
		transcribed, can bool
	}{
		{"20.0.4", false, false},
		{"20.0.6", false, false},
		{"20.0.7", true, false},
		{"20.0.8", true, true},
		{"20.0.9", true, true},
		{"20.0.10", true, true},
	} {
		for _, sendNulls := range []bool{false, true} {
			t.Run(tc.version+"/nulls="+strconv.FormatBool(sendNulls), func(t *testing.T) {
				s := start(t, Options{Version: tc.version, SendNulls: sendNulls})
				s.Add(NewRecording(1, at0, InboundExternal, 1))
				p, r := listing(t, s, accessToken(t, s, "api"), url.Values{})
				if r.status != http.StatusOK || len(p.Value) != 1 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				var m map[string]any
				if err := json.Unmarshal(p.Value[0], &m); err != nil {
					t.Fatal(err)
				}
				for name, want := range map[string]bool{"IsTranscribed": tc.transcribed, "TranscriptionResult": tc.transcribed, "CanBeTranscribed": tc.can} {
					if _, ok := m[name]; ok != want {
						t.Errorf("%s served: %v, want %v", name, ok, want)
					}
					_, r := listing(t, s, accessToken(t, s, "api"), url.Values{"$select": {"Id," + name}})
					if (r.status == http.StatusOK) != want {
						t.Errorf("$select=%s: %d, want accepted %v", name, r.status, want)
					}
				}
				summary, present := m["Summary"]
				if present != sendNulls || summary != nil {
					t.Errorf("null Summary: present %v (%v), want present %v", present, summary, sendNulls)
				}
				if m["FromDnType"] != float64(DnExternalLine) || m["ToDnType"] != float64(DnExtension) {
					t.Errorf("DnTypes %v/%v, want 1/0", m["FromDnType"], m["ToDnType"])
				}
			})
		}
	}
	s := start(t, Options{DnTypeNames: true})
	s.Add(NewRecording(1, at0, InboundExternal, 1))
	p, _ := listing(t, s, accessToken(t, s, "api"), url.Values{"$select": {"FromDnType,ToDnType"}})
	if len(p.Value) != 1 || string(p.Value[0]) != `{"FromDnType":"ExternalLine","ToDnType":"Extension"}` {
		t.Errorf("DnTypeNames: %s", p.Value)
	}
	if _, err := Start(Options{Version: "19"}); err == nil {
		t.Error("Start accepted version 19")
	}
}

// TestExpiresUnitByVersion: expires_in is minutes before 20.0.9 and seconds
// from it, unless ExpiresUnit says.
func TestExpiresUnitByVersion(t *testing.T) {
	for version, life := range map[string]int64{"20.0.8": 3600, "20.0.9": 60, "20.0.10": 60} {
		s := start(t, Options{Version: version})
		if c := claims(t, accessToken(t, s, "api")); int64(c["exp"].(float64)-c["iat"].(float64)) != life {
			t.Errorf("%s: token lives %v s, want %d", version, c["exp"].(float64)-c["iat"].(float64), life)
		}
	}
}

func TestErrorBodies(t *testing.T) {
	for _, numeric := range []bool{false, true} {
		s := start(t, Options{NumericErrorCodes: numeric, MissingFile: MissingFile400})
		tok := accessToken(t, s, "api")
		r := get(t, s, tok, "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=5)")
		var e struct {
			Error struct {
				Code, Message string
				Details       []struct{ Code, Message string }
			} `json:"error"`
		}
		wantCode := ""
		if numeric {
			wantCode = "400"
		}
		if r.status != http.StatusBadRequest || json.Unmarshal(r.body, &e) != nil || e.Error.Code != wantCode ||
			e.Error.Message != "WARNINGS.XAPI.FILE_NOT_FOUND" || len(e.Error.Details) != 1 || e.Error.Details[0].Message != e.Error.Message {
			t.Errorf("numeric=%v: %d %s", numeric, r.status, r.body)
		}
	}
	s := start(t, Options{MissingFile: MissingFile400NotFound})
	rec := NewRecording(1, at0, InboundExternal, 1)
	rec.State = Archived
	s.Add(rec)
	if r := get(t, s, accessToken(t, s, "api"), "/xapi/v1/Recordings/Pbx.DownloadRecording(recId=1)"); r.status != http.StatusBadRequest ||
		!bytes.Contains(r.body, []byte("WARNINGS.XAPI.NOT_FOUND")) {
		t.Errorf("archived, NOT_FOUND knob: %d %s", r.status, r.body)
	}
}

func TestBadClient400(t *testing.T) {
	s := start(t, Options{BadClient: BadClient400})
	r := clientToken(t, s, "api", "nope")
	if r.status != http.StatusBadRequest || strings.TrimSpace(string(r.body)) != `{"error":"invalid_client"}` {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// userLogin logs in as alice and returns the answer's Token and its
// RefreshTokenCookie.
func userLogin(t *testing.T, s *Server) (access, refresh string, cookie *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/webclient/api/Login/GetAccessToken", strings.NewReader(`{"Username":"alice","Password":"pw","SecurityCode":""}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token struct {
			AccessToken  string  `json:"access_token"`
			RefreshToken *string `json:"refresh_token"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "RefreshTokenCookie" {
			cookie = c
		}
	}
	if body.Token.RefreshToken != nil {
		refresh = *body.Token.RefreshToken
	}
	return body.Token.AccessToken, refresh, cookie
}

func refreshWith(t *testing.T, s *Server, form url.Values, cookie string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "RefreshTokenCookie", Value: cookie})
	}
	r := do(t, req)
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return r.status, m
}

// TestRefresh: each place a refresh token may be read from, rotation, the
// cookie-only log-in, expiry and revocation.
func TestRefresh(t *testing.T) {
	for _, tc := range []struct {
		name               string
		mode               Refresh
		formOK, cookieOK   bool
		unsupportedRefresh bool
	}{
		{"cookie", RefreshCookie, false, true, false},
		{"form", RefreshForm, true, false, false},
		{"either", RefreshEither, true, true, false},
		{"unsupported", RefreshUnsupported, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, Options{Refresh: tc.mode})
			first, rt, cookie := userLogin(t, s)
			if rt == "" || cookie == nil || cookie.Value != rt || cookie.Path != "/connect/token" || !cookie.HttpOnly {
				t.Fatalf("log-in: refresh %q, cookie %+v", rt, cookie)
			}
			base := url.Values{"client_id": {"Webclient"}, "grant_type": {"refresh_token"}}
			withForm := url.Values{"client_id": {"Webclient"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
			for _, try := range []struct {
				name   string
				form   url.Values
				cookie string
				ok     bool
			}{
				{"form field", withForm, "", tc.formOK},
				{"cookie", base, rt, tc.cookieOK},
			} {
				status, m := refreshWith(t, s, try.form, try.cookie)
				switch {
				case try.ok && (status != http.StatusOK || m["access_token"] == "" || m["refresh_token"] != nil):
					t.Errorf("%s: %d %v, want a new access token and refresh_token null", try.name, status, m)
				case !try.ok && tc.unsupportedRefresh && (status != http.StatusBadRequest || m["error"] != "unsupported_grant_type"):
					t.Errorf("%s: %d %v, want unsupported_grant_type", try.name, status, m)
				case !try.ok && !tc.unsupportedRefresh && (status != http.StatusBadRequest || m["error"] != "invalid_grant"):
					t.Errorf("%s: %d %v, want invalid_grant", try.name, status, m)
				}
			}
			if tc.formOK || tc.cookieOK {
				if r := get(t, s, first, "/xapi/v1/Recordings"); r.status != http.StatusUnauthorized {
					t.Errorf("the access token before a refresh: %d, want 401 (one token per principal)", r.status)
				}
			}
			if s.Logins() != 1 {
				t.Errorf("Logins = %d, want 1 (refreshes are not log-ins)", s.Logins())
			}
		})
	}

	t.Run("rotates", func(t *testing.T) {
		s := start(t, Options{Refresh: RefreshEither, RefreshRotates: true})
		_, rt, _ := userLogin(t, s)
		status, m := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "")
		next, _ := m["refresh_token"].(string)
		if status != http.StatusOK || next == "" || next == rt {
			t.Fatalf("rotating refresh: %d %v", status, m)
		}
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, ""); status != http.StatusBadRequest {
			t.Errorf("the replaced refresh token: %d, want 400", status)
		}
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}}, ""); status != http.StatusOK {
			t.Errorf("the new refresh token: %d", status)
		}
		if s.Refreshes() != 2 || s.Grants() != 3 {
			t.Errorf("Refreshes %d, Grants %d; want 2, 3", s.Refreshes(), s.Grants())
		}
	})

	t.Run("cookie only", func(t *testing.T) {
		s := start(t, Options{RefreshCookieOnly: true})
		_, rt, cookie := userLogin(t, s)
		if rt != "" || cookie == nil {
			t.Fatalf("body refresh_token %q, cookie %v; want null and a cookie", rt, cookie)
		}
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}}, cookie.Value); status != http.StatusOK {
			t.Errorf("refresh with the cookie: %d", status)
		}
	})

	t.Run("expiry and revocation", func(t *testing.T) {
		clock := fakeclock.New(at0)
		s := start(t, Options{Now: clock.Now, RefreshLifetime: time.Hour})
		_, _, cookie := userLogin(t, s)
		s.ExpireAccessTokens()
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}}, cookie.Value); status != http.StatusOK {
			t.Errorf("refresh after the access tokens expired: %d", status)
		}
		clock.Advance(time.Hour)
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}}, cookie.Value); status != http.StatusBadRequest {
			t.Errorf("expired refresh token: %d, want 400", status)
		}
		_, _, cookie = userLogin(t, s)
		s.RevokeTokens()
		if status, _ := refreshWith(t, s, url.Values{"grant_type": {"refresh_token"}}, cookie.Value); status != http.StatusBadRequest {
			t.Errorf("revoked refresh token: %d, want 400", status)
		}
	})

	t.Run("client credentials carry none", func(t *testing.T) {
		s := start(t, Options{})
		var m map[string]any
		if json.Unmarshal(clientToken(t, s, "api", "s3cret").body, &m) != nil || m["refresh_token"] != nil {
			t.Errorf("client credentials answer %v", m)
		}
	})
}

// TestDeleteAndBeforeListing: a recording deleted between two pages is
// gone from the second, and BeforeListing runs before each page.
func TestDeleteAndBeforeListing(t *testing.T) {
	var s *Server
	s = start(t, Options{BeforeListing: func(n int) {
		if n == 2 {
			s.Delete(1)
		}
	}})
	for i := range 4 {
		s.Add(NewRecording(int32(i+1), at0.Add(time.Duration(i)*time.Minute), InboundExternal, uint64(i)))
	}
	tok := accessToken(t, s, "api")
	q := func(skip int) url.Values {
		return url.Values{"$orderby": {"StartTime,Id"}, "$top": {"2"}, "$skip": {strconv.Itoa(skip)}, "$select": {"Id"}}
	}
	p1, _ := listing(t, s, tok, q(0))
	p2, _ := listing(t, s, tok, q(2))
	if got := append(idsOf(t, p1), idsOf(t, p2)...); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 4 {
		t.Errorf("$skip paging across a deletion listed %v, want [1 2 4]: 3 moved up and was passed over", got)
	}
	if s.Listings() != 2 || s.Delete(1) {
		t.Errorf("Listings %d; Delete of a deleted recording reported one", s.Listings())
	}
}
