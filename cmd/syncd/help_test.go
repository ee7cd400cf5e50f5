package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/crkai/syncd/internal/config"
)

// TestHelpIsTheManual: -h prints, on stdout, every flag, every variable
// with its default, the exit codes and examples, and exits 0.
func TestHelpIsTheManual(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{arg}, func(string) (string, bool) { return "", false }, &out, &errOut)
		if code != exitOK || errOut.Len() != 0 {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, errOut.String())
		}
		text := out.String()
		for _, want := range []string{"-once", "-retry-quarantined", "-data-id", "-test-connection", "-version", "Exit codes:", "Examples:"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: help lacks %q", arg, want)
			}
		}
		for _, v := range config.Reference {
			if !strings.Contains(text, v.Name) || (v.Default != "" && !strings.Contains(text, v.Default)) {
				t.Errorf("%s: help lacks %s or its default %q", arg, v.Name, v.Default)
			}
		}
	}
}

// TestStatusNeedsNoTokenNorSource: -status reads the state file with only
// SYNCD_STATE_PATH set.
func TestStatusNeedsNoTokenNorSource(t *testing.T) {
	path := t.TempDir() + "/syncd.db"
	env := map[string]string{"SYNCD_STATE_PATH": path}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-status"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), "none yet") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
