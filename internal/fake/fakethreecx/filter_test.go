package fakethreecx

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// sample recordings for evaluating filters.
func sampleRecs() []*Recording {
	at := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)
	a := NewRecording(1, at, InboundExternal, 1)
	b := NewRecording(2, at.Add(time.Hour), OutboundExternal, 2)
	c := NewRecording(3, at.Add(2*time.Hour), Local, 3)
	c.ToDisplayName = new("O'Brien")
	d := Recording{ID: 4} // every nullable field null
	return []*Recording{&a, &b, &c, &d}
}

func TestFilterEvaluates(t *testing.T) {
	recs := sampleRecs()
	for _, tc := range []struct {
		filter string
		want   []int32
	}{
		{"Id eq 2", []int32{2}},
		{"Id gt 1 and Id lt 4", []int32{2, 3}},
		{"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T03:00:00Z", []int32{1, 2}},
		{"StartTime ge 2026-05-20T08:00:00+07:00", []int32{1, 2, 3}},
		{"StartTime lt 2026-05-20T02:00:00.0000001Z", []int32{1, 2}},
		{"StartTime le 2026-05-20T02:00:00.123456789012Z", []int32{1, 2}}, // 12 fractional digits
		{"StartTime gt 2026-05-20T01:00Z", []int32{2, 3}},                 // seconds optional
		{"CallType ne 'Local'", []int32{1, 2, 4}},                         // null ne 'Local' is true
		{"CallType eq null", []int32{4}},
		{"CallType ne null", []int32{1, 2, 3}},
		{"StartTime gt 2000-01-01T00:00:00Z", []int32{1, 2, 3}}, // null gt x is false
		// Precedence: and binds tighter than or.
		{"Id eq 1 or Id eq 2 and Id eq 3", []int32{1}},
		{"(Id eq 1 or Id eq 2) and Id eq 2", []int32{2}},
		{"Id eq 1 or (Id eq 2 and CallType eq 'OutboundExternal')", []int32{1, 2}},
		{"not (Id eq 1) and not(Id eq 2)", []int32{3, 4}},
		{"((((Id eq 3))))", []int32{3}},
		{"ToDisplayName eq 'O''Brien'", []int32{3}}, // '' escapes a quote
		{"ToDisplayName eq 'O'", nil},
		{"IsArchived eq false", []int32{1, 2, 3}},
		{"IsArchived", nil},
		{"not IsArchived", []int32{1, 2, 3, 4}},
		{"Id gt 1 eq true", []int32{2, 3, 4}}, // relational binds tighter than equality
		{"FromDnType eq 0 and ToDnType eq 0", []int32{3}},
		{"true", []int32{1, 2, 3, 4}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			n, err := parseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			p := compile(n)
			var got []int32
			for _, r := range recs {
				if p(r) {
					got = append(got, r.ID)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("matched %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("matched %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tc := range []struct {
		filter string
		status int
	}{
		// Malformed literals: 500, as 3CX answers.
		{"StartTime ge 2026-13-45T01:00:00Z", http.StatusInternalServerError},
		{"StartTime ge 2026-05-20T25:00:00Z", http.StatusInternalServerError},
		{"StartTime ge 2026-05-20", http.StatusInternalServerError},
		{"StartTime ge 2026-05-20T01:00:00", http.StatusInternalServerError}, // no offset
		{"StartTime ge 2026-05-20T01:00:00 07:00", http.StatusInternalServerError},
		{"Id eq 99999999999", http.StatusInternalServerError},
		// Syntax and types: 400.
		{"", http.StatusBadRequest},
		{"Id eq", http.StatusBadRequest},
		{"Id eq 1 and", http.StatusBadRequest},
		{"(Id eq 1", http.StatusBadRequest},
		{"Id eq 1)", http.StatusBadRequest},
		{"Id == 1", http.StatusBadRequest},
		{"Id EQ 1", http.StatusBadRequest},
		{"Nope eq 1", http.StatusBadRequest},
		{"startTime ge 2026-05-20T01:00:00Z", http.StatusBadRequest}, // case-sensitive
		{"CallType eq 'Local", http.StatusBadRequest},
		{"StartTime ge '2026-05-20T01:00:00Z'", http.StatusBadRequest},
		{"Id eq 'x'", http.StatusBadRequest},
		{"Id", http.StatusBadRequest},
		{"Id and true", http.StatusBadRequest},
		{"IsArchived gt false", http.StatusBadRequest},
		{"contains(FromDn,'10')", http.StatusBadRequest},
		{"Id eq 1.5", http.StatusBadRequest},
		{"Id eq 1,", http.StatusBadRequest},
		{"Id in (1,2)", http.StatusBadRequest},
		{"not Id eq 1", http.StatusBadRequest}, // not binds tighter than eq: (not Id) eq 1
	} {
		t.Run(tc.filter, func(t *testing.T) {
			_, err := parseFilter(tc.filter)
			var qe *queryError
			if !errors.As(err, &qe) {
				t.Fatalf("parseFilter = %v, want a query error", err)
			}
			if qe.status != tc.status {
				t.Errorf("status %d (%s), want %d", qe.status, qe.msg, tc.status)
			}
		})
	}
}

func TestFilterNestingBounded(t *testing.T) {
	deep := ""
	for range 200 {
		deep += "("
	}
	deep += "true"
	for range 200 {
		deep += ")"
	}
	if _, err := parseFilter(deep); err == nil {
		t.Error("accepted 200 nested parentheses")
	}
	nots := ""
	for range 200 {
		nots += "not "
	}
	if _, err := parseFilter(nots + "true"); err == nil {
		t.Error("accepted 200 nested nots")
	}
}

func TestStartBounds(t *testing.T) {
	t1 := time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	for _, tc := range []struct {
		filter string
		lo, hi *time.Time
	}{
		{"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z and CallType ne 'Local'", &t1, &t2},
		{"2026-05-20T01:00:00Z le StartTime", &t1, nil},
		{"StartTime eq 2026-05-20T01:00:00Z", &t1, &t1},
		{"StartTime ge 2026-05-20T01:00:00Z or Id eq 1", nil, nil}, // an or with an unbounded side: no bound
		{"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z and (StartTime gt 2026-05-20T01:00:00Z or (StartTime eq 2026-05-20T01:00:00Z and Id gt 7))", &t1, &t2}, // a keyset page
		{"StartTime ge 2026-05-20T02:00:00Z or StartTime eq 2026-05-20T01:00:00Z", &t1, nil},
		{"StartTime lt 2026-05-20T01:00:00Z or StartTime le 2026-05-20T02:00:00Z", nil, &t2},
		{"not (StartTime lt 2026-05-20T01:00:00Z)", nil, nil},
	} {
		n, err := parseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := startBounds(n)
		if !sameTime(lo, tc.lo) || !sameTime(hi, tc.hi) {
			t.Errorf("startBounds(%s) = %v, %v; want %v, %v", tc.filter, lo, hi, tc.lo, tc.hi)
		}
	}
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
