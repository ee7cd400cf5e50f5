package threecx

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crkai/syncd/connectors"
)

// FuzzDecodePage: no Recordings page makes the decoding or the mapping
// panic, and every record that comes back is named and either usable or
// marked Invalid with ErrInvalid.
func FuzzDecodePage(f *testing.F) {
	for _, seed := range []string{
		`{"@odata.context":"https://pbx/xapi/v1/$metadata#Recordings","@odata.count":2,"value":[` +
			`{"Id":1,"StartTime":"2026-05-20T01:14:00Z","EndTime":"2026-05-20T01:15:35Z","CallType":"InboundExternal","FromDn":"10000","FromDnType":"ExternalLine","FromCallerNumber":"0812345678","FromDisplayName":"0812345678","FromDidNumber":"6621055500","ToDn":"101","ToDnType":"Extension","ToCallerNumber":"Ext.101","ToDisplayName":"Somchai","ToDidNumber":null},` +
			`{"Id":2,"StartTime":"2026-05-20T01:20:00.5+07:00","EndTime":null,"CallType":null,"FromDnType":0,"ToDnType":1,"ToCallerNumber":"66812345678"}]}`,
		`{"value":[{"Id":"3","StartTime":{"x":1}},{"Id":null},{"StartTime":"2026-05-20T01:14:00Z"},7,"x",[],null]}`,
		`{"value":[{"Id":4,"CallType":"Local","FromCallerNumber":"Ext.","ToCallerNumber":"Ext.1"}]}`,
		`{"@odata.count":"9","value":[]}`,
		`{"@odata.count":-1,"value":[{"Id":99999999999999999999}]}`,
		`{"value":null}`,
		`<html></html>`,
		``,
	} {
		f.Add([]byte(seed))
	}
	m := mapper{host: "acme.3cx.co.th", region: "TH", loc: bangkok}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePage(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, raw := range p.value {
			rec, id, _, err := m.decode(raw)
			if err != nil {
				continue
			}
			if rec.ID == "" || rec.DataID != DataID("acme.3cx.co.th", id) {
				t.Fatalf("record %s named %q / %q", raw, rec.ID, rec.DataID)
			}
			if rec.Invalid != nil && !errors.Is(rec.Invalid, connectors.ErrInvalid) {
				t.Fatalf("Invalid %v does not wrap ErrInvalid", rec.Invalid)
			}
			if rec.Invalid == nil && (rec.Direction != "in" && rec.Direction != "out" || rec.CallAt.IsZero() || rec.Duration < 0 || rec.CallAt.Location() != bangkok) {
				t.Fatalf("valid record %s mapped to %+v", raw, rec)
			}
		}
	})
}
