package threecx

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/connectors"
)

func TestMapping(t *testing.T) {
	m := mapper{host: "acme.3cx.co.th", region: "TH", loc: bangkok}
	start := time.Date(2026, 5, 20, 1, 14, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		json     string
		want     connectors.Recording // ID, DataID and ContentType are checked apart
		internal bool
		invalid  string // a part of Invalid's message; "" for none
	}{
		{
			name: "InboundExternal: customer From, agent To",
			json: `{"Id":42,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:15:35Z","CallType":"InboundExternal",
				"FromDn":"10000","FromDnType":"ExternalLine","FromCallerNumber":"0812345678","FromDisplayName":"0812345678","FromDidNumber":"6621055500",
				"ToDn":"101","ToDnType":"Extension","ToCallerNumber":"Ext.101","ToDisplayName":"Somchai Jaidee","ToDidNumber":null,
				"Transcription":null,"Summary":null,"SentimentScore":null,"SomethingNew":{"x":1}}`,
			want: connectors.Recording{CallAt: start, Duration: 95 * time.Second, Direction: "in",
				CustomerPhone: "+66812345678", AgentNumber: "101", AgentName: "Somchai Jaidee"},
		},
		{
			name: "OutboundExternal: customer To, agent From",
			json: `{"Id":43,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:14:30.5Z","CallType":"OutboundExternal",
				"FromDn":"102","FromDnType":"Extension","FromCallerNumber":"Ext.102","FromDisplayName":"Suda Rakdee",
				"ToDn":"10000","ToDnType":"ExternalLine","ToCallerNumber":"021234567","ToDisplayName":"021234567"}`,
			want: connectors.Recording{CallAt: start, Duration: 30500 * time.Millisecond, Direction: "out",
				CustomerPhone: "+6621234567", AgentNumber: "102", AgentName: "Suda Rakdee"},
		},
		{
			name: "Local: out from the calling extension, customer the other extension",
			json: `{"Id":44,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:16:00Z","CallType":"Local",
				"FromDn":"101","FromDnType":"Extension","FromCallerNumber":"Ext.101","FromDisplayName":"Somchai Jaidee",
				"ToDn":"120","ToDnType":"Extension","ToCallerNumber":"Ext.120","ToDisplayName":"Anan Srisuk"}`,
			want: connectors.Recording{CallAt: start, Duration: 2 * time.Minute, Direction: "out",
				CustomerPhone: "120", AgentNumber: "101", AgentName: "Somchai Jaidee"},
			internal: true,
		},
		{
			name: "null CallType: the To side is the extension, so in",
			json: `{"Id":45,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:15:00Z","CallType":null,
				"FromDnType":"ExternalLine","FromCallerNumber":"66812345678",
				"ToDn":"103","ToDnType":"Extension","ToDisplayName":"Anan"}`,
			want: connectors.Recording{CallAt: start, Duration: time.Minute, Direction: "in",
				CustomerPhone: "+66812345678", AgentNumber: "103", AgentName: "Anan"},
		},
		{
			name: "unknown CallType: an Ext. caller number marks the agent, Dn missing",
			json: `{"Id":46,"StartTime":"2026-05-20T01:14:00Z","CallType":"Bridge",
				"FromCallerNumber":"Ext.105","FromDisplayName":"Malee","ToCallerNumber":"0899999999"}`,
			want: connectors.Recording{CallAt: start, Direction: "out",
				CustomerPhone: "+66899999999", AgentNumber: "105", AgentName: "Malee"},
		},
		{
			name: "numeric DnType (OpenAPI's integer, 0 = Extension) with no CallType",
			json: `{"Id":47,"StartTime":"2026-05-20T01:14:00Z","FromDnType":1,"FromCallerNumber":"021234567","ToDn":"104","ToDnType":0}`,
			want: connectors.Recording{CallAt: start, Direction: "in", CustomerPhone: "+6621234567", AgentNumber: "104"},
		},
		{
			name:     "null CallType, both parties extensions: internal",
			json:     `{"Id":48,"StartTime":"2026-05-20T01:14:00Z","FromDn":"101","FromDnType":"Extension","ToCallerNumber":"Ext.102"}`,
			want:     connectors.Recording{CallAt: start, Direction: "out", CustomerPhone: "102", AgentNumber: "101"},
			internal: true,
		},
		{
			name:    "null CallType, no extension on either side: invalid",
			json:    `{"Id":49,"StartTime":"2026-05-20T01:14:00Z","CallType":null,"FromCallerNumber":"021234567","ToCallerNumber":"0812345678"}`,
			want:    connectors.Recording{CallAt: start},
			invalid: "CallType null and neither party is an extension",
		},
		{
			name:    "unknown CallType, no extension: invalid, naming it",
			json:    `{"Id":50,"StartTime":"2026-05-20T01:14:00Z","CallType":"Conference"}`,
			want:    connectors.Recording{CallAt: start},
			invalid: `CallType "Conference"`,
		},
		{
			name: "customer number missing: the DID stands in",
			json: `{"Id":51,"StartTime":"2026-05-20T01:14:00Z","CallType":"InboundExternal","FromCallerNumber":null,"FromDidNumber":"6621055500","ToDn":"101"}`,
			want: connectors.Recording{CallAt: start, Direction: "in", CustomerPhone: "+6621055500", AgentNumber: "101"},
		},
		{
			name: "unparseable number kept as given",
			json: `{"Id":52,"StartTime":"2026-05-20T01:14:00Z","CallType":"InboundExternal","FromCallerNumber":"anonymous","ToDn":"101"}`,
			want: connectors.Recording{CallAt: start, Direction: "in", CustomerPhone: "anonymous", AgentNumber: "101"},
		},
		{
			name:    "null StartTime: invalid",
			json:    `{"Id":53,"StartTime":null,"EndTime":"2026-05-20T01:15:00Z","CallType":"InboundExternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want:    connectors.Recording{Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
			invalid: "no StartTime",
		},
		{
			name:    "malformed StartTime: invalid",
			json:    `{"Id":54,"StartTime":"20/05/2026 01:14","CallType":"OutboundExternal","FromDn":"101","ToCallerNumber":"0812345678"}`,
			want:    connectors.Recording{Direction: "out", CustomerPhone: "+66812345678", AgentNumber: "101"},
			invalid: "not a date-time",
		},
		{
			name: "the swagger's example: .NET's minimum date, DnTypes 0, every field present",
			json: `{"CanBeTranscribed":true,"Id":0,"RefParticipantId":0,"RecordingUrl":"string","StartTime":"0001-01-01T00:00:00.0000000+00:00",
				"EndTime":"0001-01-01T00:00:00.0000000+00:00","Transcription":"string","IsTranscribed":true,"TranscriptionResult":0,"IsArchived":true,
				"ArchivedUrl":"string","CallType":"Local","FromIdParticipant":0,"FromDnType":0,"FromDn":"string","FromCallerNumber":"string",
				"FromDisplayName":"string","FromDidNumber":"string","FromCrmContact":"string","ToIdParticipant":0,"ToDnType":0,"ToDn":"string",
				"ToCallerNumber":"string","ToDisplayName":"string","ToDidNumber":"string","ToCrmContact":"string","Summary":"string","SentimentScore":0}`,
			want:     connectors.Recording{Direction: "out", CustomerPhone: "string", AgentNumber: "string", AgentName: "string"},
			internal: true,
			invalid:  `StartTime "0001-01-01T00:00:00.0000000+00:00" is not a real call time`,
		},
		{
			name:    "StartTime 0001-01-01 in UTC: invalid, never a call in every window",
			json:    `{"Id":58,"StartTime":"0001-01-01T00:00:00Z","CallType":"InboundExternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want:    connectors.Recording{Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
			invalid: "zero or before 1970",
		},
		{
			name:    "StartTime before 1970: invalid",
			json:    `{"Id":59,"StartTime":"1969-12-31T23:59:59Z","CallType":"InboundExternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want:    connectors.Recording{Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
			invalid: "zero or before 1970",
		},
		{
			name:    "StartTime the Unix epoch: invalid",
			json:    `{"Id":60,"StartTime":"1970-01-01T00:00:00Z","CallType":"InboundExternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want:    connectors.Recording{Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
			invalid: "zero or before 1970",
		},
		{
			name: "EndTime the minimum date: duration 0",
			json: `{"Id":61,"StartTime":"2026-05-20T01:14:00.0000000+00:00","EndTime":"0001-01-01T00:00:00.0000000+00:00","CallType":"InboundExternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want: connectors.Recording{CallAt: start, Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
		},
		{
			name: "EndTime before StartTime: duration 0",
			json: `{"Id":55,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:13:00Z","CallType":"OutboundExternal","FromDn":"101","ToCallerNumber":"0812345678"}`,
			want: connectors.Recording{CallAt: start, Direction: "out", CustomerPhone: "+66812345678", AgentNumber: "101"},
		},
		{
			name: "offset and fraction in StartTime; Id as a string",
			json: `{"Id":"56","StartTime":"2026-05-20T08:14:00.250+07:00","EndTime":"2026-05-20T01:14:10.250Z","CallType":"inboundexternal","FromCallerNumber":"0812345678","ToDn":"101"}`,
			want: connectors.Recording{CallAt: start.Add(250 * time.Millisecond), Duration: 10 * time.Second, Direction: "in", CustomerPhone: "+66812345678", AgentNumber: "101"},
		},
		{
			name:    "a field of the wrong shape: invalid by Id",
			json:    `{"Id":57,"StartTime":{"at":"2026-05-20T01:14:00Z"},"CallType":"InboundExternal"}`,
			want:    connectors.Recording{},
			invalid: "unreadable record",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, id, internal, err := m.decode([]byte(tc.json))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.ID != strconv.FormatInt(id, 10) || got.DataID != "3cx-acme.3cx.co.th-"+strconv.FormatInt(id, 10) || got.ContentType != "audio/wav" {
				t.Errorf("ID %q DataID %q ContentType %q for Id %d", got.ID, got.DataID, got.ContentType, id)
			}
			if internal != tc.internal {
				t.Errorf("internal = %v, want %v", internal, tc.internal)
			}
			switch {
			case tc.invalid == "" && got.Invalid != nil:
				t.Errorf("unexpected Invalid: %v", got.Invalid)
			case tc.invalid != "" && (!errors.Is(got.Invalid, connectors.ErrInvalid) || !strings.Contains(got.Invalid.Error(), tc.invalid)):
				t.Errorf("Invalid = %v, want ErrInvalid saying %q", got.Invalid, tc.invalid)
			}
			if !got.CallAt.Equal(tc.want.CallAt) || (!got.CallAt.IsZero() && got.CallAt.Location() != bangkok) {
				t.Errorf("CallAt = %v, want %v in %v", got.CallAt, tc.want.CallAt, bangkok)
			}
			if got.Duration != tc.want.Duration || got.Direction != tc.want.Direction || got.CustomerPhone != tc.want.CustomerPhone ||
				got.AgentNumber != tc.want.AgentNumber || got.AgentName != tc.want.AgentName {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeRefusesRecordsWithoutID(t *testing.T) {
	m := mapper{host: "h", region: "TH", loc: time.UTC}
	for _, raw := range []string{`{"StartTime":"2026-05-20T01:14:00Z"}`, `{"Id":null}`, `{"Id":"x"}`, `{"Id":1.5}`, `[1]`, `"Id"`, `{"Id":{"a":1}}`} {
		if _, _, _, err := m.decode([]byte(raw)); err == nil {
			t.Errorf("decode(%s) accepted a record without a usable Id", raw)
		}
	}
}

func TestDecodePage(t *testing.T) {
	for _, tc := range []struct {
		body      string
		count, n  int64
		wantError bool
	}{
		{`{"@odata.context":"x/$metadata#Recordings","value":[{"Id":1},{"Id":2}]}`, -1, 2, false},
		{`{"@odata.context":"x","@odata.count":42,"value":[]}`, 42, 0, false},
		{`{"@odata.count":"7","value":[{"Id":1}],"@odata.nextLink":"ignored"}`, 7, 1, false},
		{`{"value":null}`, 0, 0, true},
		{`{"error":{"code":"500","message":"boom"}}`, 0, 0, true},
		{`<html>login</html>`, 0, 0, true},
		{`[{"Id":1}]`, 0, 0, true},
	} {
		p, err := decodePage(strings.NewReader(tc.body))
		if (err != nil) != tc.wantError {
			t.Errorf("decodePage(%s) error = %v, want error %v", tc.body, err, tc.wantError)
			continue
		}
		if err == nil && (p.count != tc.count || int64(len(p.value)) != tc.n) {
			t.Errorf("decodePage(%s) = count %d, %d records; want %d, %d", tc.body, p.count, len(p.value), tc.count, tc.n)
		}
	}
}

func TestDataID(t *testing.T) {
	for _, tc := range []struct {
		baseURL, want string
	}{
		{"https://acme.3cx.co.th", "3cx-acme.3cx.co.th-7"},
		{"https://ACME.3cx.co.th/", "3cx-acme.3cx.co.th-7"},
		{"https://pbx.example.com:5001/", "3cx-pbx.example.com-7"},
	} {
		c, err := New(Config{BaseURL: tc.baseURL, ClientID: "a", ClientSecret: "b"}, connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if got := DataID(c.host, 7); got != tc.want {
			t.Errorf("DataID for %s = %q, want %q", tc.baseURL, got, tc.want)
		}
	}
}

func TestScalar(t *testing.T) {
	for _, tc := range []struct {
		json  string
		valid bool
		want  string
	}{
		{`"Ext.101"`, true, "Ext.101"},
		{`"สมชาย ใจดี"`, true, "สมชาย ใจดี"},
		{`"\u0e2a\u0e21"`, true, "สม"},
		{`"a\"b"`, true, `a"b`},
		{`""`, true, ""},
		{`0`, true, "0"},
		{`-1.5e3`, true, "-1.5e3"},
		{`true`, true, "true"},
		{`null`, false, ""},
	} {
		var v struct{ X scalar }
		if err := json.Unmarshal([]byte(`{"X":`+tc.json+`}`), &v); err != nil || v.X.valid != tc.valid || v.X.s != tc.want {
			t.Errorf("scalar %s = %+v, %v; want %q valid %v", tc.json, v.X, err, tc.want, tc.valid)
		}
	}
	for _, bad := range []string{`{}`, `[1]`} {
		var v struct{ X scalar }
		if err := json.Unmarshal([]byte(`{"X":`+bad+`}`), &v); err == nil {
			t.Errorf("scalar accepted %s", bad)
		}
	}
}
