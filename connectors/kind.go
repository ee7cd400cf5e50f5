package connectors

import (
	"context"
	"time"
)

// Kind describes a kind of source (a phone system) to the rest of syncd:
// internal/config reads and checks its variables, the daemon builds it,
// the alerts and the help name it, `syncd -demo` starts its fake. Each
// connector package declares its Kind; internal/sources lists them all,
// one line each, and nothing else needs to know a kind by name.
type Kind struct {
	// Name is the source's name in state, metrics, logs and data ids:
	// "dtac", "3cx".
	Name string
	// Title is the phone system as people know it: "DTAC One Call".
	Title string
	// Short is the title in a few words, as in "the DTAC source is off";
	// "" for Title.
	Short string
	// Vars are the variables the source reads, in the order of the
	// README's table (and of `syncd -h`, and of a list of problems). The
	// first one enables the source: set and not empty, the source is on
	// and Configure checks the others; unset, none of the others may be
	// set.
	Vars []Var
	// Configure reads and checks the variables of an enabled source
	// through s, which records every problem (Load lists them all at
	// once), and returns the source ready to build. It is called once, and
	// only for an enabled source.
	Configure func(s Settings) Configured
	// Demo starts the kind's fake on loopback for `syncd -demo`, holding n
	// sample calls of day (in loc) made from seed; the fake's Call adds
	// more, drawn from the same seed.
	Demo func(day time.Time, loc *time.Location, n int, seed uint64) (*DemoFake, error)
}

// ShortTitle is Short, or Title when Short is empty.
func (k Kind) ShortTitle() string {
	if k.Short != "" {
		return k.Short
	}
	return k.Title
}

// Var is one environment variable of a source.
type Var struct {
	Name string
	// Default is the value when unset ("" when none), as shown in the help.
	Default string
	// Help says what it is, in a few words, for `syncd -h`.
	Help string
	// Secret: it may also be given as NAME_FILE or as the systemd
	// credential name (lower case), and never appears in an error or a log.
	Secret bool
}

// Settings is how a Kind's Configure reads its variables. internal/config
// implements it: each method checks the value by the configuration's own
// rules and records what is wrong, so that every problem of every variable
// is reported at once, in one voice.
type Settings interface {
	// Text is the variable's value ("" when unset).
	Text(name string) string
	// Secret is the secret's value, from NAME, NAME_FILE or the systemd
	// credential; "" when none is given or it cannot be read (a problem is
	// recorded then).
	Secret(name string) string
	// Given reports whether the variable was given: a text set and not
	// empty, a secret given in any way, even one that could not be read.
	Given(name string) bool
	// Require records that name is required when the source is on, if it
	// was not given.
	Require(name string)
	// URL is a base URL: https://, or http:// for a loopback host only,
	// since carries ("the DTAC password") must not travel in clear; without
	// credentials, a query or a fragment, nor a path unless path; without a
	// trailing "/". Unset, it is the variable's default.
	URL(name, carries string, path bool) string
	// LANURL is URL for a server on the customer's own network, which may
	// serve no TLS: http:// is allowed for any host (what it carries then
	// travels in clear on that network, as the server's own web page does).
	LANURL(name, carries string, path bool) string
	// Bool is a boolean (true, false, 1, 0, …); unset, its default.
	Bool(name string) bool
	// Problem records a problem about name (or several names joined by
	// "/"), in plain words without a secret.
	Problem(name, format string, args ...any)
}

// Configured is an enabled source whose variables were checked.
type Configured struct {
	// Login is what names the source's log-in: the address, the user, the
	// secret. After refused log-ins, a change of any of them is tried at
	// once (config.Config.SourceFingerprint).
	Login []string
	// New builds the connector. It does no I/O.
	New func(Deps) (Connector, error)
}

// DemoFake is a kind's fake running for `syncd -demo`.
type DemoFake struct {
	// URL is where it listens.
	URL string
	// Env are the variables that point the source at it, with the fake's
	// made-up credentials.
	Env map[string]string
	// Close stops it.
	Close func() error
	// Call adds a new sample call that ended at end, as the phone system
	// does while in use (`syncd -demo -serve`). It is safe for concurrent
	// use.
	Call func(end time.Time)
	// Note, when not nil, says what a summary of the demo's pass should
	// know about calls of the fake that the source leaves out by design
	// ("7 of the 40 generated calls were internal …"), or "".
	Note func() string
}

// Produce adds a call that has just ended (at now) every interval, until
// ctx ends.
func (f *DemoFake) Produce(ctx context.Context, every time.Duration, now func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Call(now())
		}
	}
}
