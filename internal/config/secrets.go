package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode"
)

// secretInput is where a secret X may come from: X itself, X_FILE, or the
// systemd credential named after X in lower case.
type secretInput struct {
	name  string // X
	value string // $X
	file  string // $X_FILE
}

func (in secretInput) fileVar() string { return in.name + "_FILE" }

// given reports whether X or X_FILE is set (the credential directory is
// not a variable, so it does not count).
func (in secretInput) given() bool { return in.value != "" || in.file != "" }

// resolvedSecret is a secret and the variable it came from, for problems
// about its value.
type resolvedSecret struct {
	secret Secret
	from   string // X or X_FILE; "" when not given
}

// secret resolves in: X, else X_FILE, else $CREDENTIALS_DIRECTORY/x. A
// problem names the variable and the path, never the file's contents.
func (b *builder) secret(in secretInput) resolvedSecret {
	switch {
	case in.value != "" && in.file != "":
		b.add(in.name, "both %s and %s are set: set only one", in.name, in.fileVar())
		return resolvedSecret{}
	case in.value != "":
		return resolvedSecret{secret: Secret{value: in.value}, from: in.name}
	case in.file != "":
		v, ok := b.readSecretFile(in.fileVar(), in.file, false)
		if !ok {
			return resolvedSecret{}
		}
		return resolvedSecret{secret: Secret{value: v}, from: in.fileVar()}
	case b.env.CredentialsDirectory != "":
		path := filepath.Join(b.env.CredentialsDirectory, strings.ToLower(in.name))
		v, ok := b.readSecretFile(in.name, path, true)
		if !ok {
			return resolvedSecret{}
		}
		return resolvedSecret{secret: Secret{value: v}, from: in.name}
	}
	return resolvedSecret{}
}

// readSecretFile reads the secret at path, trimming trailing whitespace.
// With optional, a file that does not exist is no problem (a systemd
// credential that was not configured).
func (b *builder) readSecretFile(name, path string, optional bool) (string, bool) {
	data, err := b.readFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return "", false
		}
		b.add(name, "cannot read the secret file %q: %s", path, fileErrReason(err))
		return "", false
	}
	v := strings.TrimRightFunc(string(data), unicode.IsSpace)
	if v == "" {
		b.add(name, "the secret file %q is empty", path)
		return "", false
	}
	return v, true
}

// fileErrReason is err without the path and operation that os wraps
// around it (the caller names the path itself).
func fileErrReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// requireSecret adds a problem when a required secret was not given.
func (b *builder) requireSecret(in secretInput, s resolvedSecret, why string) {
	if s.secret.IsSet() || b.failed(in.name) || b.failed(in.fileVar()) {
		return
	}
	b.add(in.name, "is required%s: give %s, %s or the systemd credential %s",
		why, in.name, in.fileVar(), strings.ToLower(in.name))
}

// offSecret adds a problem for each of a disabled source's secret variables
// that is set.
func (b *builder) offSecret(in secretInput, off string) {
	if in.value != "" {
		b.add(in.name, "%s", off)
	}
	if in.file != "" {
		b.add(in.fileVar(), "%s", off)
	}
}
