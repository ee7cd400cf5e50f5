package threecx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/connectors/internal/remote"
	"github.com/crkai/syncd/internal/httpsafe"
	"github.com/crkai/syncd/internal/phone"
)

// scalar is a JSON value that may be null, a string, a number or a bool,
// kept as text (remote.Text): XAPI types are documented loosely (DnType is
// an enum name in some versions and a number in the published OpenAPI
// description), so a field of an unexpected scalar type is read, not
// refused. An object or an array is an error: the record is unreadable.
type scalar struct {
	valid bool // false for null or absent
	s     string
}

func (v *scalar) UnmarshalJSON(b []byte) error {
	var t remote.Text
	err := t.UnmarshalJSON(b)
	*v = scalar{valid: t.Valid, s: t.S}
	return err
}

// page is one page of GET /xapi/v1/Recordings.
type page struct {
	count int64 // @odata.count, -1 when not sent
	value []json.RawMessage
}

// decodePage reads a Recordings page: {"@odata.count": n, "value": [...]},
// other members ignored. The records are decoded one by one later, so that
// one bad record does not lose the page. The page is held whole, so it is
// bounded by httpsafe.MaxListingPage (after decompression; 100 recordings
// take about 100 kB).
func decodePage(r io.Reader) (page, error) {
	var body struct {
		Count scalar             `json:"@odata.count"`
		Value *[]json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(httpsafe.JSON(r, httpsafe.MaxListingPage, "the listing page")).Decode(&body); err != nil {
		return page{}, fmt.Errorf("reading the page: %w", err)
	}
	if body.Value == nil {
		return page{}, errors.New("reading the page: no \"value\" array")
	}
	p := page{count: -1, value: *body.Value}
	if n, err := strconv.ParseInt(body.Count.s, 10, 64); body.Count.valid && err == nil && n >= 0 {
		p.count = n
	}
	return p, nil
}

// pbxRecording is the part of a Pbx.Recording the connector uses ($select
// asks for exactly these). Every field but Id may be null.
type pbxRecording struct {
	ID                                                                   scalar `json:"Id"`
	StartTime, EndTime, CallType                                         scalar
	FromDn, FromDnType, FromCallerNumber, FromDisplayName, FromDidNumber scalar
	ToDn, ToDnType, ToCallerNumber, ToDisplayName, ToDidNumber           scalar
}

// selectFields is the $select of every listing: the fields of pbxRecording.
const selectFields = "Id,StartTime,EndTime,CallType," +
	"FromDn,FromDnType,FromCallerNumber,FromDisplayName,FromDidNumber," +
	"ToDn,ToDnType,ToCallerNumber,ToDisplayName,ToDidNumber"

// party is one side of a call.
type party struct{ dn, dnType, caller, name, did string }

func (p *pbxRecording) from() party {
	return party{dn: text(p.FromDn), dnType: text(p.FromDnType), caller: text(p.FromCallerNumber), name: text(p.FromDisplayName), did: text(p.FromDidNumber)}
}

func (p *pbxRecording) to() party {
	return party{dn: text(p.ToDn), dnType: text(p.ToDnType), caller: text(p.ToCallerNumber), name: text(p.ToDisplayName), did: text(p.ToDidNumber)}
}

func text(v scalar) string { return strings.TrimSpace(v.s) }

// isExtension tells whether a party is one of the PBX's extensions: DnType
// "Extension" (or 0, how the numeric DnType and 3CX's call log number it),
// or a caller number like "Ext.101".
func (p party) isExtension() bool {
	_, ext := extension(p.caller)
	return strings.EqualFold(p.dnType, "Extension") || p.dnType == "0" || ext
}

// extension reads "Ext.101" as "101".
func extension(caller string) (string, bool) {
	if len(caller) >= 4 && strings.EqualFold(caller[:4], "Ext.") {
		return strings.TrimSpace(caller[4:]), true
	}
	return "", false
}

// agentNumber is the agent's extension: its Dn, else the number in
// "Ext.<n>".
func (p party) agentNumber() string {
	if p.dn != "" {
		return p.dn
	}
	n, _ := extension(p.caller)
	return n
}

// customerPhone is the customer's number in E.164 when it can be made so:
// the caller number (an extension's number for an internal call), else the
// DID; 3CX sends numbers without "+".
func (p party) customerPhone(region string) string {
	raw := p.caller
	if n, ok := extension(raw); ok {
		raw = n
	}
	if raw == "" {
		raw = p.did
	}
	return phone.E164(raw, region)
}

// mapper turns XAPI records into connectors.Recordings.
type mapper struct {
	host   string
	region string
	loc    *time.Location
}

// decode maps one element of a page's value array. internal reports an
// extension-to-extension call. err is set when the element has no usable
// Id, so that it cannot even be named; an element that has one but cannot
// be used otherwise comes back with rec.Invalid set.
func (m mapper) decode(raw json.RawMessage) (rec connectors.Recording, id int64, internal bool, err error) {
	r, err := m.decodeRow(raw)
	return r.rec, r.id, r.internal, err
}

// row is one decoded element of a page: the Recording, and the
// (StartTime, Id) it sorts by, for keyset paging.
type row struct {
	rec      connectors.Recording
	id       int64
	internal bool
	start    time.Time // as served, whatever its year; zero when none could be read
}

// decodeRow is decode, keeping the row's StartTime as served (even one
// Invalid for being before 1970, or in a record unreadable otherwise).
func (m mapper) decodeRow(raw json.RawMessage) (row, error) {
	var p pbxRecording
	decodeErr := json.Unmarshal(raw, &p)
	if decodeErr != nil {
		// Read the Id (and StartTime) alone, to quarantine the record by
		// name.
		var idOnly struct {
			ID        scalar `json:"Id"`
			StartTime scalar
		}
		if json.Unmarshal(raw, &idOnly) != nil {
			var bare struct {
				ID scalar `json:"Id"`
			}
			if json.Unmarshal(raw, &bare) != nil {
				return row{}, fmt.Errorf("unreadable record: %w", decodeErr)
			}
			idOnly.ID = bare.ID
		}
		p = pbxRecording{ID: idOnly.ID, StartTime: idOnly.StartTime}
	}
	id, err := strconv.ParseInt(text(p.ID), 10, 64)
	if err != nil || !p.ID.valid {
		return row{}, fmt.Errorf("record without a usable Id (%q)", truncate(p.ID.s, 40))
	}
	r := row{id: id}
	if t, ok := parseTime(p.StartTime); ok {
		r.start = t
	}
	if decodeErr != nil {
		r.rec = m.base(id)
		r.rec.Invalid = fmt.Errorf("%w: 3cx recording %d: unreadable record: %v", connectors.ErrInvalid, id, decodeErr)
		return r, nil
	}
	r.rec, r.internal = m.recording(&p, id)
	return r, nil
}

func (m mapper) base(id int64) connectors.Recording {
	return connectors.Recording{
		ID:          strconv.FormatInt(id, 10),
		DataID:      DataID(m.host, id),
		ContentType: "audio/wav", // Open learns the served type
	}
}

// recording maps a decoded Pbx.Recording. The direction comes from CallType:
//
//   - InboundExternal: "in"; the customer is the From party, the agent the To party.
//   - OutboundExternal: "out"; the customer is the To party, the agent the From party.
//   - Local (extension to extension; listed only with IncludeInternal):
//     "out", seen from the calling extension: the agent is the From party,
//     the customer the To party (another extension, by its number).
//   - null or anything else: inferred from which party is an extension
//     (both: as Local); neither: Invalid.
func (m mapper) recording(p *pbxRecording, id int64) (rec connectors.Recording, internal bool) {
	rec = m.base(id)
	var problems []string
	start, startOK := parseTime(p.StartTime)
	switch {
	case !p.StartTime.valid:
		problems = append(problems, "no StartTime")
	case !startOK:
		problems = append(problems, fmt.Sprintf("StartTime %q is not a date-time", truncate(p.StartTime.s, 40)))
	case !start.After(unixEpoch):
		// The swagger's own example is .NET's minimum date,
		// 0001-01-01T00:00:00.0000000+00:00: a placeholder, never a call.
		problems = append(problems, fmt.Sprintf("StartTime %q is not a real call time (zero or before 1970)", truncate(p.StartTime.s, 40)))
	default:
		rec.CallAt = start.In(m.loc)
		if end, ok := parseTime(p.EndTime); ok && end.After(start) {
			rec.Duration = end.Sub(start)
		}
	}

	from, to := p.from(), p.to()
	var agent, customer party
	switch ct := text(p.CallType); {
	case strings.EqualFold(ct, "InboundExternal"):
		rec.Direction, agent, customer = "in", to, from
	case strings.EqualFold(ct, "OutboundExternal"):
		rec.Direction, agent, customer = "out", from, to
	case strings.EqualFold(ct, "Local"):
		rec.Direction, agent, customer, internal = "out", from, to, true
	default:
		switch fromExt, toExt := from.isExtension(), to.isExtension(); {
		case fromExt && toExt:
			rec.Direction, agent, customer, internal = "out", from, to, true
		case fromExt:
			rec.Direction, agent, customer = "out", from, to
		case toExt:
			rec.Direction, agent, customer = "in", to, from
		default:
			what := "null"
			if p.CallType.valid {
				what = strconv.Quote(truncate(ct, 40))
			}
			problems = append(problems, fmt.Sprintf("CallType %s and neither party is an extension: direction unknown", what))
		}
	}
	if rec.Direction != "" {
		rec.AgentNumber = agent.agentNumber()
		rec.AgentName = agent.name
		rec.CustomerPhone = customer.customerPhone(m.region)
	}
	if len(problems) > 0 {
		rec.Invalid = fmt.Errorf("%w: 3cx recording %d: %s", connectors.ErrInvalid, id, strings.Join(problems, "; "))
	}
	return rec, internal
}

// unixEpoch is the earliest StartTime taken for a call: anything at or
// before it is a zero or placeholder value.
var unixEpoch = time.Unix(0, 0).UTC()

// parseTime reads an Edm.DateTimeOffset ("2026-05-20T01:14:00Z", with
// fractional seconds or an offset); one without an offset is taken as UTC.
func parseTime(v scalar) (time.Time, bool) {
	if !v.valid {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, strings.TrimSpace(v.s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
