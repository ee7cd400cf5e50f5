package fakethreecx

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// DownloadState is what Pbx.DownloadRecording serves for a recording.
type DownloadState int

const (
	// Ready audio is served whole.
	Ready DownloadState = iota
	// ZeroByteUntilReady audio is served as 200 with an empty body, as 3CX
	// does for a file still being written, until Server.SetReady.
	ZeroByteUntilReady
	// Truncated audio is served with a Content-Length of the whole file but
	// only its first half, as 3CX does for a recording listed seconds before
	// its file is complete, until Server.SetReady.
	Truncated
	// Archived audio answers 404: the local file is gone (archived or
	// deleted).
	Archived
	// Slow audio is served whole after Options.SlowDelay without any header,
	// or not at all if the client gives up first.
	Slow
)

// Recording is one Pbx.Recording as XAPI serves it. Every field but ID is
// nullable: a nil pointer is left out of the JSON, as a real 20.0.9 does
// (or served as null with Options.SendNulls).
type Recording struct {
	ID                  int32      `json:"Id"`
	StartTime           *time.Time `json:"StartTime"`
	EndTime             *time.Time `json:"EndTime"`
	CallType            *string    `json:"CallType"` // Local, InboundExternal, OutboundExternal
	FromDn              *string    `json:"FromDn"`
	FromDnType          *int32     `json:"FromDnType"` // DnExtension, DnExternalLine, …
	FromCallerNumber    *string    `json:"FromCallerNumber"`
	FromDisplayName     *string    `json:"FromDisplayName"`
	FromDidNumber       *string    `json:"FromDidNumber"`
	FromCrmContact      *string    `json:"FromCrmContact"`
	FromIDParticipant   *int32     `json:"FromIdParticipant"`
	ToDn                *string    `json:"ToDn"`
	ToDnType            *int32     `json:"ToDnType"`
	ToCallerNumber      *string    `json:"ToCallerNumber"`
	ToDisplayName       *string    `json:"ToDisplayName"`
	ToDidNumber         *string    `json:"ToDidNumber"`
	ToCrmContact        *string    `json:"ToCrmContact"`
	ToIDParticipant     *int32     `json:"ToIdParticipant"`
	RefParticipantID    *int32     `json:"RefParticipantId"`
	RecordingURL        *string    `json:"RecordingUrl"` // a relative path, not a download URL
	IsArchived          *bool      `json:"IsArchived"`
	ArchivedURL         *string    `json:"ArchivedUrl"`
	Transcription       *string    `json:"Transcription"`
	IsTranscribed       *bool      `json:"IsTranscribed"`       // from 20.0.7
	TranscriptionResult *int32     `json:"TranscriptionResult"` // from 20.0.7
	CanBeTranscribed    *bool      `json:"CanBeTranscribed"`    // from 20.0.8
	Summary             *string    `json:"Summary"`
	SentimentScore      *int32     `json:"SentimentScore"`

	// Audio is the recording's file, generated on the fly when downloaded.
	Audio fakeaudio.Audio `json:"-"`
	// State is how the download answers.
	State DownloadState `json:"-"`
}

// kind is the EDM type of a field or of a value in a $filter expression.
type kind int

const (
	kindNull kind = iota // only values: the null literal or a null field
	kindString
	kindInt
	kindTime
	kindBool
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "Edm.String"
	case kindInt:
		return "Edm.Int32"
	case kindTime:
		return "Edm.DateTimeOffset"
	case kindBool:
		return "Edm.Boolean"
	}
	return "null"
}

// value is one field's or literal's value.
type value struct {
	kind kind // kindNull when null
	s    string
	i    int64 // ints; bools as 0/1
	t    time.Time
}

// DnType numbers as FromDnType/ToDnType carry them: int32 in every
// swagger version, 0 an extension (the rest as 3CX's call log numbers them).
const (
	DnExtension    int32 = 0
	DnExternalLine int32 = 1
	DnRingGroup    int32 = 2
	DnQueue        int32 = 3
	DnIVR          int32 = 4
	DnVoiceMail    int32 = 5
)

// dnTypeNames are the enum names Options.DnTypeNames serves instead.
var dnTypeNames = map[int64]string{0: "Extension", 1: "ExternalLine", 2: "RingGroup", 3: "Queue", 4: "IVR", 5: "VoiceMail"}

// field is one property of Pbx.Recording: its name, type and accessor.
type field struct {
	name string
	kind kind
	get  func(*Recording) value
	// since is the 20.0.<update> the property appeared in (0: always).
	since int
	// dnType marks FromDnType/ToDnType, served as names with
	// Options.DnTypeNames.
	dnType bool
}

func str(p *string) value {
	if p == nil {
		return value{}
	}
	return value{kind: kindString, s: *p}
}

func i32(p *int32) value {
	if p == nil {
		return value{}
	}
	return value{kind: kindInt, i: int64(*p)}
}

func tm(p *time.Time) value {
	if p == nil {
		return value{}
	}
	return value{kind: kindTime, t: *p}
}

func boolean(p *bool) value {
	if p == nil {
		return value{}
	}
	if *p {
		return value{kind: kindBool, i: 1}
	}
	return value{kind: kindBool}
}

// fields lists Pbx.Recording's properties in the order XAPI serves them.
var fields = []field{
	{name: "Id", kind: kindInt, get: func(r *Recording) value { return value{kind: kindInt, i: int64(r.ID)} }},
	{name: "StartTime", kind: kindTime, get: func(r *Recording) value { return tm(r.StartTime) }},
	{name: "EndTime", kind: kindTime, get: func(r *Recording) value { return tm(r.EndTime) }},
	{name: "CallType", kind: kindString, get: func(r *Recording) value { return str(r.CallType) }},
	{name: "FromDn", kind: kindString, get: func(r *Recording) value { return str(r.FromDn) }},
	{name: "FromDnType", kind: kindInt, dnType: true, get: func(r *Recording) value { return i32(r.FromDnType) }},
	{name: "FromCallerNumber", kind: kindString, get: func(r *Recording) value { return str(r.FromCallerNumber) }},
	{name: "FromDisplayName", kind: kindString, get: func(r *Recording) value { return str(r.FromDisplayName) }},
	{name: "FromDidNumber", kind: kindString, get: func(r *Recording) value { return str(r.FromDidNumber) }},
	{name: "FromCrmContact", kind: kindString, get: func(r *Recording) value { return str(r.FromCrmContact) }},
	{name: "FromIdParticipant", kind: kindInt, get: func(r *Recording) value { return i32(r.FromIDParticipant) }},
	{name: "ToDn", kind: kindString, get: func(r *Recording) value { return str(r.ToDn) }},
	{name: "ToDnType", kind: kindInt, dnType: true, get: func(r *Recording) value { return i32(r.ToDnType) }},
	{name: "ToCallerNumber", kind: kindString, get: func(r *Recording) value { return str(r.ToCallerNumber) }},
	{name: "ToDisplayName", kind: kindString, get: func(r *Recording) value { return str(r.ToDisplayName) }},
	{name: "ToDidNumber", kind: kindString, get: func(r *Recording) value { return str(r.ToDidNumber) }},
	{name: "ToCrmContact", kind: kindString, get: func(r *Recording) value { return str(r.ToCrmContact) }},
	{name: "ToIdParticipant", kind: kindInt, get: func(r *Recording) value { return i32(r.ToIDParticipant) }},
	{name: "RefParticipantId", kind: kindInt, get: func(r *Recording) value { return i32(r.RefParticipantID) }},
	{name: "RecordingUrl", kind: kindString, get: func(r *Recording) value { return str(r.RecordingURL) }},
	{name: "IsArchived", kind: kindBool, get: func(r *Recording) value { return boolean(r.IsArchived) }},
	{name: "ArchivedUrl", kind: kindString, get: func(r *Recording) value { return str(r.ArchivedURL) }},
	{name: "Transcription", kind: kindString, get: func(r *Recording) value { return str(r.Transcription) }},
	{name: "IsTranscribed", kind: kindBool, since: 7, get: func(r *Recording) value { return boolean(r.IsTranscribed) }},
	{name: "TranscriptionResult", kind: kindInt, since: 7, get: func(r *Recording) value { return i32(r.TranscriptionResult) }},
	{name: "CanBeTranscribed", kind: kindBool, since: 8, get: func(r *Recording) value { return boolean(r.CanBeTranscribed) }},
	{name: "Summary", kind: kindString, get: func(r *Recording) value { return str(r.Summary) }},
	{name: "SentimentScore", kind: kindInt, get: func(r *Recording) value { return i32(r.SentimentScore) }},
}

// latest is an update newer than any, for parsing without a version.
const latest = 1 << 30

// fieldAt finds a property by its exact (case-sensitive) name, among those
// 20.0.<update> has.
func fieldAt(name string, update int) (*field, bool) {
	for i := range fields {
		if fields[i].name == name && fields[i].since <= update {
			return &fields[i], true
		}
	}
	return nil, false
}

// shape is how a version serves a record.
type shape struct {
	update      int  // fields newer than 20.0.<update> are not served
	sendNulls   bool // null properties as null, not left out
	dnTypeNames bool
}

// appendRecord appends r as a JSON object holding the fields sel (all when
// nil) that the version has, in declaration order.
func appendRecord(b []byte, r *Recording, sel []bool, sh shape) []byte {
	b = append(b, '{')
	first := true
	for i := range fields {
		f := &fields[i]
		if (sel != nil && !sel[i]) || f.since > sh.update {
			continue
		}
		v := f.get(r)
		if v.kind == kindNull && !sh.sendNulls {
			continue
		}
		if f.dnType && sh.dnTypeNames && v.kind == kindInt {
			name, ok := dnTypeNames[v.i]
			if !ok {
				name = "None"
			}
			v = value{kind: kindString, s: name}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = appendValue(b, v)
	}
	return append(b, '}')
}

func appendValue(b []byte, v value) []byte {
	switch v.kind {
	case kindString:
		return appendString(b, v.s)
	case kindInt:
		return strconv.AppendInt(b, v.i, 10)
	case kindBool:
		return strconv.AppendBool(b, v.i != 0)
	case kindTime:
		b = append(b, '"')
		b = v.t.UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// appendString appends s as a JSON string: plain printable ASCII directly,
// anything else through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
