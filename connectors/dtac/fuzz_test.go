package dtac

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

func FuzzDecodePage(f *testing.F) {
	for _, seed := range []string{
		`{"objects":[{"type":"recordingDto","id":100659220,"timestamp":"2026-05-20 01:14:00","duration":95,"localParty":"+66812345678",` +
			`"remoteParty":"+6621234567","direction":"IN","userDto":{"firstname":"สมชาย","lastname":null},"recordingURL":"https://x/y"}],` +
			`"nextPageUri":"https://x/orktrack/rest/recordings?page=2","prevPageUri":null,"limitReached":false,"page":1,"pageSize":20,"resultCount":-1}`,
		`{"objects":[{"id":"1","timestamp":1747703640000,"direction":"UNKN","userDto":"x"},42,"s",null,[]]}`,
		`{"objects":null,"nextPageUri":2}`,
		`{"Objects":[{"id":{"a":1}}],"PageSize":"x","limitReached":"true"}`,
		`{"objects":[`,
		`[]`,
		`<html>`,
		``,
		`{"objects":[{"id":1e400,"duration":-1,"timestamp":"2026-05-20T01:14:00.123456789+07:00"}]}`,
	} {
		f.Add(seed)
	}
	c, err := New(Config{BaseURL: "https://onecallvoicerecord.dtac.co.th", Username: testUser, Password: testPass}, connectors.Deps{Region: "TH"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, page string) {
		calls := 0
		info, err := decodePage(strings.NewReader(page), func(d *recordingDTO) {
			calls++
			r, ok := c.recording(d, nil)
			if !ok {
				return
			}
			if r.ID == "" || r.DataID != "dtac-"+r.ID {
				t.Fatalf("mapped %+v", r)
			}
			if r.Invalid != nil && !errors.Is(r.Invalid, connectors.ErrInvalid) {
				t.Fatalf("Invalid %v does not wrap ErrInvalid", r.Invalid)
			}
			if r.Invalid == nil && (r.CallAt.IsZero() || (r.Direction != "in" && r.Direction != "out" && r.Direction != "")) {
				t.Fatalf("valid recording with CallAt %s, Direction %q", r.CallAt, r.Direction)
			}
			if r.Duration < 0 {
				t.Fatalf("negative duration %s", r.Duration)
			}
		})
		if err == nil && info.objects != calls {
			t.Fatalf("%d objects counted, %d handed over", info.objects, calls)
		}
		if info.pageSize < 0 {
			t.Fatalf("pageSize %d", info.pageSize)
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-05-20 01:14:00", "2026-05-20T01:14:00Z", "2026-05-20 01:14:00.5", "2026-05-20T08:14:00+07:00",
		"2026-05-20 01:14:00+0700", "2026-05-20 01:14:00 +07:00", "20/05/2026 01:14", "", "2026-05-20T", "0000-00-00 00:00:00",
		"1969-12-31 23:59:59", "2026-02-30 01:00:00", "2026-05-20 24:00:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTimestamp(s)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("error with a time %s", got)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error too long: %d bytes", len(err.Error()))
			}
			return
		}
		if got.Location() != time.UTC || got.Year() < 1970 {
			t.Fatalf("parseTimestamp(%q) = %s", s, got)
		}
	})
}

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2026, 5, 20, 1, 14, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-05-20 01:14:00", want, true},
		{" 2026-05-20 01:14:00 ", want, true},
		{"2026-05-20T01:14:00", want, true},
		{"2026-05-20t01:14:00z", time.Time{}, false},
		{"2026-05-20T01:14:00Z", want, true},
		{"2026-05-20 01:14:00.123", want.Add(123 * time.Millisecond), true},
		{"2026-05-20T08:14:00+07:00", want, true},
		{"2026-05-20 08:14:00+0700", want, true},
		{"2026-05-20 08:14:00+07", want, true},
		{"2026-05-20 08:14:00 +07:00", want, true},
		{"2026-05-19 20:14:00-05:00", want, true},
		{"20/05/2026 01:14", time.Time{}, false},
		{"2026-05-20", time.Time{}, false},
		{"1747703640000", time.Time{}, false},
		{"1969-12-31 23:59:59", time.Time{}, false},
	} {
		got, err := parseTimestamp(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseTimestamp(%q) = %s, %v; want %s, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestQuoteShort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", `"abc"`},
		{`a"b'c\`, `"a\"b'c\\"`},
		{"\x03", `"\x03"`},
		{"เวลา", `"เวลา"`},
		{strings.Repeat("x", 60), `"` + strings.Repeat("x", 48) + `"…`},
		{strings.Repeat("\x00", 20), `"` + strings.Repeat(`\x00`, 12) + `"…`},
	} {
		if got := quoteShort(tc.in); got != tc.want {
			t.Errorf("quoteShort(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzTextString checks text's fast path for strings against encoding/json.
func FuzzTextString(f *testing.F) {
	for _, s := range []string{"", "abc", "สมชาย", `a\"b`, `\u0e2a`, "\xff", `\`, "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		b := []byte(`"` + raw + `"`)
		if !json.Valid(b) {
			return
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		var got text
		if err := got.UnmarshalJSON(b); err != nil || string(got) != want {
			t.Fatalf("text of %q = %q, %v; want %q", b, got, err, want)
		}
	})
}
