package fakecrk

import "time"

// Business is one CRK business (tenant).
type Business struct{ ID, Name, Slug string }

// Token levels.
const (
	LevelBusiness = "business"
	LevelAccount  = "account"
)

// Scopes the fake knows about.
const (
	ScopeViewAll      = "view_recording_all"
	ScopeViewSelf     = "view_recording_self"
	ScopeManageCall   = "manage_call_recording"
	ScopeManageReview = "manage_recording_review"
	ScopeManageLink   = "manage_recording_link"
	ScopeManageAll    = "manage_all"
)

// Source providers, the sourceProvider filter of GET /recordings.
const (
	SourceUpload  = "upload"
	SourceThreeCX = "threecx"
	SourceDTAC    = "dtac"
)

const (
	defaultContentType  = "audio/wav"
	maxDataIDRunes      = 255
	maxCreateBodyBytes  = 1 << 20
	defaultURLExpiry    = 15 * time.Minute
	defaultListLimit    = 20
	maxListLimit        = 200
	amzDateLayout       = "20060102T150405Z"
	storagePathPrefix   = "/storage/"
	apiPathPrefix       = "/api/v1"
	recordingsPath      = apiPathPrefix + "/recordings"
	whoamiPath          = apiPathPrefix + "/meta/whoami"
	reextractPathSuffix = "reextract"
)

// Token is one API key the fake accepts, keyed in Options.Tokens by its raw
// value ("crk_...").
type Token struct {
	// Level is LevelBusiness or LevelAccount; "" means LevelBusiness.
	Level string
	// BusinessID is, for business keys, the business the key is bound to.
	BusinessID string
	// Scopes are, for business keys, the subset chosen at creation. Account
	// keys get ["manage_all"] when this is empty.
	Scopes []string
	// UserID is the user owning an account key (its businesses are
	// Options.Members[UserID]). On a business key it is the user that
	// view_recording_self is about.
	UserID string
	// Disabled marks a revoked key: 401 token_disabled.
	Disabled bool
	// OmitLevel makes whoami of a business key answer without "level", as
	// older deployments do.
	OmitLevel bool
}

// Endpoint names one endpoint of the fake, for fault injection and counters.
type Endpoint string

// The endpoints.
const (
	EndpointWhoami    Endpoint = "whoami"    // GET /api/v1/meta/whoami
	EndpointCreate    Endpoint = "create"    // POST /api/v1/recordings
	EndpointUpload    Endpoint = "upload"    // PUT /storage/... (the presigned URL)
	EndpointReextract Endpoint = "reextract" // POST /api/v1/recordings/{id}/reextract
	EndpointList      Endpoint = "list"      // GET /api/v1/recordings
)

// Recording is the fake's view of one recording, for seeding and
// introspection.
type Recording struct {
	BusinessID, ID, DataID string
	// CallAt is RFC 3339 with an offset, as posted; it is echoed as given.
	CallAt                                                                  string
	Direction, CustomerPhone, CallcenterNumber, CallcenterName, ContentType string
	Note                                                                    string
	// AudioSHA256 and AudioSize describe the last complete upload.
	AudioSHA256 [32]byte
	AudioSize   int64
	HasAudio    bool
	// Uploads counts complete uploads.
	Uploads int
	// Reextracts counts accepted reextract calls; Creates counts POSTs seen
	// for this dataId.
	Reextracts, Creates int
	// ProcessingStatus is shown in GET /recordings when not empty.
	ProcessingStatus string

	// SourceProvider is "upload" (every recording created through the API),
	// "threecx" or "dtac"; "" in AddRecording means "upload".
	SourceProvider string
	// Duration is what sortBy=duration sorts on.
	Duration time.Duration
	// Tag and Score are the review fields; Score counts only when HasScore.
	Tag      string
	Score    float64
	HasScore bool
	// UserID is the user the recording is linked to (view_recording_self).
	UserID string
}
