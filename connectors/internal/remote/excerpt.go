package remote

import (
	"html"
	"strings"
	"unicode"

	"github.com/crkai/syncd/internal/httpsafe"
)

// MaxExcerpt is how many characters of a body an error quotes.
const MaxExcerpt = 120

// Excerpt turns text from a foreign answer (the start of a body, a message
// in it) into a short, readable, safe string for an error: HTML scripts,
// styles and tags dropped, entities decoded, whitespace collapsed,
// control characters dropped, the secrets given and any other credential
// replaced (by httpsafe.Redact, before and after entities are decoded),
// cut at MaxExcerpt characters.
func Excerpt(b []byte, secrets ...string) string {
	s := strings.ToValidUTF8(string(b), "")
	s = httpsafe.Redact(dropElements(s, "script", "style"), secrets...)
	var text strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			text.WriteByte(' ')
		case !inTag:
			text.WriteRune(r)
		}
	}
	s = httpsafe.Redact(html.UnescapeString(text.String()), secrets...)
	var out strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = out.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			out.WriteByte(' ')
			n++
			space = false
		}
		if n >= MaxExcerpt {
			out.WriteString("…")
			break
		}
		out.WriteRune(r)
		n++
	}
	return trimSecretPrefix(out.String(), secrets)
}

// trimSecretPrefix cuts the end of s when it is the start of a secret (of at
// least 3 characters) that a length limit cut short.
func trimSecretPrefix(s string, secrets []string) string {
	end := strings.TrimSuffix(s, "…")
	for _, sec := range secrets {
		for k := min(len(sec)-1, len(end)); k >= 3; k-- {
			if strings.HasSuffix(end, sec[:k]) {
				return end[:len(end)-k] + httpsafe.Redacted
			}
		}
	}
	return s
}

// dropElements removes the named HTML elements with their content (scripts
// and styles say nothing to a reader of an error).
func dropElements(s string, names ...string) string {
	for _, name := range names {
		for {
			lower := asciiLower(s)
			i := strings.Index(lower, "<"+name)
			if i < 0 {
				break
			}
			j := strings.Index(lower[i:], "</"+name)
			if j < 0 {
				s = s[:i]
				break
			}
			k := strings.IndexByte(lower[i+j:], '>')
			if k < 0 {
				s = s[:i]
				break
			}
			s = s[:i] + " " + s[i+j+k+1:]
		}
	}
	return s
}

// asciiLower lowercases ASCII letters only, so that byte offsets stay put.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
