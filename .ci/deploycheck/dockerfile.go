package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// dockerInstruction is one Dockerfile instruction, continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case: FROM, ENV, …
	args string
	line int
}

// dockerStage is one FROM and the instructions up to the next.
type dockerStage struct {
	from  dockerInstruction
	image string // the image reference, flags and "AS name" removed
	name  string
	body  []dockerInstruction
}

// parseDockerfile reads a Dockerfile's stages. It knows what syncd's
// Dockerfile uses: comments, backslash continuations, ARG before the first
// FROM; no parser directives or heredocs.
func parseDockerfile(data []byte) ([]dockerStage, error) {
	var (
		stages []dockerStage
		buf    strings.Builder
		start  int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if buf.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if buf.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if buf.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			buf.WriteString(cont + " ")
			continue
		}
		buf.WriteString(line)
		cmd, args, _ := strings.Cut(buf.String(), " ")
		in := dockerInstruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		buf.Reset()
		if in.cmd == "FROM" {
			image, name := parseDockerFrom(in.args)
			stages = append(stages, dockerStage{from: in, image: image, name: name})
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				return nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return stages, nil
}

// parseDockerFrom splits FROM's arguments: [--platform=…] image [AS name].
func parseDockerFrom(args string) (image, name string) {
	f := strings.Fields(args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	if len(f) == 0 {
		return "", ""
	}
	if len(f) == 3 && strings.EqualFold(f[1], "AS") {
		name = f[2]
	}
	return f[0], name
}

var (
	pinDigestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	pinTagRE    = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+([-.+_][0-9A-Za-z.+_-]+)?$`)
)

// pinnedImage says why image is not pinned, or "": a digest, or an exact
// version tag (1.26.8-bookworm), never latest, a bare major or minor, or no
// tag at all.
func pinnedImage(image string) string {
	switch {
	case image == "":
		return "no image"
	case strings.Contains(image, "$"):
		return "the image comes from a build argument"
	case strings.Contains(image, "@"):
		if !pinDigestRE.MatchString(image) {
			return "a malformed digest (want @sha256: and 64 hex digits)"
		}
		return ""
	}
	repo := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(repo, ":")
	switch {
	case !ok:
		return "no tag: it means latest"
	case tag == "latest":
		return "the latest tag"
	case !pinTagRE.MatchString(tag):
		return fmt.Sprintf("the tag %q is not an exact version (like 1.26.8-bookworm)", tag)
	}
	return ""
}

// checkDockerfile: every base image is pinned; the build stage builds
// ./cmd/syncd static, trimmed and stamped; the runtime stage sets what
// README.md promises for the container.
func checkDockerfile(c *checker, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		c.failf("%v", err)
		return
	}
	stages, err := parseDockerfile(data)
	if err != nil {
		c.failf("%s: %v", path, err)
		return
	}
	names := map[string]bool{}
	for _, s := range stages {
		if !names[s.image] { // FROM an earlier stage names no image
			if why := pinnedImage(s.image); why != "" {
				c.failf("%s:%d: FROM %s is not pinned: %s", path, s.from.line, s.image, why)
			} else {
				c.okf("%s:%d: FROM %s is pinned", path, s.from.line, s.image)
			}
		}
		if s.name != "" {
			names[s.name] = true
		}
	}
	if len(stages) < 2 {
		c.failf("%s has %d stage(s), want a build stage and a runtime stage", path, len(stages))
		return
	}

	build := strings.Join(dockerArgs(stages[0], "ENV", "RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "-X main.commit=", "./cmd/syncd"} {
		if !strings.Contains(build, want) {
			c.failf("the build stage does not build with %q", want)
		} else {
			c.okf("the build stage builds with %q", want)
		}
	}

	rt := stages[len(stages)-1]
	env := map[string]string{}
	for _, a := range dockerArgs(rt, "ENV") {
		for k, v := range parseDockerEnv(a) {
			env[k] = v
		}
	}
	for _, kv := range [][2]string{
		{"SYNCD_STATE_PATH", "/var/lib/syncd/syncd.db"},
		{"SYNCD_LISTEN_ADDR", "0.0.0.0:9464"},
	} {
		if env[kv[0]] != kv[1] {
			c.failf("runtime ENV %s=%q, want %q", kv[0], env[kv[0]], kv[1])
		} else {
			c.okf("runtime ENV %s=%s", kv[0], kv[1])
		}
	}
	checks := []struct {
		cmd  string
		ok   func(args string) bool
		want string
	}{
		{"VOLUME", func(a string) bool { return slices.Contains(dockerList(a), "/var/lib/syncd") }, "VOLUME /var/lib/syncd"},
		{"EXPOSE", func(a string) bool {
			return slices.Contains(strings.Fields(a), "9464") || slices.Contains(strings.Fields(a), "9464/tcp")
		}, "EXPOSE 9464"},
		{"HEALTHCHECK", func(a string) bool {
			_, cmd, ok := strings.Cut(a, "CMD")
			return ok && slices.Contains(dockerList(cmd), "-healthcheck")
		}, `HEALTHCHECK … CMD ["/syncd", "-healthcheck"]`},
		{"ENTRYPOINT", func(a string) bool { l := dockerList(a); return len(l) > 0 && l[0] == "/syncd" }, `ENTRYPOINT ["/syncd"]`},
		{"USER", func(a string) bool {
			u, _, _ := strings.Cut(strings.TrimSpace(a), ":")
			return u != "" && u != "root" && u != "0"
		}, "a non-root USER"},
	}
	for _, ch := range checks {
		args := dockerArgs(rt, ch.cmd)
		if len(args) == 0 || !ch.ok(args[len(args)-1]) {
			c.failf("the runtime stage lacks %s (has %s %q)", ch.want, ch.cmd, args)
		} else {
			c.okf("the runtime stage has %s", ch.want)
		}
	}
}

func dockerArgs(s dockerStage, cmds ...string) []string {
	var out []string
	for _, in := range s.body {
		if slices.Contains(cmds, in.cmd) {
			out = append(out, in.args)
		}
	}
	return out
}

// parseDockerEnv reads ENV's arguments: k=v pairs (values may be quoted), or
// the legacy "ENV k v".
func parseDockerEnv(args string) map[string]string {
	m := map[string]string{}
	f := strings.Fields(args)
	if len(f) > 0 && !strings.Contains(f[0], "=") {
		m[f[0]] = strings.TrimSpace(strings.TrimPrefix(args, f[0]))
		return m
	}
	for _, kv := range f {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = strings.Trim(v, `"'`)
	}
	return m
}

// dockerList reads an exec-form JSON array or a whitespace-separated list.
func dockerList(a string) []string {
	a = strings.TrimSpace(a)
	var l []string
	if strings.HasPrefix(a, "[") && json.Unmarshal([]byte(a), &l) == nil {
		return l
	}
	return strings.Fields(a)
}
