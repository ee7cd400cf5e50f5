package main

// The container image's contract, checked without a Docker engine: the
// binary the Dockerfile builds is static and stamped, answers -version and
// -healthcheck, and the Dockerfile pins its base images and sets what the
// README promises for the container.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	staticVersion = "v9.8.7-static-test"
	staticCommit  = "0123456789abcdef0123456789abcdef01234567"
)

// buildStaticSyncd builds syncd as the Dockerfile does and returns its path.
func buildStaticSyncd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "syncd")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+staticVersion+" -X main.commit="+staticCommit,
		"-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("static binary: %.1f MiB (%d bytes), built in %s", float64(fi.Size())/(1<<20), fi.Size(), time.Since(start).Round(time.Millisecond))
	return bin
}

func TestStaticBinary(t *testing.T) {
	bin := buildStaticSyncd(t)

	t.Run("go version -m", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), "go", "version", "-m", bin).CombinedOutput()
		if err != nil {
			t.Fatalf("go version -m: %v\n%s", err, out)
		}
		settings := goBuildSettings(string(out))
		for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
			if got, ok := settings[k]; !ok || got != want {
				t.Errorf("go version -m: %s=%q (present %v), want %q\n%s", k, got, ok, want, out)
			}
		}
		// With -trimpath, go leaves -ldflags out of the build info (it may
		// hold paths): the stamped version is checked through -version.
	})

	t.Run("ELF is static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary has a PT_INTERP program header: it needs a dynamic loader")
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Fatalf("reading DT_NEEDED: %v", err)
		}
		if len(libs) > 0 {
			t.Errorf("the binary needs shared libraries (DT_NEEDED): %v", libs)
		}
	})

	t.Run("-version", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), bin, "-version").CombinedOutput()
		if err != nil {
			t.Fatalf("-version: %v\n%s", err, out)
		}
		want := fmt.Sprintf("syncd %s (commit %s, go", staticVersion, staticCommit)
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("-version printed %q, want it to start with %q", out, want)
		}
	})

	// Docker's HEALTHCHECK runs `/syncd -healthcheck` inside the container,
	// where SYNCD_LISTEN_ADDR is 0.0.0.0:9464: it must reach the daemon over
	// loopback, say healthy while it runs, and unhealthy once it is gone.
	t.Run("-healthcheck against the running daemon", func(t *testing.T) {
		f := newFakes(t, 3)
		addr := freeAddr(t)
		_, port, _ := strings.Cut(addr, ":")
		daemon := exec.Command(bin)
		daemon.Env = staticEnv(f.with("SYNCD_LISTEN_ADDR", addr, "SYNCD_SCHEDULE", "@every 1h"))
		var stderr bytes.Buffer
		daemon.Stderr = &stderr
		if err := daemon.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- daemon.Wait() }()
		stopped := false
		t.Cleanup(func() {
			if !stopped {
				_ = daemon.Process.Kill()
				<-exited
			}
		})

		// As in the container: the wildcard address, answered on 127.0.0.1.
		healthcheck := func() (int, string) {
			hc := exec.CommandContext(t.Context(), bin, "-healthcheck")
			hc.Env = []string{"SYNCD_LISTEN_ADDR=0.0.0.0:" + port}
			out, err := hc.CombinedOutput()
			var ee *exec.ExitError
			switch {
			case err == nil:
				return 0, string(out)
			case errors.As(err, &ee):
				return ee.ExitCode(), string(out)
			}
			t.Fatalf("-healthcheck: %v", err)
			return -1, ""
		}
		waitFor(t, "-healthcheck to pass", func() bool { code, _ := healthcheck(); return code == 0 })
		if code, out := healthcheck(); code != 0 || !strings.Contains(out, `"status":"ok"`) {
			t.Fatalf("-healthcheck: exit %d, %s", code, out)
		}
		waitFor(t, "the pass at start", func() bool { return len(f.crk.Recordings()) == 3 })

		if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			stopped = true
			if err != nil {
				t.Fatalf("the daemon exited with %v after SIGTERM, want 0\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = daemon.Process.Kill()
			<-exited // stderr is complete only once Wait returned
			stopped = true
			t.Fatalf("the daemon did not exit within 30 s of SIGTERM\n%s", stderr.String())
		}
		noSecrets(t, outcome{stderr: stderr.String()})
		if code, out := healthcheck(); code != 1 {
			t.Fatalf("-healthcheck with the daemon stopped: exit %d, %s; want 1", code, out)
		}
	})
}

// goBuildSettings reads the "build" lines of `go version -m`.
func goBuildSettings(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(out) {
		fields := strings.SplitN(strings.TrimSpace(line), "\t", 2)
		if len(fields) != 2 || fields[0] != "build" {
			continue
		}
		k, v, _ := strings.Cut(fields[1], "=")
		m[k] = v
	}
	return m
}

func staticEnv(env map[string]string) []string {
	var l []string
	for k, v := range env {
		l = append(l, k+"="+v)
	}
	return l
}

// dockerInstruction is one Dockerfile dockerInstruction, continuation lines joined.
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

func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
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
			continue // a comment inside a continued dockerInstruction
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
				t.Fatalf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) == 0 {
		t.Fatalf("%s: no FROM", path)
	}
	return stages
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
	pinArgRE    = regexp.MustCompile(`\$`)
)

// pinned says why image is not pinned, or "": a digest, or an exact
// version tag (1.26.8-bookworm), never latest, a bare major or minor, or no
// tag at all.
func pinnedImage(image string) string {
	switch {
	case image == "":
		return "no image"
	case pinArgRE.MatchString(image):
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

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	names := map[string]bool{}
	for _, s := range stages {
		if !names[s.image] { // FROM an earlier dockerStage names no image
			if why := pinnedImage(s.image); why != "" {
				t.Errorf("Dockerfile:%d: FROM %s is not pinned: %s", s.from.line, s.image, why)
			}
		}
		if s.name != "" {
			names[s.name] = true
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d dockerStage(s), want a build dockerStage and a runtime dockerStage", len(stages))
	}

	build := strings.Join(dockerArgs(stages[0], "ENV", "RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "-X main.commit=", "./cmd/syncd"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build dockerStage does not build with %q", want)
		}
	}

	rt := stages[len(stages)-1]
	env := map[string]string{}
	for _, a := range dockerArgs(rt, "ENV") {
		for k, v := range parseDockerEnv(a) {
			env[k] = v
		}
	}
	for k, want := range map[string]string{
		"SYNCD_STATE_PATH":  "/var/lib/syncd/syncd.db",
		"SYNCD_LISTEN_ADDR": "0.0.0.0:9464",
	} {
		if env[k] != want {
			t.Errorf("runtime ENV %s=%q, want %q", k, env[k], want)
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
	for _, c := range checks {
		args := dockerArgs(rt, c.cmd)
		if len(args) == 0 || !c.ok(args[len(args)-1]) {
			t.Errorf("the runtime dockerStage lacks %s (has %s %q)", c.want, c.cmd, args)
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

// parseDockerEnv reads ENV's arguments: k=v pairs (values may be quoted), or the
// legacy "ENV k v".
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
