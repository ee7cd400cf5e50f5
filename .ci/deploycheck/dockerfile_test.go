package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPinnedImage(t *testing.T) {
	for _, tc := range []struct {
		image string
		ok    bool
	}{
		{"golang:1.26.8-bookworm", true},
		{"golang:1.26.8", true},
		{"gcr.io/distroless/static-debian12:nonroot@sha256:f5b485ea962d9bd1186b2f6b3a061191539b905b82ec395de78cbfae51f20e35", true},
		{"golang@sha256:f5b485ea962d9bd1186b2f6b3a061191539b905b82ec395de78cbfae51f20e35", true},
		{"registry.local:5000/tools/go:1.26.8-alpine3.22", true},
		{"golang", false},
		{"golang:latest", false},
		{"golang:1", false},
		{"golang:1.26", false},
		{"golang:1.26-bookworm", false},
		{"gcr.io/distroless/static-debian12:nonroot", false},
		{"registry.local:5000/tools/go", false},
		{"golang@sha256:1234", false},
		{"${GO_IMAGE}", false},
		{"", false},
	} {
		t.Run(tc.image, func(t *testing.T) {
			if why := pinnedImage(tc.image); (why == "") != tc.ok {
				t.Errorf("pinnedImage(%q) = %q, want pinned=%v", tc.image, why, tc.ok)
			}
		})
	}
}

// TestCheckDockerfileFails: a Dockerfile that breaks each rule is reported
// on each, so that a passing run of the real one means something.
func TestCheckDockerfileFails(t *testing.T) {
	const bad = `FROM golang:1.26 AS build
RUN go build -o /out/syncd ./cmd/syncd
FROM debian:latest
ENV SYNCD_LISTEN_ADDR=127.0.0.1:9464
USER root
ENTRYPOINT ["/bin/sh"]
`
	var out bytes.Buffer
	c := &checker{out: &out}
	path := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	checkDockerfile(c, path)
	if !c.failed {
		t.Fatalf("checkDockerfile passed a bad Dockerfile:\n%s", out.String())
	}
	for _, want := range []string{
		"FROM golang:1.26 is not pinned", "FROM debian:latest is not pinned",
		`does not build with "CGO_ENABLED=0"`, `does not build with "-trimpath"`, `does not build with "-X main.version="`,
		"SYNCD_STATE_PATH", `SYNCD_LISTEN_ADDR="127.0.0.1:9464"`,
		"lacks VOLUME /var/lib/syncd", "lacks EXPOSE 9464", "lacks HEALTHCHECK", `lacks ENTRYPOINT ["/syncd"]`, "lacks a non-root USER",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseDockerfileContinuations(t *testing.T) {
	stages, err := parseDockerfile([]byte("ARG X=1\nFROM a:1.2.3 AS b\nRUN one \\\n  # a comment\n  two\nFROM b\nENV K=v\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].name != "b" || stages[1].image != "b" {
		t.Fatalf("stages: %+v", stages)
	}
	if got := stages[0].body[0]; got.cmd != "RUN" || strings.Join(strings.Fields(got.args), " ") != "one two" || got.line != 3 {
		t.Errorf("the continued RUN: %+v", got)
	}
	if _, err := parseDockerfile([]byte("RUN x\nFROM a:1.2.3\n")); err == nil {
		t.Error("RUN before FROM: no error")
	}
}
