package fakecrk

import "time"

// Behaviour chooses among the answers the API's documentation leaves
// unknown, so that a test can pin down a client's tolerance of each. The
// zero value is the fake's default.
type Behaviour struct {
	// CreateStatus is the status of a first POST /recordings of a dataId;
	// 0 means 201. A repeat answers 200.
	CreateStatus int
	// NoUploadURLOnRepeat makes a repeat POST of a dataId whose audio exists
	// answer without uploadUrl.
	NoUploadURLOnRepeat bool
	// ReextractStatus is the status of an accepted reextract; 0 means 202.
	// 204 answers with no body.
	ReextractStatus int
	// ReextractNoAudio is the status of a reextract of a recording without
	// audio: 0 means 422 validation_failed; 409 answers code
	// "audio_missing", 400 "bad_request", any other its usual code.
	ReextractNoAudio int
	// ProcessingBefore is the processingStatus a recording gets when it is
	// created ("" = the field is absent).
	ProcessingBefore string
	// ProcessingAfter is its processingStatus after a reextract; "" means
	// "completed".
	ProcessingAfter string
	// ProcessingDoneAfter, when positive, is how long AI processing takes:
	// once this long has passed on the fake's clock (Options.Now) since a
	// reextract, the recording reads "completed", with transcriptUrl and
	// summaryUrl in GET /recordings. 0 leaves it at ProcessingAfter.
	ProcessingDoneAfter time.Duration
	// AllowChunked makes storage accept a PUT without Content-Length
	// (Transfer-Encoding: chunked). By default it refuses one, as S3-style
	// storage does: 501 NotImplemented naming the Transfer-Encoding header
	// (S3, MinIO), or with ChunkedStatus 411, 411 MissingContentLength.
	AllowChunked bool
	// ChunkedStatus is the refusal of a chunked PUT: 0 means 501
	// NotImplemented, 411 means MissingContentLength.
	ChunkedStatus int
	// SearchAllFields makes search in GET /recordings also match
	// customerPhone, callcenterNumber and callcenterName (newer docs), not
	// only dataId.
	SearchAllFields bool
	// MaxUploadSize refuses larger uploads with 400 EntityTooLarge, as S3
	// does beyond 5 GiB; 0 means no limit.
	MaxUploadSize int64
}

// SetBehaviour replaces the behaviour knobs; safe at any time.
func (s *Server) SetBehaviour(b Behaviour) { s.behaviour.Store(&b) }

func (s *Server) knobs() *Behaviour { return s.behaviour.Load() }
