package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Step is the last sync step done for a recording. A restart resumes at the
// step after it.
type Step uint8

// The steps, in order.
const (
	Pending       Step = iota // seen, nothing sent yet
	Created                   // POST /recordings done: CRKID known
	Uploaded                  // audio PUT to the upload URL
	ReextractSent             // POST /recordings/{id}/reextract done: never re-send blindly
	Done                      // finished
)

// String is the step's name: "pending", "created", "uploaded",
// "reextract-sent" or "done".
func (s Step) String() string {
	switch s {
	case Pending:
		return "pending"
	case Created:
		return "created"
	case Uploaded:
		return "uploaded"
	case ReextractSent:
		return "reextract-sent"
	case Done:
		return "done"
	}
	return "step(" + strconv.Itoa(int(s)) + ")"
}

// Record is what the store knows of one recording of one source.
type Record struct {
	ID          string    // the source's own id (the key)
	DataID      string    // dataId sent to CRK
	CRKID       string    // id at CRK once created
	Step        Step      // last step done
	CallAt      time.Time // start of the call
	Attempts    int       // failed attempts so far (the syncer caps them)
	LastError   string    // the last failure, for -status
	Quarantined string    // reason; "" = not quarantined
	// Retried is set when a person moved the record back from quarantine:
	// where CRK cannot tell whether AI processing was asked for, that
	// person's decision, not syncd's, allows asking again.
	Retried bool
	// Missing counts the passes in a row whose listing of the record's
	// window did not show it. One listing is no proof that it is gone.
	Missing   int
	FirstSeen time.Time // set by Put when zero
	Updated   time.Time // set by Put
}

// class is where a record counts: done, quarantined or pending.
type class uint8

const (
	classPending class = iota
	classQuarantined
	classDone
)

func (r *Record) class() class {
	switch {
	case r.Step == Done:
		return classDone
	case r.Quarantined != "":
		return classQuarantined
	default:
		return classPending
	}
}

// validate refuses records the store cannot hold or that make no sense.
func (r *Record) validate() error {
	switch {
	case r.ID == "":
		return errors.New("record has no ID")
	case len(r.ID) > maxIDLen:
		return fmt.Errorf("record ID is %d bytes, more than %d", len(r.ID), maxIDLen)
	case r.Step > Done:
		return fmt.Errorf("record %q: unknown step %d", r.ID, r.Step)
	case r.Step == Done && r.Quarantined != "":
		return fmt.Errorf("record %q: done and quarantined at once", r.ID)
	case r.Attempts < 0:
		return fmt.Errorf("record %q: negative attempts %d", r.ID, r.Attempts)
	case r.Missing < 0:
		return fmt.Errorf("record %q: negative missing count %d", r.ID, r.Missing)
	}
	return nil
}

// maxIDLen keeps index keys (12 bytes of time + ID) under bbolt's key limit
// with room to spare.
const maxIDLen = 4096

// wireRecord is Record as stored: short names, zero values left out. The ID
// is the key, so it is not repeated.
type wireRecord struct {
	DataID      string    `json:"d,omitempty"`
	CRKID       string    `json:"c,omitempty"`
	Step        Step      `json:"s,omitempty"`
	CallAt      time.Time `json:"t,omitzero"`
	Attempts    int       `json:"a,omitempty"`
	LastError   string    `json:"e,omitempty"`
	Quarantined string    `json:"q,omitempty"`
	Retried     bool      `json:"r,omitempty"`
	Missing     int       `json:"m,omitempty"`
	FirstSeen   time.Time `json:"f,omitzero"`
	Updated     time.Time `json:"u,omitzero"`
}

func encodeRecord(r *Record) ([]byte, error) {
	b, err := json.Marshal(wireRecord{
		DataID: r.DataID, CRKID: r.CRKID, Step: r.Step, CallAt: r.CallAt,
		Attempts: r.Attempts, LastError: r.LastError, Quarantined: r.Quarantined,
		Retried: r.Retried, Missing: r.Missing, FirstSeen: r.FirstSeen, Updated: r.Updated,
	})
	if err != nil {
		return nil, fmt.Errorf("encode record %q: %w", r.ID, err)
	}
	return b, nil
}

// decodeRecord decodes b, which may be bbolt's memory: it copies what it keeps.
func decodeRecord(id string, b []byte) (Record, error) {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return Record{}, fmt.Errorf("decode record %q: %w", id, err)
	}
	return Record{
		ID: id, DataID: w.DataID, CRKID: w.CRKID, Step: w.Step, CallAt: w.CallAt,
		Attempts: w.Attempts, LastError: w.LastError, Quarantined: w.Quarantined,
		Retried: w.Retried, Missing: w.Missing, FirstSeen: w.FirstSeen, Updated: w.Updated,
	}, nil
}

// timeKeyLen is the length of the time prefix of an index key.
const timeKeyLen = 12

// indexKey is t then id, ordered as t is: seconds since the Unix epoch with
// the sign bit flipped (so that negative ones sort first), then nanoseconds,
// both big-endian.
func indexKey(t time.Time, id string) []byte {
	k := make([]byte, timeKeyLen, timeKeyLen+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return append(k, id...)
}

// indexKeyID is the id part of an index key, copied.
func indexKeyID(k []byte) string { return string(k[timeKeyLen:]) }
