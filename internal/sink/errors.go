package sink

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinels for the error codes of the CRK API, compared with errors.Is on
// any error the Client returns. An *APIError matches the sentinel of its code.
var (
	ErrBusinessRequired  = errors.New("business_required")
	ErrMissingToken      = errors.New("missing_token")
	ErrInvalidToken      = errors.New("invalid_token")
	ErrTokenDisabled     = errors.New("token_disabled")
	ErrInsufficientScope = errors.New("insufficient_scope")
	ErrForbiddenBusiness = errors.New("forbidden_business")
	ErrNotFound          = errors.New("not_found")
	ErrValidation        = errors.New("validation_failed")
	ErrRateLimited       = errors.New("rate_limited")
	ErrInternal          = errors.New("internal_error")

	// ErrUploadExpired: storage refused a presigned URL as expired (S3
	// answers 403 AccessDenied "Request has expired"). Creating the
	// recording again, which is idempotent, gives a fresh URL.
	ErrUploadExpired = errors.New("presigned upload URL expired")
	// ErrUploadRejected: storage refused the upload for another reason.
	ErrUploadRejected = errors.New("storage refused the upload")
	// ErrNoUploadURL: CRK answered a create without an upload URL.
	ErrNoUploadURL = errors.New("CRK returned no upload URL")
)

// sentinels maps each documented code to its sentinel. Read only.
var sentinels = map[string]error{
	"business_required":  ErrBusinessRequired,
	"missing_token":      ErrMissingToken,
	"invalid_token":      ErrInvalidToken,
	"token_disabled":     ErrTokenDisabled,
	"insufficient_scope": ErrInsufficientScope,
	"forbidden_business": ErrForbiddenBusiness,
	"not_found":          ErrNotFound,
	"validation_failed":  ErrValidation,
	"rate_limited":       ErrRateLimited,
	"internal_error":     ErrInternal,
}

// statusCodes gives the code of a status that has only one in the table, for
// error bodies that are not JSON (a proxy's HTML page, say). Read only.
var statusCodes = map[int]string{
	http.StatusNotFound:            "not_found",
	http.StatusUnprocessableEntity: "validation_failed",
	http.StatusTooManyRequests:     "rate_limited",
	http.StatusInternalServerError: "internal_error",
}

// APIError is an error answer of the CRK API.
type APIError struct {
	Endpoint string // "whoami", "create", "reextract", "list"
	Status   int
	Code     string // the machine code; "" when the body was not the JSON error shape
	Message  string // the server's message, or a sanitised excerpt of a non-JSON body
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("crk %s: %d %s", e.Endpoint, e.Status, code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrValidation) and the like work. A body that was
// not the JSON error shape matches by status where the status is unambiguous.
func (e *APIError) Is(target error) bool {
	code := e.Code
	if code == "" {
		code = statusCodes[e.Status]
	}
	s, ok := sentinels[code]
	return ok && s == target
}

// IsAuth reports whether err means the token or business configuration is
// wrong: nothing will succeed until an operator fixes it, so a pass stops.
// Every 401 and 403 of the API counts, whatever its body: both statuses
// carry only token and business codes, and a gateway's page has no code.
func IsAuth(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return true
	}
	for _, s := range []error{ErrMissingToken, ErrInvalidToken, ErrTokenDisabled, ErrInsufficientScope, ErrForbiddenBusiness, ErrBusinessRequired} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Permanent reports whether err is CRK refusing this recording for good (our
// payload is invalid, or the recording is not found): retrying the same
// request will not help.
func Permanent(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests &&
		ae.Status != http.StatusRequestTimeout && !IsAuth(err)
}
