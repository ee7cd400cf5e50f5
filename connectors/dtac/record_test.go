package dtac

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

// mapOne decodes a page holding one recordingDto and maps it.
func mapOne(t *testing.T, c *Connector, object string) (connectors.Recording, bool) {
	t.Helper()
	var got []connectors.Recording
	var oks []bool
	_, err := decodePage(strings.NewReader(`{"objects":[`+object+`],"nextPageUri":null}`), func(d *recordingDTO) {
		r, ok := c.recording(d, nil)
		got, oks = append(got, r), append(oks, ok)
	})
	if err != nil || len(got) != 1 {
		t.Fatalf("decoding %s: %v (%d recordings)", object, err, len(got))
	}
	return got[0], oks[0]
}

func TestRecordingMapping(t *testing.T) {
	c := newTestConnector(t, "https://onecallvoicerecord.dtac.co.th", testPass, 0)
	const base = `"type":"recordingDto","duration":95,"localParty":"+66812345678","remoteParty":"+6621234567"`
	full := connectors.Recording{
		ID: "100659220", DataID: "dtac-100659220",
		CallAt:   time.Date(2026, 5, 20, 8, 14, 0, 0, bangkok(t)),
		Duration: 95 * time.Second, Direction: "in",
		CustomerPhone: "+6621234567", AgentNumber: "+66812345678", AgentName: "สมชาย ใจดี",
	}
	with := func(f func(r *connectors.Recording)) connectors.Recording {
		r := full
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name    string
		object  string
		want    connectors.Recording
		invalid string // Invalid's text, "" for none
	}{
		{"portal's form", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"IN",
			"userDto":{"type":"userDto","firstname":"สมชาย","lastname":"ใจดี"},"recordingURL":"https://x/y","tags":[],"metadata":{},"filesize":1}`,
			full, ""},
		{"string id, OUT, null last name", `{"id":"100659220","timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"OUT",
			"userDto":{"firstname":"สมชาย","lastname":null}}`,
			with(func(r *connectors.Recording) { r.Direction, r.AgentName = "out", "สมชาย" }), ""},
		{"null first name, padded", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"in",
			"userDto":{"firstname":null,"lastname":" ใจดี "}}`,
			with(func(r *connectors.Recording) { r.AgentName = "ใจดี" }), ""},
		{"null userDto", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"IN","userDto":null}`,
			with(func(r *connectors.Recording) { r.AgentName = "" }), ""},
		{"no userDto, names missing", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"IN","userDto":{}}`,
			with(func(r *connectors.Recording) { r.AgentName = "" }), ""},
		{"T separator and Z", `{"id":100659220,"timestamp":"2026-05-20T01:14:00Z",` + base + `,"direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			full, ""},
		{"fractional seconds", `{"id":100659220,"timestamp":"2026-05-20 01:14:00.250",` + base + `,"direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.CallAt = r.CallAt.Add(250 * time.Millisecond) }), ""},
		{"offset +07:00", `{"id":100659220,"timestamp":"2026-05-20T08:14:00+07:00",` + base + `,"direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			full, ""},
		{"UNKN direction is left to the setting", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"UNKN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "" }), ""},
		{"unkn in lower case is left to the setting", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"unkn","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "" }), ""},
		{"no direction is left to the setting", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "" }), ""},
		{"empty direction is left to the setting", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "" }), ""},
		{"null direction is left to the setting", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":null,"userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "" }), ""},
		{"OUTBOUND is out", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":" Outbound ","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Direction = "out" }), ""},
		{"incoming is in", `{"id":100659220,"timestamp":"2026-05-20 01:14:00",` + base + `,"direction":"incoming","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			full, ""},
		{"malformed timestamp", `{"id":100659220,"timestamp":"20/05/2026 01:14",` + base + `,"direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.CallAt = time.Time{} }),
			`invalid recording at the source: timestamp "20/05/2026 01:14" is not a time like "2006-01-02 15:04:05" (UTC)`},
		{"epoch millis and odd direction", `{"id":100659220,"timestamp":1747703640000,` + base + `,"direction":"in out","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.CallAt, r.Direction = time.Time{}, "" }),
			`invalid recording at the source: timestamp "1747703640000" is not a time like "2006-01-02 15:04:05" (UTC)`},
		{"duration as a string, fractional", `{"id":100659220,"timestamp":"2026-05-20 01:14:00","duration":"95.5","localParty":"+66812345678","remoteParty":"+6621234567","direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Duration = 95500 * time.Millisecond }), ""},
		{"duration missing", `{"id":100659220,"timestamp":"2026-05-20 01:14:00","localParty":"+66812345678","remoteParty":"+6621234567","direction":"IN","userDto":{"firstname":"สมชาย","lastname":"ใจดี"}}`,
			with(func(r *connectors.Recording) { r.Duration = 0 }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := mapOne(t, c, tc.object)
			if !ok {
				t.Fatal("recording dropped")
			}
			gotInvalid := ""
			if got.Invalid != nil {
				gotInvalid = got.Invalid.Error()
				if !errors.Is(got.Invalid, connectors.ErrInvalid) || !connectors.Permanent(got.Invalid) {
					t.Errorf("Invalid %v does not wrap ErrInvalid", got.Invalid)
				}
			}
			if gotInvalid != tc.invalid {
				t.Errorf("Invalid = %q, want %q", gotInvalid, tc.invalid)
			}
			got.Invalid = nil
			if !got.CallAt.Equal(tc.want.CallAt) || got.CallAt.Format(time.RFC3339Nano) != tc.want.CallAt.Format(time.RFC3339Nano) ||
				!got.CallAt.IsZero() && got.CallAt.Location().String() != "Asia/Bangkok" {
				t.Errorf("CallAt = %s, want %s", got.CallAt, tc.want.CallAt)
			}
			got.CallAt, tc.want.CallAt = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCallAtInLocalZone(t *testing.T) {
	c := newTestConnector(t, "https://onecallvoicerecord.dtac.co.th", testPass, 0)
	r, _ := mapOne(t, c, `{"id":1,"timestamp":"2026-05-20 20:30:00","direction":"IN"}`)
	if got := r.CallAt.Format(time.RFC3339); got != "2026-05-21T03:30:00+07:00" {
		t.Errorf("CallAt = %s, want 2026-05-21T03:30:00+07:00 (UTC 20:30 is 03:30 next day in Bangkok)", got)
	}
}

func TestThaiNumbers(t *testing.T) {
	c := newTestConnector(t, "https://onecallvoicerecord.dtac.co.th", testPass, 0)
	for _, tc := range []struct{ raw, want string }{
		{"0812345678", "+66812345678"},
		{"66812345678", "+66812345678"},
		{"+66812345678", "+66812345678"},
		{"+66 81-234-5678", "+66812345678"},
		{"081-234-5678", "+66812345678"},
		{"021234567", "+6621234567"},
		{"+6621234567", "+6621234567"},
		{"6621234567", "+6621234567"},
		{"053123456", "+6653123456"},
		{"anonymous", "anonymous"},
		{"", ""},
	} {
		for _, field := range []string{"remoteParty", "localParty"} {
			r, _ := mapOne(t, c, `{"id":1,"timestamp":"2026-05-20 01:00:00","direction":"IN","`+field+`":"`+tc.raw+`"}`)
			got := r.CustomerPhone
			if field == "localParty" {
				got = r.AgentNumber
			}
			if got != tc.want {
				t.Errorf("%s %q → %q, want %q", field, tc.raw, got, tc.want)
			}
		}
	}
}

func TestRowsWithoutIDAreSkipped(t *testing.T) {
	c := newTestConnector(t, "https://onecallvoicerecord.dtac.co.th", testPass, 0)
	for _, obj := range []string{`{"timestamp":"2026-05-20 01:00:00","direction":"IN"}`, `{"id":null}`, `{"id":" "}`, `42`, `"x"`} {
		if _, ok := mapOne(t, c, obj); ok {
			t.Errorf("%s: a recording without an id was kept", obj)
		}
	}
	// An object that is not an object but has no id cannot be named either;
	// one whose fields are odd but has an id is kept and marked.
	r, ok := mapOne(t, c, `{"id":{"x":1},"timestamp":"2026-05-20 01:00:00"}`)
	if ok {
		t.Errorf("an object id was kept: %+v", r)
	}
}

func TestDataID(t *testing.T) {
	if got := DataID("100659220"); got != "dtac-100659220" {
		t.Errorf("DataID = %q", got)
	}
}
