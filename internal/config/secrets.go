package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// secretInput is where a secret X may come from: X itself, X_FILE, or the
// systemd credential named after X in lower case.
type secretInput struct {
	name  string // X
	value string // $X
	file  string // $X_FILE
}

func (in secretInput) fileVar() string { return in.name + "_FILE" }

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

// MaxSecretFile bounds a secret file: a password or token is a few
// hundred bytes; anything larger is not a secret file.
const MaxSecretFile = 16 << 10

// errNotRegular and errTooLarge are what ReadSecretFile refuses.
var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("larger than %d bytes: not a secret file", MaxSecretFile)
)

// ReadSecretFile reads a secret file for Load: only a regular file (a
// FIFO or a device would hang start-up or never end), of at most
// MaxSecretFile bytes, read without reading further.
func ReadSecretFile(path string) ([]byte, error) {
	info, err := os.Stat(path) // follows links: Kubernetes mounts secrets as links to files
	if err != nil {
		return nil, err
	}
	if m := info.Mode(); !m.IsRegular() {
		var err error
		switch {
		case m.IsDir():
			err = errors.New("is a directory")
		case m&fs.ModeNamedPipe != 0:
			err = fmt.Errorf("%w: a named pipe (FIFO)", errNotRegular)
		case m&fs.ModeDevice != 0:
			err = fmt.Errorf("%w: a device", errNotRegular)
		case m&fs.ModeSocket != 0:
			err = fmt.Errorf("%w: a socket", errNotRegular)
		default:
			err = errNotRegular
		}
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSecretFile {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errTooLarge}
	}
	return data, nil
}

// readSecretFile reads the secret at path, dropping a UTF-8 byte-order
// mark and trailing whitespace, and refusing control characters (a NUL, a
// line break inside). With optional, a file that does not exist is no
// problem (a systemd credential that was not configured).
func (b *builder) readSecretFile(name, path string, optional bool) (string, bool) {
	data, err := b.readFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return "", false
		}
		b.add(name, "cannot read the secret file %q: %s", path, fileErrReason(err))
		return "", false
	}
	v := strings.TrimPrefix(string(data), "\ufeff")
	v = strings.TrimRightFunc(v, unicode.IsSpace)
	if v == "" {
		b.add(name, "the secret file %q is empty", path)
		return "", false
	}
	if !utf8.ValidString(v) {
		b.add(name, "the secret file %q is not UTF-8 text", path)
		return "", false
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		b.add(name, "the secret file %q holds a control character (%U at byte %d): a secret is one line of text", path, []rune(v[i:])[0], i)
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
