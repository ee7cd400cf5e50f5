package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os/exec"
	"strings"
)

// checkBinary: built as the Dockerfile and .ci/package build it, with
// CGO_ENABLED=0 and -trimpath, into a static ELF that needs no loader and
// no shared library (the distroless image has no libc).
func checkBinary(ctx context.Context, c *checker, bin string) {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		c.failf("go version -m %s: %v\n%s", bin, err, out)
	} else {
		settings := goBuildSettings(string(out))
		for _, kv := range [][2]string{{"CGO_ENABLED", "0"}, {"-trimpath", "true"}} {
			if got, ok := settings[kv[0]]; !ok || got != kv[1] {
				c.failf("go version -m: %s=%q (present %v), want %q", kv[0], got, ok, kv[1])
			} else {
				c.okf("go version -m: %s=%s", kv[0], got)
			}
		}
		// With -trimpath, go leaves -ldflags out of the build info (it may
		// hold paths): the stamped version is checked through -version.
	}

	f, err := elf.Open(bin)
	if err != nil {
		c.failf("%s: %v", bin, err)
		return
	}
	defer f.Close()
	static := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			c.failf("%s has a PT_INTERP program header: it needs a dynamic loader", bin)
			static = false
		}
	}
	libs, err := f.ImportedLibraries()
	switch {
	case err != nil:
		c.failf("%s: reading DT_NEEDED: %v", bin, err)
		static = false
	case len(libs) > 0:
		c.failf("%s needs shared libraries (DT_NEEDED): %v", bin, libs)
		static = false
	}
	if static {
		c.okf("%s (%s) is a static ELF: no PT_INTERP, no DT_NEEDED", bin, f.Machine)
	}
}

// checkVersion: -version prints the version and commit stamped with
// -ldflags "-X main.version=… -X main.commit=…".
func checkVersion(ctx context.Context, c *checker, bin, version, commit string) {
	out, err := exec.CommandContext(ctx, bin, "-version").CombinedOutput()
	if err != nil {
		c.failf("%s -version: %v\n%s", bin, err, out)
		return
	}
	want := fmt.Sprintf("syncd %s (commit %s, go", version, commit)
	if !strings.HasPrefix(string(out), want) {
		c.failf("%s -version printed %q, want it to start with %q", bin, out, want)
		return
	}
	c.okf("%s -version: %s", bin, strings.TrimSpace(string(out)))
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
