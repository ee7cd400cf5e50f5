package dtac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crkai/syncd/connectors/internal/remote"
)

// text is a JSON scalar read as a string (remote.Text), so that a field
// the portal sends as a number or as a string reads the same: a string as
// is, a number or boolean as its literal; null, an object or an array as
// "" (a row is never lost to one odd field).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var v remote.Text
	if err := v.UnmarshalJSON(b); err != nil && !errors.Is(err, remote.ErrNotScalar) {
		return err
	}
	*t = text(v.S)
	return nil
}

// userDTO is the agent a recording belongs to; anything but an object
// (null, say) reads as no agent.
type userDTO struct {
	FirstName text `json:"firstname"`
	LastName  text `json:"lastname"`
}

func (u *userDTO) UnmarshalJSON(b []byte) error {
	*u = userDTO{}
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain userDTO
	return json.Unmarshal(b, (*plain)(u))
}

// recordingDTO is the part of a listed recordingDto the connector uses;
// other fields are skipped.
type recordingDTO struct {
	ID          text    `json:"id"`
	Timestamp   text    `json:"timestamp"`
	Duration    text    `json:"duration"`
	LocalParty  text    `json:"localParty"`
	RemoteParty text    `json:"remoteParty"`
	Direction   text    `json:"direction"`
	User        userDTO `json:"userDto"`

	// err is why the object could not be read (it is not an object).
	err error
}

// pageInfo is what a page of the listing says about paging.
type pageInfo struct {
	listing      bool   // the page has an objects array
	objects      int    // recordings on the page
	firstID      string // id of the first one
	next         string // nextPageUri; "" when absent or null
	limitReached bool
	pageSize     int // as the portal reports it; 0 when it does not
}

// decodePage reads a page of the listing as a stream, one recording at a
// time, handing each to each; only the paging fields are kept. A page
// without an objects array (none, or null) is not a listing, however
// valid its JSON: {} or {"error":"database unavailable"} is an error,
// never an empty page. (An error object that speaks of the token, such as
// {"error":"session expired"}, never gets here: authed logs in again.) An
// empty array is an empty page.
func decodePage(r io.Reader, each func(*recordingDTO)) (pageInfo, error) {
	var info pageInfo
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return info, fmt.Errorf("the page is not a JSON object: %w", err)
	}
	for dec.More() {
		tok, err := nextToken(dec)
		if err != nil {
			return info, err
		}
		key, _ := tok.(string)
		switch strings.ToLower(key) {
		case "objects":
			err = decodeObjects(dec, &info, each)
		case "nextpageuri":
			var v any
			if err = dec.Decode(&v); err == nil {
				switch v := v.(type) {
				case string:
					info.next = strings.TrimSpace(v)
				case nil:
				default:
					err = errors.New("nextPageUri is neither a string nor null")
				}
			}
		case "limitreached":
			var v text
			if err = dec.Decode(&v); err == nil {
				info.limitReached = strings.EqualFold(string(v), "true")
			}
		case "pagesize":
			var v text
			if err = dec.Decode(&v); err == nil {
				if n, convErr := strconv.Atoi(string(v)); convErr == nil && n > 0 {
					info.pageSize = n
				}
			}
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return info, fmt.Errorf("reading %q: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return info, err
	}
	if !info.listing {
		return info, errors.New(`the answer has no "objects" array: it is not a listing`)
	}
	return info, nil
}

// decodeObjects reads the objects array, one recording at a time.
func decodeObjects(dec *json.Decoder, info *pageInfo, each func(*recordingDTO)) error {
	tok, err := nextToken(dec)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s, not an array", tokenKind(tok))
	}
	info.listing = true
	for dec.More() {
		var d recordingDTO
		if err := dec.Decode(&d); err != nil {
			// The decoder has read the whole value before a type error: only
			// this object is unreadable, the page goes on.
			if ute := (*json.UnmarshalTypeError)(nil); !errors.As(err, &ute) {
				return err
			}
			d = recordingDTO{err: err}
		}
		info.objects++
		if info.objects == 1 {
			info.firstID = strings.TrimSpace(string(d.ID))
		}
		each(&d)
	}
	return expectDelim(dec, ']')
}

// nextToken is dec.Token, with the end of the body inside the page (the
// only place tokens are read) reported as unexpected.
func nextToken(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := nextToken(dec)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %q was expected", tokenKind(tok), string(want))
	}
	return nil
}

// tokenKind names a JSON token without quoting what the portal sent.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", tok)
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "something else"
}
