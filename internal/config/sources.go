package config

import "strings"

// isDigits reports whether s is n digits, lo ≤ n ≤ hi.
func isDigits(s string, lo, hi int) bool {
	return len(s) >= lo && len(s) <= hi && strings.Trim(s, "0123456789") == ""
}

func (b *builder) dtac() DTAC {
	e := b.env
	pw := secretInput{name: "DTAC_PASSWORD", value: e.DTACPassword, file: e.DTACPasswordFile}
	if e.DTACUsername == "" {
		const off = "is set but DTAC_USERNAME is not: the DTAC source is off"
		b.offSecret(pw, off)
		if e.DTACBaseURL.set && e.DTACBaseURL.value != "" {
			b.add("DTAC_BASE_URL", off)
		}
		return DTAC{}
	}

	d := DTAC{Username: e.DTACUsername}
	switch u := e.DTACUsername; {
	case strings.HasPrefix(u, "+") && isDigits(u[1:], 8, 15):
	case strings.HasPrefix(u, "0") && isDigits(u, 8, 15):
		b.add("DTAC_USERNAME", "%q is a local number: write it as +66 and the number without its leading 0 (%s)", u, "+66"+u[1:])
	case isDigits(u, 8, 15):
		b.add("DTAC_USERNAME", "%q lacks the leading \"+\": write it as +%s", u, u)
	case strings.HasPrefix(u, "0"):
		b.add("DTAC_USERNAME", "%q is a local number: write it as +66 and the number without its leading 0, digits only", u)
	default:
		b.add("DTAC_USERNAME", "%q is not a phone number in +66… form (\"+\" and 8 to 15 digits)", u)
	}

	p := b.secret(pw)
	b.requireSecret(pw, p, " when DTAC_USERNAME is set")
	d.Password = p.secret

	d.BaseURL = DefaultDTACBaseURL
	if e.DTACBaseURL.set {
		d.BaseURL = b.baseURL("DTAC_BASE_URL", e.DTACBaseURL.value, DefaultDTACBaseURL, "the DTAC password", true)
	}
	return d
}

func (b *builder) threeCX() ThreeCX {
	e := b.env
	id := e.ThreeCXClientID
	cs := secretInput{name: "THREECX_CLIENT_SECRET", value: e.ThreeCXClientSecret, file: e.ThreeCXClientSecretFile}
	user := e.ThreeCXUsername
	pw := secretInput{name: "THREECX_PASSWORD", value: e.ThreeCXPassword, file: e.ThreeCXPasswordFile}
	incl := e.ThreeCXIncludeInternal

	if e.ThreeCXBaseURL == "" {
		const off = "is set but THREECX_BASE_URL is not: the 3CX source is off"
		if id != "" {
			b.add("THREECX_CLIENT_ID", off)
		}
		b.offSecret(cs, off)
		if user != "" {
			b.add("THREECX_USERNAME", off)
		}
		b.offSecret(pw, off)
		if incl.set && incl.value != "" {
			b.add("THREECX_INCLUDE_INTERNAL", off)
		}
		return ThreeCX{}
	}

	t := ThreeCX{BaseURL: b.baseURL("THREECX_BASE_URL", e.ThreeCXBaseURL, "", "the 3CX credentials", false)}
	secret := b.secret(cs)
	password := b.secret(pw)
	b.threeCXLogin(id, secret, user, password)
	t.ClientID, t.ClientSecret = id, secret.secret
	t.Username, t.Password = user, password.secret

	if incl.set {
		t.IncludeInternal = b.parseBool("THREECX_INCLUDE_INTERNAL", incl.value, "false")
	}
	return t
}

// threeCXLogin checks that exactly one login is configured, and completely.
// A secret that failed to resolve (already a problem) counts as given.
func (b *builder) threeCXLogin(id string, secret resolvedSecret, user string, password resolvedSecret) {
	secretGiven := secret.secret.IsSet() || b.failed("THREECX_CLIENT_SECRET") || b.failed("THREECX_CLIENT_SECRET_FILE")
	passwordGiven := password.secret.IsSet() || b.failed("THREECX_PASSWORD") || b.failed("THREECX_PASSWORD_FILE")
	client := id != "" || secretGiven
	userLogin := user != "" || passwordGiven
	switch {
	case client && userLogin:
		b.add("THREECX_CLIENT_ID/THREECX_CLIENT_SECRET/THREECX_USERNAME/THREECX_PASSWORD",
			"both logins are set: use either the API client (THREECX_CLIENT_ID and THREECX_CLIENT_SECRET) or the user (THREECX_USERNAME and THREECX_PASSWORD), not both")
	case !client && !userLogin:
		b.add("THREECX_CLIENT_ID/THREECX_CLIENT_SECRET/THREECX_USERNAME/THREECX_PASSWORD",
			"no login: set THREECX_CLIENT_ID and THREECX_CLIENT_SECRET (API client), or THREECX_USERNAME and THREECX_PASSWORD (user)")
	case client:
		b.half("THREECX_CLIENT_ID", id != "", "THREECX_CLIENT_SECRET", secretGiven, "the API client login")
	default:
		b.half("THREECX_USERNAME", user != "", "THREECX_PASSWORD", passwordGiven, "the user login")
	}
}

// half records a problem when only one variable of a login pair is set.
func (b *builder) half(a string, aSet bool, s string, sSet bool, login string) {
	switch {
	case aSet && !sSet:
		b.add(s, "%s is set but %s is not: %s needs both", a, s, login)
	case !aSet && sSet:
		b.add(a, "%s is set but %s is not: %s needs both", s, a, login)
	}
}
