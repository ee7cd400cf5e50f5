package fakecrk

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// apiErr is one error answer of the /api/v1 endpoints.
type apiErr struct {
	status     int
	code       string
	message    string
	retryAfter string // Retry-After header value, for 429
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the fake's own response types reach here; they always marshal.
		panic("crk fake: marshal response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeAPIError answers in the API's one error shape:
// {"error":{"code":"...","message":"..."}}.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// apiCodeFor is the machine code an injected API error of status carries.
func apiCodeFor(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "bad_request"
	case status == http.StatusUnauthorized:
		return "invalid_token"
	case status == http.StatusForbidden:
		return "insufficient_scope"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusConflict:
		return "conflict"
	case status == http.StatusUnprocessableEntity:
		return "validation_failed"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "internal_error"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

// writeS3Error answers in S3's error shape:
// <Error><Code>...</Code><Message>...</Message>...</Error>.
func writeS3Error(w http.ResponseWriter, status int, code, message, requestID string) {
	b, err := xml.Marshal(s3Error{Code: code, Message: message, RequestID: requestID})
	if err != nil {
		panic("crk fake: marshal storage error: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// s3ErrorFor is the code and message storage answers an injected error of
// status with.
func s3ErrorFor(status int) (code, message string) {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest", "Bad Request"
	case http.StatusForbidden:
		return "AccessDenied", "Access Denied"
	case http.StatusNotFound:
		return "NoSuchKey", "The specified key does not exist."
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return "SlowDown", "Please reduce your request rate."
	case http.StatusInternalServerError:
		return "InternalError", "We encountered an internal error. Please try again."
	}
	return strings.ReplaceAll(http.StatusText(status), " ", ""), http.StatusText(status)
}
