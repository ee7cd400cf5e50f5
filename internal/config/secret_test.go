package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestSecretPrints(t *testing.T) {
	set, unset := NewSecret("hunter2"), Secret{}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"%v", fmt.Sprintf("%v", set), "[redacted]"},
		{"%+v", fmt.Sprintf("%+v", set), "[redacted]"},
		{"%#v", fmt.Sprintf("%#v", set), "[redacted]"},
		{"%s", fmt.Sprintf("%s", set), "[redacted]"},
		{"%q", fmt.Sprintf("%q", set), `"[redacted]"`},
		{"%x", fmt.Sprintf("%x", set), "[redacted]"},
		{"%d", fmt.Sprintf("%d", set), "[redacted]"},
		{"pointer %v", fmt.Sprintf("%v", &set), "[redacted]"},
		{"String", set.String(), "[redacted]"},
		{"GoString", set.GoString(), "[redacted]"},
		{"unset %v", fmt.Sprintf("%v", unset), ""},
		{"unset %q", fmt.Sprintf("%q", unset), `""`},
		{"Reveal", set.Reveal(), "hunter2"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !set.IsSet() || unset.IsSet() {
		t.Errorf("IsSet: set %v, unset %v", set.IsSet(), unset.IsSet())
	}
	for _, s := range []Secret{set, unset} {
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		txt, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		want := s.String()
		if string(j) != fmt.Sprintf("%q", want) || string(txt) != want {
			t.Errorf("json %s, text %s; want %q", j, txt, want)
		}
	}
}

// TestSecretsNeverLeak loads configurations holding every secret and prints
// them every way main might: fmt, json, slog text and JSON handlers.
func TestSecretsNeverLeak(t *testing.T) {
	secrets := []string{"crk_tok_SECRET1", "dtac_SECRET2", "3cx_SECRET3", "3cx_SECRET4"}
	envs := []map[string]string{
		{
			"CRK_API_TOKEN": secrets[0], "DTAC_USERNAME": "+66812345678", "DTAC_PASSWORD": secrets[1],
			"THREECX_BASE_URL": "https://pbx.example.com", "THREECX_CLIENT_ID": "id", "THREECX_CLIENT_SECRET": secrets[2],
		},
		{
			"CRK_API_TOKEN":    secrets[0],
			"THREECX_BASE_URL": "https://pbx.example.com", "THREECX_USERNAME": "100", "THREECX_PASSWORD": secrets[3],
		},
	}
	for i, env := range envs {
		cfg, err := Load(context.Background(), mapLookup(env), os.ReadFile)
		if err != nil {
			t.Fatalf("env %d: %v", i, err)
		}
		var out bytes.Buffer
		fmt.Fprintf(&out, "%v %+v %#v\n", cfg, cfg, cfg)
		fmt.Fprintf(&out, "%v %+v %#v\n", *cfg, *cfg, *cfg)
		for _, name := range cfg.Sources() {
			src, _ := cfg.Source(name)
			fmt.Fprintf(&out, "%v %+v %#v\n", src, src, src)
		}
		fmt.Fprintf(&out, "%v %+v %#v\n", cfg.CRK, cfg.CRK, cfg.CRK)
		j, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(j)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "cfg", cfg, "crk", cfg.CRK, "token", cfg.CRK.Token)
		slog.New(slog.NewTextHandler(&out, nil)).Info("config", "cfg", cfg, "crk", cfg.CRK, "token", cfg.CRK.Token)

		for _, s := range secrets {
			if strings.Contains(out.String(), s) {
				t.Errorf("env %d: secret %q printed:\n%s", i, s, out.String())
			}
		}
		if n := strings.Count(out.String(), "[redacted]"); n < 10 {
			t.Errorf("env %d: [redacted] printed %d times, want the secrets shown as redacted:\n%s", i, n, out.String())
		}
	}
}

// TestProblemsNeverLeak pins that no problem shows a secret or a password
// written into a URL.
func TestProblemsNeverLeak(t *testing.T) {
	env := map[string]string{
		"CRK_API_URL":           "https://user:urlZq9x@api.example.com/?token=qZq9x",
		"CRK_API_TOKEN":         "tokZq9x with space",
		"DTAC_PASSWORD":         "dtacZq9x",
		"THREECX_CLIENT_SECRET": "cxZq9x",
		"THREECX_BASE_URL":      "ftp://u:baseZq9x@pbx.example.com/x",
		"THREECX_PASSWORD":      "pwZq9x",
	}
	_, err := Load(context.Background(), mapLookup(env), os.ReadFile)
	if err == nil {
		t.Fatal("Load accepted it")
	}
	if strings.Contains(err.Error(), "Zq9x") {
		t.Errorf("a secret is in the error:\n%v", err)
	}
	if !strings.Contains(err.Error(), "CRK_API_TOKEN: does not start") {
		t.Errorf("the token problem is missing:\n%v", err)
	}
}
