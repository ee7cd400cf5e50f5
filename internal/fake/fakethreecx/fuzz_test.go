package fakethreecx

import (
	"errors"
	"testing"
)

// FuzzParseFilter: no $filter makes the parser or an evaluation panic, and
// every refusal is a 400 or a 500.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"StartTime ge 2026-05-20T01:00:00Z and StartTime lt 2026-05-20T02:00:00Z and CallType ne 'Local'",
		"Id gt 1234",
		"(Id eq 1 or Id eq 2) and not (CallType eq null)",
		"ToDisplayName eq 'O''Brien'",
		"StartTime ge 2026-05-20T08:00:00.1234567+07:00",
		"StartTime ge 2026-13-45T00:00:00Z",
		"IsArchived eq true or IsTranscribed",
		"Id gt 1 eq true",
		"((((",
		"'unterminated",
		"Id eq -2147483648",
		"not not not true",
		"2026-05-20T01:00:00Z le StartTime",
		"",
	} {
		f.Add(seed)
	}
	recs := sampleRecs()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s)
		if err != nil {
			var qe *queryError
			if !errors.As(err, &qe) || (qe.status != 400 && qe.status != 500) {
				t.Fatalf("parseFilter(%q) = %v, want a 400 or 500 query error", s, err)
			}
			return
		}
		p := compile(n)
		for _, r := range recs {
			p(r)
		}
		startBounds(n)
	})
}
