// Command deploycheck checks what syncd ships beyond its Go packages: the
// Dockerfile's contract, a release binary's build, and that binary running
// as a daemon against the fakes, answering Docker's -healthcheck. It is run
// by .ci/deploy-checks; the ./... pattern skips this directory (its name
// starts with a dot), so `go test ./...` never builds syncd itself.
//
//	go run ./.ci/deploycheck dockerfile Dockerfile
//	go run ./.ci/deploycheck binary BIN [VERSION COMMIT]
//	go run ./.ci/deploycheck daemon BIN
//
// Each prints what it checked and exits 1 when a check failed, 2 on a
// usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout))
}

// checker collects failures: a check reports and goes on, so that one run
// lists every problem.
type checker struct {
	out    io.Writer
	failed bool
}

func (c *checker) okf(format string, args ...any) {
	fmt.Fprintf(c.out, "   ok: "+format+"\n", args...)
}

func (c *checker) failf(format string, args ...any) {
	fmt.Fprintf(c.out, "   FAIL: "+format+"\n", args...)
	c.failed = true
}

func run(ctx context.Context, args []string, out io.Writer) int {
	c := &checker{out: out}
	switch {
	case len(args) == 2 && args[0] == "dockerfile":
		checkDockerfile(c, args[1])
	case (len(args) == 2 || len(args) == 4) && args[0] == "binary":
		checkBinary(ctx, c, args[1])
		if len(args) == 4 {
			checkVersion(ctx, c, args[1], args[2], args[3])
		}
	case len(args) == 2 && args[0] == "daemon":
		checkDaemon(ctx, c, args[1])
	default:
		fmt.Fprintln(out, "usage: deploycheck dockerfile PATH | binary BIN [VERSION COMMIT] | daemon BIN")
		return 2
	}
	if c.failed {
		return 1
	}
	return 0
}
