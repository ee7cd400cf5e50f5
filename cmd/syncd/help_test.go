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
