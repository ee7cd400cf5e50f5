// Package connectors defines what a phone-system connector is: the Recording
// type every connector returns, the Connector interface the syncer drives, and
// the sentinel errors by which a connector tells the syncer whether a failure
// will fix itself.
package connectors

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/crkai/syncd/internal/deps"
)

// Deps are what the daemon hands every connector it builds: the shared
// dependencies (the HTTP client, whose Transport is shared and whose
// Timeout is not relied on: each call has its own deadline) and what is
// particular to connectors.
type Deps struct {
	deps.Shared
	// Location is SYNCD_TIMEZONE: Recording.CallAt is expressed in it.
	Location *time.Location
	// Region is SYNCD_PHONE_REGION, for turning local numbers into E.164.
	Region string
	// UserAgent is sent on every request.
	UserAgent string
}

// Recording is one call recording at a source, normalised.
type Recording struct {
	// ID is the source's own id of the recording, stable forever. The state
	// store keys a source's recordings by it.
	ID string
	// DataID is the id the recording gets at CRK ("dtac-<id>",
	// "3cx-<host>-<Id>"), unique across every source.
	DataID string
	// CallAt is the start of the call, in the zone the call happened in
	// (SYNCD_TIMEZONE), so that its offset is the call's local offset.
	CallAt   time.Time
	Duration time.Duration
	// Direction is "in" or "out", or "" when the source does not say
	// (Oreka's UNKN, an empty field): SYNCD_UNKNOWN_DIRECTION decides.
	Direction string
	// CustomerPhone is E.164 when it could be normalised, else as given.
	CustomerPhone string
	AgentNumber   string // sent as callcenterNumber
	AgentName     string // sent as callcenterName
	// ContentType is the audio's MIME type as far as the listing tells;
	// Open may learn a better one from the response.
	ContentType string
	// Invalid is non-nil when the source lists the recording but it cannot
	// be synced as given (an unknown direction, a malformed timestamp). The
	// syncer quarantines it with this reason instead of sending it. It wraps
	// ErrInvalid.
	Invalid error
}

// Audio is an open audio stream of one recording. Body is streamed and never
// read whole; the caller closes it.
type Audio struct {
	Body io.ReadCloser
	// Size is the length in bytes, or -1 when the source does not say.
	Size int64
	// ContentType is the audio's MIME type as the source served it.
	ContentType string
}

// Connector is one phone system that recordings are pulled from. Every
// method takes a context and honours its cancellation. Implementations log
// in lazily, one log-in at a time, log in afresh when the source refuses
// their token (a bounded number of times) before failing, and are safe for
// concurrent use by the syncer's workers (connectors/internal/remote does
// all this for them).
type Connector interface {
	// Name is the source's name in state, metrics and logs: "dtac", "3cx".
	Name() string
	// Check logs in, to prove the configuration works. It writes nothing.
	Check(ctx context.Context) error
	// List returns the recordings whose start lies in [from, to): from
	// inclusive, to exclusive, whatever the source's own boundary rule is.
	List(ctx context.Context, from, to time.Time) ([]Recording, error)
	// Open streams the audio of r. A recording whose audio is not there yet
	// answers an error wrapping ErrNotReady, one whose audio will never be
	// there again an error wrapping ErrGone.
	Open(ctx context.Context, r Recording) (*Audio, error)
}

// Sentinel errors, compared with errors.Is. A connector wraps them with %w
// and a message saying what failed.
var (
	// ErrAuth: the source refused the credentials. It will not fix itself
	// until the configuration changes.
	ErrAuth = errors.New("login refused")
	// ErrForbidden: logged in, but the account may not do this (for example
	// a 3CX role too low to read recordings).
	ErrForbidden = errors.New("not permitted")
	// ErrNotReady: the audio is not complete yet; a later pass may succeed.
	ErrNotReady = errors.New("audio not ready yet")
	// ErrGone: the audio is gone at the source and will not come back.
	ErrGone = errors.New("audio gone at the source")
	// ErrInvalid: the source's record of a recording cannot be used as is.
	ErrInvalid = errors.New("invalid recording at the source")
)

// LoginCounter is an optional capability: a connector that counts the
// full sign-ins it sent (refreshes not included), for the metric
// syncd_source_logins_total. Portals lock accounts and block addresses
// after many sign-ins; the count shows how gentle syncd is.
type LoginCounter interface {
	Logins() uint64
}

// Permanent reports whether err will not fix itself by retrying the same
// recording: the syncer quarantines such a recording at once.
func Permanent(err error) bool {
	return errors.Is(err, ErrGone) || errors.Is(err, ErrInvalid)
}

// Defaulted returns d with its unset fields filled: the shared ones as
// deps.Shared.Defaulted does, and UTC for Location.
func (d Deps) Defaulted() Deps {
	d.Shared = d.Shared.Defaulted()
	if d.Location == nil {
		d.Location = time.UTC
	}
	return d
}

// WithLogger returns a copy of d that logs to l.
func (d Deps) WithLogger(l *slog.Logger) Deps {
	d.Logger = l
	return d
}
