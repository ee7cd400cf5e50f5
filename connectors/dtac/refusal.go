package dtac

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// maxRefusal is the largest 200 answer read as a possible refusal of the
// token: an error object is a few dozen bytes, a listing page or an audio
// stream far more.
const maxRefusal = 4 << 10

// refusalWords are what the text of an error object says when the portal
// no longer takes the token: "invalid access token", "session expired",
// "Invalid token", "Unauthorized", "not authenticated", "login required".
var refusalWords = []string{"token", "session", "expire", "unauthor", "authenticat", "login", "log in", "logged", "sign in"}

// refusal reads the start of a 200 answer (of the listing or the audio)
// and reports whether it is the portal refusing the token with a JSON
// error object instead of a 401 ({"error":"invalid access token"},
// {"error":"session expired"}, {"message":"Invalid token"}): a small JSON
// object without an "objects" array whose error or message text speaks of
// a token, a session, expiry or authorisation. It returns that text. A
// body that starts with anything but a JSON object (audio does) costs one
// byte read ahead; otherwise at most maxRefusal bytes are. Either way
// resp.Body still reads the whole body.
func refusal(resp *http.Response) (string, bool) {
	br := bufio.NewReaderSize(resp.Body, maxRefusal)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{br, resp.Body}
	first, err := br.Peek(1)
	if err != nil || !bytes.ContainsAny(first, "{ \t\r\n\xef") {
		return "", false
	}
	b, err := br.Peek(maxRefusal)
	if err != io.EOF { // longer than an error object, or unreadable
		return "", false
	}
	return refusalText(b)
}

// refusalText reports whether b is a JSON object that refuses the token,
// and its error text.
func refusalText(b []byte) (string, bool) {
	b = bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf"))
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return "", false
	}
	var texts []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		key := strings.ToLower(k)
		if key == "objects" {
			return "", false // a listing, however odd
		}
		if errorKey(key) {
			texts = append(texts, strings.TrimSpace(jsonText(obj[k], 2)))
		}
	}
	text := strings.TrimSpace(strings.Join(texts, " "))
	lower := strings.ToLower(text)
	for _, w := range refusalWords {
		if strings.Contains(lower, w) {
			return text, true
		}
	}
	return "", false
}

// errorKey reports whether a key (lower case) names an error's text.
func errorKey(key string) bool {
	for _, k := range []string{"error", "message", "msg", "detail", "reason", "description", "status"} {
		if strings.Contains(key, k) {
			return true
		}
	}
	return false
}

// jsonText is the text of a JSON value: a string as is, the string values
// of an object or array (depth levels down) joined by spaces, nothing for
// the rest.
func jsonText(v json.RawMessage, depth int) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if depth == 0 {
		return ""
	}
	var parts []string
	var obj map[string]json.RawMessage
	var arr []json.RawMessage
	switch {
	case json.Unmarshal(v, &obj) == nil:
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			parts = append(parts, jsonText(obj[k], depth-1))
		}
	case json.Unmarshal(v, &arr) == nil:
		for _, e := range arr {
			parts = append(parts, jsonText(e, depth-1))
		}
	}
	return strings.Join(parts, " ")
}
