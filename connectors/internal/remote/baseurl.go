package remote

import (
	"errors"
	"net/url"
	"strings"
)

// errBaseURL is a connector built with a base URL that internal/config
// would have refused: a programmer's error, not a person's.
var errBaseURL = errors.New("BaseURL is not an absolute http(s) URL without credentials, query or fragment")

// BaseURL parses a connector's base URL, already checked by internal/config,
// and drops the trailing "/" of its path. What it refuses is a
// programmer's error; the error says so briefly and never quotes the URL.
func BaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errBaseURL
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
