package dtac

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/phone"
)

// defaultDirection is the direction of a recording whose own says nothing
// usable (UNKN, empty, missing): "", which the connectors contract leaves
// to SYNCD_UNKNOWN_DIRECTION (in by default: a call centre's calls are
// inbound more often than not).
const defaultDirection = ""

// recording maps a listed recordingDto. ok is false when it has no id, so
// that it cannot be named, synced or quarantined. A recording whose
// timestamp cannot be used is returned with Invalid set and a zero CallAt.
// One whose direction says nothing usable is inbound (defaultDirection).
// ContentType is left empty: the listing does not say what the audio is
// (the syncer tells it from the bytes). phones, if not nil, memoises E.164
// normalisation across the rows of one listing.
func (c *Connector) recording(d *recordingDTO, phones phoneMemo) (r connectors.Recording, ok bool) {
	id := strings.TrimSpace(string(d.ID))
	if id == "" {
		return r, false
	}
	r = connectors.Recording{
		ID:            id,
		DataID:        DataID(id),
		CustomerPhone: phones.e164(string(d.RemoteParty), c.region),
		AgentNumber:   phones.e164(string(d.LocalParty), c.region),
		AgentName:     agentName(d.User),
	}
	var problems []string
	if d.err != nil {
		problems = append(problems, "the recordingDto is not a JSON object")
	}
	if at, err := parseTimestamp(string(d.Timestamp)); err != nil {
		problems = append(problems, err.Error())
	} else {
		r.CallAt = at.In(c.loc)
	}
	r.Direction, _ = direction(string(d.Direction))
	r.Duration = seconds(string(d.Duration))
	if len(problems) > 0 {
		r.Invalid = fmt.Errorf("%w: %s", connectors.ErrInvalid, strings.Join(problems, "; "))
	}
	return r, true
}

// direction reads a recording's direction: IN or OUT in any case (and
// their long forms). known is false when it says nothing usable: UNKN
// (Oreka's own "unknown"), empty, missing, null or a word syncd does not
// know; the direction is then defaultDirection. The row's parties cannot
// tell either: localParty is the DTAC subscriber (the agent) whichever way
// the call went, and the row names no caller or callee.
func direction(raw string) (dir string, known bool) {
	switch strings.ToUpper(strings.TrimSpace(raw)) {
	case "IN", "INBOUND", "INCOMING":
		return "in", true
	case "OUT", "OUTBOUND", "OUTGOING":
		return "out", true
	}
	return defaultDirection, false
}

// phoneMemo remembers the E.164 form of the numbers seen in one listing:
// normalising is by far the costliest part of mapping a row, and an
// agent's number repeats on every row of theirs.
type phoneMemo map[string]string

func (m phoneMemo) e164(raw, region string) string {
	if m == nil {
		return phone.E164(raw, region)
	}
	e, ok := m[raw]
	if !ok {
		e = phone.E164(raw, region)
		m[raw] = e
	}
	return e
}

// agentName is "firstname lastname", either of which may be missing.
func agentName(u userDTO) string {
	first, last := strings.TrimSpace(string(u.FirstName)), strings.TrimSpace(string(u.LastName))
	return strings.TrimSpace(first + " " + last)
}

// seconds reads a duration in (possibly fractional) seconds; anything
// unreadable or absurd is 0, which does not stop a recording from syncing.
func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f >= 0 && f < 1e7) {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// showValue shows a plain word as is and anything else quoted.
func showValue(s string) string {
	if s == "" {
		return "(empty)"
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') || len(s) > 20 {
			return quoteShort(s)
		}
	}
	return s
}
