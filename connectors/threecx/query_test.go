package threecx

import (
	"net/url"
	"testing"
	"time"
)

func TestODataTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC), "2026-05-20T01:00:00Z"},
		{time.Date(2026, 5, 20, 8, 0, 0, 0, bangkok), "2026-05-20T01:00:00Z"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600)), "2026-01-01T05:00:00Z"},
		{time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC), "2026-12-31T23:59:59Z"},
	} {
		if got := odataTime(tc.in); got != tc.want {
			t.Errorf("odataTime(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRecordingsFilter(t *testing.T) {
	from := time.Date(2026, 5, 20, 8, 0, 0, 0, bangkok)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		internal bool
		want     string
	}{
		{"external only", from, from.Add(time.Hour), false,
			"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z and CallType ne 'Local'"},
		{"with internal calls", from, from.Add(time.Hour), true,
			"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z"},
		{"fractions widen to whole seconds", from.Add(1500 * time.Millisecond), from.Add(time.Hour + 200*time.Millisecond), true,
			"StartTime ge 2026-05-20T01:00:01Z and StartTime lt 2026-05-20T02:00:01Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := recordingsFilter(tc.from, tc.to, tc.internal); got != tc.want {
				t.Errorf("filter = %q\nwant     %q", got, tc.want)
			}
		})
	}
}

func TestRecordingsQuery(t *testing.T) {
	f := "StartTime ge 2026-05-20T01:00:00Z and CallType ne 'Local'"
	got := recordingsQuery(f, 100, 200, true)
	want := "$filter=StartTime%20ge%202026-05-20T01%3A00%3A00Z%20and%20CallType%20ne%20%27Local%27" +
		"&$orderby=StartTime%20asc%2CId%20asc&$top=100&$skip=200&$count=true&$select=" + url.QueryEscape(selectFields)
	if got != want {
		t.Fatalf("query =\n%s\nwant\n%s", got, want)
	}
	v, err := url.ParseQuery(got)
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("$filter") != f || v.Get("$orderby") != "StartTime asc,Id asc" || v.Get("$top") != "100" || v.Get("$skip") != "200" || v.Get("$count") != "true" {
		t.Errorf("query decodes to %v", v)
	}
	later := recordingsQuery(f, 5, 10, false)
	if v, err := url.ParseQuery(later); err != nil || v.Has("$count") {
		t.Errorf("a later page's query %s asks for $count (or does not parse: %v)", later, err)
	}
}

func TestTopTooLarge(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"The query specified in the URI is not valid. The limit of '100' for Top query has been exceeded. The value from the incoming request is '200'.", true},
		{"$top exceeds the maximum allowed value of 100", true},
		{"Top must not be greater than 50", true},
		{"page size ($top) too large", true},
		{"Could not find a property named 'Foo' on type 'Pbx.Recording'.", false},
		{"The limit of 5 filters has been exceeded", false},
		{"", false},
	} {
		if got := topTooLarge(tc.msg); got != tc.want {
			t.Errorf("topTooLarge(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestKeysetQuery(t *testing.T) {
	f := "StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z"
	first, err := url.ParseQuery(keysetQuery(f, nil, 100, true))
	if err != nil || first.Get("$filter") != f || first.Has("$skip") || first.Get("$count") != "true" || first.Get("$orderby") != "StartTime asc,Id asc" {
		t.Errorf("first page %v (%v)", first, err)
	}
	at := time.Date(2026, 5, 20, 8, 30, 0, 123456700, bangkok)
	next, err := url.ParseQuery(keysetQuery(f, &keyset{start: at, id: 42}, 50, false))
	want := f + " and (StartTime gt 2026-05-20T01:30:00.1234567Z or (StartTime eq 2026-05-20T01:30:00.1234567Z and Id gt 42))"
	if err != nil || next.Get("$filter") != want || next.Has("$skip") || next.Has("$count") || next.Get("$top") != "50" {
		t.Errorf("next page %v (%v), want $filter %q", next, err, want)
	}
}
