package dtac

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/phone"
)

// listedContentType is the audio type a listed recording is assumed to
// have; Open reports the type the portal actually serves.
const listedContentType = "audio/wav"

// recording maps a listed recordingDto. ok is false when it has no id, so
// that it cannot be named, synced or quarantined. A recording whose
// timestamp or direction cannot be used is returned with Invalid set; one
// whose timestamp cannot be read has a zero CallAt. phones, if not nil,
// memoises E.164 normalisation across the rows of one listing.
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
		ContentType:   listedContentType,
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
	switch dir := strings.TrimSpace(string(d.Direction)); strings.ToUpper(dir) {
	case "IN":
		r.Direction = "in"
	case "OUT":
		r.Direction = "out"
	default:
		problems = append(problems, fmt.Sprintf("direction %s is neither IN nor OUT", showValue(dir)))
	}
	r.Duration = seconds(string(d.Duration))
	if len(problems) > 0 {
		r.Invalid = fmt.Errorf("%w: %s", connectors.ErrInvalid, strings.Join(problems, "; "))
	}
	return r, true
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
