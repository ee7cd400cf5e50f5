package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/sources"
)

// Source is an enabled source, its variables checked.
type Source struct {
	Kind connectors.Kind

	values map[string]string // what its Configure read, by variable, but the secrets
	// secrets are the secrets it read, in that order. A func, so that
	// printing a Config never shows them: fmt cannot call Secret's
	// methods on a value held in an unexported field.
	secrets     func() []namedSecret
	fingerprint string
	build       func(connectors.Deps) (connectors.Connector, error)
}

type namedSecret struct {
	name   string
	secret Secret
}

// Name is the source's name in state, metrics and logs.
func (s Source) Name() string { return s.Kind.Name }

// New builds the source's connector. It does no I/O.
func (s Source) New(deps connectors.Deps) (connectors.Connector, error) { return s.build(deps) }

// fingerprint is 32 bits of a SHA-256 of parts.
func fingerprint(parts []string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// sourcesOff checks that some source is enabled: its first variable set
// and not empty.
func (b *builder) sourcesOff() {
	var names, sets []string
	for _, k := range sources.All() {
		enable := k.Vars[0].Name
		if v, _ := b.lookup(enable); v != "" {
			return
		}
		names = append(names, enable)
		sets = append(sets, fmt.Sprintf("%s (%s)", enable, k.Title))
	}
	b.add(strings.Join(names, "/"), "no source enabled: set %s", orList(sets))
}

// orList is "a", "a or b", "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// enabledSources checks every kind's variables and returns the enabled
// sources, in the order of sources.All. A kind that is off may have none
// of its variables set.
func (b *builder) enabledSources() []Source {
	var out []Source
	for _, k := range sources.All() {
		sec := &section{b: b, kind: k, values: map[string]string{}, resolved: map[string]resolvedSecret{}}
		if v, _ := b.lookup(k.Vars[0].Name); v == "" {
			sec.off()
			continue
		}
		c := k.Configure(sec)
		secrets := sec.secrets
		out = append(out, Source{Kind: k, values: sec.values, secrets: func() []namedSecret { return secrets }, fingerprint: fingerprint(c.Login), build: c.New})
	}
	return out
}

// section is one kind's variables as its Configure reads them
// (connectors.Settings): every check is the builder's.
type section struct {
	b        *builder
	kind     connectors.Kind
	values   map[string]string
	resolved map[string]resolvedSecret
	secrets  []namedSecret
}

var _ connectors.Settings = (*section)(nil)

// v is the declared variable name; a kind reads only what it declares, so
// that the help and the README list it.
func (s *section) v(name string) connectors.Var {
	for _, v := range s.kind.Vars {
		if v.Name == name {
			return v
		}
	}
	panic(fmt.Sprintf("config: source %s reads %s, which its Kind does not declare", s.kind.Name, name))
}

func (s *section) enable() string { return s.kind.Vars[0].Name }

// off records a problem for each variable of a disabled source that is set.
func (s *section) off() {
	off := fmt.Sprintf("is set but %s is not: the %s source is off", s.enable(), s.kind.ShortTitle())
	for _, v := range s.kind.Vars[1:] {
		value, _ := s.b.lookup(v.Name)
		if v.Secret {
			file, _ := s.b.lookup(v.Name + "_FILE")
			s.b.offSecret(secretInput{name: v.Name, value: value, file: file}, off)
		} else if value != "" {
			s.b.add(v.Name, "%s", off)
		}
	}
}

func (s *section) input(name string) secretInput {
	value, _ := s.b.lookup(name)
	file, _ := s.b.lookup(name + "_FILE")
	return secretInput{name: name, value: value, file: file}
}

// secret resolves a secret variable once.
func (s *section) secret(name string) resolvedSecret {
	if !s.v(name).Secret {
		panic(fmt.Sprintf("config: source %s reads %s as a secret, which its Kind does not declare so", s.kind.Name, name))
	}
	if r, ok := s.resolved[name]; ok {
		return r
	}
	r := s.b.secret(s.input(name))
	s.resolved[name] = r
	if r.secret.IsSet() {
		s.secrets = append(s.secrets, namedSecret{name, r.secret})
	}
	return r
}

func (s *section) Text(name string) string {
	if s.v(name).Secret {
		panic(fmt.Sprintf("config: source %s reads the secret %s as text", s.kind.Name, name))
	}
	value, _ := s.b.lookup(name)
	s.values[name] = value
	return value
}

func (s *section) Secret(name string) string { return s.secret(name).secret.Reveal() }

func (s *section) Given(name string) bool {
	if s.v(name).Secret {
		return s.secret(name).secret.IsSet() || s.b.failed(name) || s.b.failed(name+"_FILE")
	}
	value, _ := s.b.lookup(name)
	return value != ""
}

func (s *section) Require(name string) {
	why := " when " + s.enable() + " is set"
	if s.v(name).Secret {
		s.b.requireSecret(s.input(name), s.secret(name), why)
		return
	}
	if value, _ := s.b.lookup(name); value == "" {
		s.b.add(name, "is required%s", why)
	}
}

func (s *section) URL(name, carries string, path bool) string {
	return s.url(name, carries, path, false)
}

func (s *section) LANURL(name, carries string, path bool) string {
	return s.url(name, carries, path, true)
}

func (s *section) url(name, carries string, path, plainHTTP bool) string {
	v := s.v(name)
	raw, set := s.b.lookup(name)
	u := v.Default
	if set {
		u = s.b.checkURL(name, raw, v.Default, carries, path, plainHTTP)
	}
	s.values[name] = u
	return u
}

func (s *section) Bool(name string) bool {
	v := s.v(name)
	raw, set := s.b.lookup(name)
	on := v.Default == "true"
	if set {
		on = s.b.parseBool(name, raw, v.Default)
	}
	s.values[name] = fmt.Sprint(on)
	return on
}

func (s *section) Problem(name, format string, args ...any) { s.b.add(name, format, args...) }
