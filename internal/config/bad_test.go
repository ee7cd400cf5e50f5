package config

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crkai/syncd/internal/sources"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current output")

// readEnvFile reads KEY=VALUE lines; blank lines and lines starting with #
// are skipped. The value is everything after the first "=", verbatim.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		if _, dup := env[k]; dup {
			t.Fatalf("%s:%d: %s set twice", path, n, k)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// TestBadEnvironments loads every testdata/bad/*.env and compares the error
// with the .err file beside it.
func TestBadEnvironments(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d bad environments in testdata/bad", len(files))
	}
	for _, envFile := range files {
		name := strings.TrimSuffix(filepath.Base(envFile), ".env")
		t.Run(name, func(t *testing.T) {
			env := readEnvFile(t, envFile)
			cfg, err := Load(context.Background(), mapLookup(env), ReadSecretFile)
			if err == nil {
				t.Fatalf("Load accepted it: %+v", cfg)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error is %T, not *Error: %v", err, err)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its error")
			}
			errFile := strings.TrimSuffix(envFile, ".env") + ".err"
			if *update {
				if err := os.WriteFile(errFile, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(errFile)
			if rerr != nil {
				t.Fatalf("no expected error: %v", rerr)
			}
			if got := err.Error(); got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("error:\n%s\nwant (%s):\n%s", got, errFile, want)
			}
			// No secret of the environment may appear in the error.
			for k, v := range env {
				if isSecretVar(k) && v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("the error shows the value of %s", k)
				}
			}
		})
	}
}

// isSecretVar reports whether k is the CRK token or a source's secret.
func isSecretVar(k string) bool {
	if k == "CRK_API_TOKEN" {
		return true
	}
	for _, kind := range sources.All() {
		for _, v := range kind.Vars {
			if v.Name == k {
				return v.Secret
			}
		}
	}
	return false
}

// TestBadEnvironmentsComplete fails on an .err file without its .env.
func TestBadEnvironmentsComplete(t *testing.T) {
	errs, err := filepath.Glob(filepath.Join("testdata", "bad", "*.err"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range errs {
		if _, err := os.Stat(strings.TrimSuffix(f, ".err") + ".env"); err != nil {
			t.Errorf("%s has no .env: %v", f, err)
		}
	}
}
