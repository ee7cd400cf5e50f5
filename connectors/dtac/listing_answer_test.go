package dtac

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestListAnswerWithoutObjects: a 200 JSON answer without an objects array
// is an error of the listing, never an empty page that would let the
// cursor pass recordings; an objects array present and empty is a real
// empty page. (An error object that speaks of the token or the session is
// a refused token: relogin200_test.go.)
func TestListAnswerWithoutObjects(t *testing.T) {
	const js = "application/json"
	for _, tc := range []struct {
		name    string
		body    string // of the page under test; pages before it list two recordings
		wantErr string // "" for none
	}{
		{"empty object", `{}`, `the answer has no "objects" array: it is not a listing: "{}"`},
		{"an error instead", `{"error":"database unavailable"}`, `the answer has no "objects" array: it is not a listing: "{\"error\":\"database unavailable\"}"`},
		{"a message instead", `{"message":"Internal error","status":500}`, `the answer has no "objects" array: it is not a listing`},
		{"null objects", `{"objects":null}`, `reading "objects": null, not an array`},
		{"paging fields only", `{"nextPageUri":null,"limitReached":false,"page":2,"pageSize":2}`, `the answer has no "objects" array`},
		{"objects not an array", `{"objects":{"id":1}}`, `reading "objects": "{", not an array`},
		{"empty array", `{"objects":[],"nextPageUri":null}`, ""},
		{"empty array, other case", `{"Objects":[]}`, ""},
	} {
		for _, onPage := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s on page %d", tc.name, onPage), func(t *testing.T) {
				p := portal(t, func(n int) (int, string, string) {
					if n < onPage {
						return 200, js, `{"objects":[` + objs(1, 2) + `],"nextPageUri":"/orktrack/rest/recordings?page=2","pageSize":2}`
					}
					return 200, js, tc.body
				})
				c := newTestConnector(t, p.URL, testPass, 2)
				recs, err := c.List(ctxT(t), t0, t0.Add(time.Hour))
				if tc.wantErr == "" {
					if err != nil || len(recs) != 2*(onPage-1) {
						t.Fatalf("List: %d recordings, %v; want %d", len(recs), err, 2*(onPage-1))
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), fmt.Sprintf("page %d", onPage)) {
					t.Fatalf("List: %d recordings, %v; want an error of page %d with %q", len(recs), err, onPage, tc.wantErr)
				}
				if recs != nil {
					t.Errorf("List returned %d recordings with its error", len(recs))
				}
			})
		}
	}
}
