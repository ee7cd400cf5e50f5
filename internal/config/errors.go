package config

import "strings"

// Problem is one thing wrong with the configuration: the variable (or
// variables, joined by "/") and why, in plain words. Why never holds a
// secret.
type Problem struct {
	Var string
	Why string
}

// Error is an invalid configuration: every problem found, in the order of
// the variables in DESIGN.md's table. Load returns it as *Error.
type Error struct {
	Problems []Problem
}

// Error returns "invalid configuration:" followed by one indented
// "VAR: why" line per problem.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Var)
		b.WriteString(": ")
		b.WriteString(p.Why)
	}
	return b.String()
}
