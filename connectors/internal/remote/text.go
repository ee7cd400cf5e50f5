package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// ErrNotScalar is the error of Text.UnmarshalJSON for an object or an
// array: a connector decides whether that makes the record unreadable or
// the field empty.
var ErrNotScalar = errors.New("a JSON object or array where a plain value was expected")

// Text is a JSON scalar read as text, so that a field a portal sends as a
// number in one version and as a string in another reads the same: a
// string as is (unescaped), a number or a boolean as its literal. Null
// (or a field that is absent) is not Valid. An object or an array is
// ErrNotScalar.
type Text struct {
	S     string
	Valid bool // false for null or absent
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty JSON value")
	case string(b) == "null":
		*t = Text{}
	case b[0] == '"':
		if len(b) < 2 || b[len(b)-1] != '"' {
			return errors.New("unterminated string")
		}
		if inner := b[1 : len(b)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*t = Text{S: string(inner), Valid: true} // nothing to unescape: the common case, without a decoder
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text{S: s, Valid: true}
	case b[0] == '{' || b[0] == '[':
		return ErrNotScalar
	default:
		*t = Text{S: string(b), Valid: true}
	}
	return nil
}
