package fakethreecx

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// queryError is a query option the fake refuses, with the status 3CX
// answers: 400 for syntax it does not understand, 500 for a malformed
// literal (a bad date, say), as 3CX does.
type queryError struct {
	status int
	msg    string
}

func (e *queryError) Error() string { return e.msg }

func syntaxErr(format string, args ...any) *queryError {
	return &queryError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func literalErr(format string, args ...any) *queryError {
	return &queryError{status: http.StatusInternalServerError, msg: fmt.Sprintf(format, args...)}
}

// The $filter subset the fake understands (OData v4 URL conventions):
//
//	or      = and { "or" and }
//	and     = eq { "and" eq }
//	eq      = rel { ("eq" | "ne") rel }
//	rel     = unary { ("gt" | "ge" | "lt" | "le") unary }
//	unary   = "not" unary | primary
//	primary = "(" or ")" | literal | property
//	literal = "null" | "true" | "false" | integer | 'string' ('' escapes ')
//	        | DateTimeOffset (2026-05-20T01:00:00Z, fractional seconds, ±hh:mm)
//
// Keywords and property names are case-sensitive. Comparison with null
// follows OData: eq and ne compare nullness, an ordering comparison with a
// null operand is false unless both are null (then ge and le are true).

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokWord   // keyword, property name or unquoted literal
	tokString // 'quoted', unescaped
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			start := i
			i++
			for {
				if i >= len(s) {
					return nil, syntaxErr("There is an unterminated string literal at position %d in '%s'.", start, s)
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: start})
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\n\r()',", rune(s[i])) {
				i++
			}
			if i == start { // a lone comma
				return nil, syntaxErr("Syntax error at position %d in '%s'.", i, s)
			}
			toks = append(toks, token{kind: tokWord, text: s[start:i], pos: start})
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

// node is a parsed expression with its static type.
type node interface{ typ() kind }

type (
	binNode struct { // and, or, eq, ne, gt, ge, lt, le
		op   string
		l, r node
	}
	notNode   struct{ x node }
	fieldNode struct{ f *field }
	litNode   struct{ v value }
)

func (n *binNode) typ() kind   { return kindBool }
func (n *notNode) typ() kind   { return kindBool }
func (n *fieldNode) typ() kind { return n.f.kind }
func (n *litNode) typ() kind   { return n.v.kind }

// maxDepth bounds nesting, so that no input can exhaust the stack.
const maxDepth = 100

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	update int // properties newer than 20.0.<update> are unknown
}

// parseFilter parses a $filter value into a boolean expression, knowing
// every property.
func parseFilter(s string) (node, error) { return parseFilterAt(s, latest) }

// parseFilterAt parses a $filter value as 20.0.<update> does: a property
// that version lacks is unknown.
func parseFilterAt(s string, update int) (node, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks, update: update}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, syntaxErr("Syntax error at position %d in '%s'.", t.pos, s)
	}
	if n.typ() != kindBool {
		return nil, syntaxErr("The $filter expression must evaluate to a single boolean value.")
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// keyword consumes the word t if it is one of kws.
func (p *parser) keyword(kws ...string) (string, bool) {
	t := p.peek()
	if t.kind != tokWord {
		return "", false
	}
	for _, k := range kws {
		if t.text == k {
			p.i++
			return k, true
		}
	}
	return "", false
}

func (p *parser) or() (node, error) {
	return p.binary(p.and, []string{"or"}, logical)
}

func (p *parser) and() (node, error) {
	return p.binary(p.eq, []string{"and"}, logical)
}

func (p *parser) eq() (node, error) {
	return p.binary(p.rel, []string{"eq", "ne"}, equatable)
}

func (p *parser) rel() (node, error) {
	return p.binary(p.unary, []string{"gt", "ge", "lt", "le"}, ordered)
}

// binary parses a left-associative chain of operators ops over operands
// parsed by sub, checking each pair's types with check.
func (p *parser) binary(sub func() (node, error), ops []string, check func(op string, l, r node) error) (node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.keyword(ops...)
		if !ok {
			return l, nil
		}
		r, err := sub()
		if err != nil {
			return nil, err
		}
		if err := check(op, l, r); err != nil {
			return nil, err
		}
		l = &binNode{op: op, l: l, r: r}
	}
}

func logical(op string, l, r node) error {
	if l.typ() != kindBool || r.typ() != kindBool {
		return syntaxErr("The '%s' operator requires boolean operands, not %s and %s.", op, l.typ(), r.typ())
	}
	return nil
}

func equatable(op string, l, r node) error {
	lt, rt := l.typ(), r.typ()
	if lt == kindNull || rt == kindNull || lt == rt {
		return nil
	}
	return syntaxErr("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.", lt, rt, op)
}

func ordered(op string, l, r node) error {
	if err := equatable(op, l, r); err != nil {
		return err
	}
	if l.typ() == kindBool || r.typ() == kindBool {
		return syntaxErr("The '%s' operator is not defined for Edm.Boolean operands.", op)
	}
	return nil
}

func (p *parser) unary() (node, error) {
	if _, ok := p.keyword("not"); ok {
		p.depth++
		if p.depth > maxDepth {
			return nil, syntaxErr("The $filter expression is nested too deeply.")
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		if x.typ() != kindBool {
			return nil, syntaxErr("The 'not' operator requires a boolean operand, not %s.", x.typ())
		}
		return &notNode{x: x}, nil
	}
	return p.primary()
}

var (
	dateLike = regexp.MustCompile(`^-?\d{4}-\d{2}-\d{2}`)
	intLike  = regexp.MustCompile(`^-?\d+$`)
	nameLike = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		p.depth++
		if p.depth > maxDepth {
			return nil, syntaxErr("The $filter expression is nested too deeply.")
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, syntaxErr("')' expected at position %d in '%s'.", c.pos, p.src)
		}
		return n, nil
	case tokString:
		return &litNode{v: value{kind: kindString, s: t.text}}, nil
	case tokWord:
		return p.word(t)
	case tokEOF:
		return nil, syntaxErr("Expression expected at position %d in '%s'.", t.pos, p.src)
	}
	return nil, syntaxErr("Syntax error at position %d in '%s'.", t.pos, p.src)
}

func (p *parser) word(t token) (node, error) {
	switch w := t.text; {
	case w == "null":
		return &litNode{v: value{kind: kindNull}}, nil
	case w == "true":
		return &litNode{v: value{kind: kindBool, i: 1}}, nil
	case w == "false":
		return &litNode{v: value{kind: kindBool}}, nil
	case dateLike.MatchString(w):
		at, err := parseDateTimeOffset(w)
		if err != nil {
			// 3CX answers a bad date with 500, not 400.
			return nil, literalErr("The DateTimeOffset text '%s' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.", w)
		}
		return &litNode{v: value{kind: kindTime, t: at}}, nil
	case intLike.MatchString(w):
		n, err := strconv.ParseInt(w, 10, 32)
		if err != nil {
			return nil, literalErr("The integer literal '%s' is out of range.", w)
		}
		return &litNode{v: value{kind: kindInt, i: n}}, nil
	case nameLike.MatchString(w):
		switch w {
		case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le":
			return nil, syntaxErr("Expression expected at position %d in '%s'.", t.pos, p.src)
		}
		f, ok := fieldAt(w, p.update)
		if !ok {
			return nil, syntaxErr("Could not find a property named '%s' on type 'Pbx.Recording'.", w)
		}
		if p.peek().kind == tokLParen {
			return nil, syntaxErr("An unknown function with name '%s' was found.", w)
		}
		return &fieldNode{f: f}, nil
	}
	return nil, syntaxErr("Syntax error: character or term '%s' at position %d in '%s' is not understood.", t.text, t.pos, p.src)
}

// parseDateTimeOffset reads an Edm.DateTimeOffset literal: an RFC 3339
// date-time with seconds optional, up to 12 fractional digits, and Z or a
// ±hh:mm offset.
func parseDateTimeOffset(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	// More than nine fractional digits: drop the surplus.
	if dot := strings.IndexByte(s, '.'); dot > 0 {
		end := dot + 1
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		if end-dot-1 > 9 && end-dot-1 <= 12 {
			return parseDateTimeOffset(s[:dot+10] + s[end:])
		}
	}
	return time.Time{}, fmt.Errorf("not a DateTimeOffset: %q", s)
}

// pred is a compiled boolean expression.
type pred func(*Recording) bool

// getter is a compiled value expression.
type getter func(*Recording) value

// compile turns a boolean node into a predicate.
func compile(n node) pred {
	switch n := n.(type) {
	case *binNode:
		switch n.op {
		case "and":
			l, r := compile(n.l), compile(n.r)
			return func(rec *Recording) bool { return l(rec) && r(rec) }
		case "or":
			l, r := compile(n.l), compile(n.r)
			return func(rec *Recording) bool { return l(rec) || r(rec) }
		}
		l, r, op := compileValue(n.l), compileValue(n.r), n.op
		return func(rec *Recording) bool { return compareOp(op, l(rec), r(rec)) }
	case *notNode:
		x := compile(n.x)
		return func(rec *Recording) bool { return !x(rec) }
	}
	g := compileValue(n)
	return func(rec *Recording) bool { v := g(rec); return v.kind == kindBool && v.i != 0 }
}

func compileValue(n node) getter {
	switch n := n.(type) {
	case *fieldNode:
		return n.f.get
	case *litNode:
		v := n.v
		return func(*Recording) value { return v }
	}
	p := compile(n)
	return func(rec *Recording) value {
		if p(rec) {
			return value{kind: kindBool, i: 1}
		}
		return value{kind: kindBool}
	}
}

// compareOp applies a comparison operator with OData's null rules.
func compareOp(op string, a, b value) bool {
	if a.kind == kindNull || b.kind == kindNull {
		both := a.kind == kindNull && b.kind == kindNull
		switch op {
		case "eq", "ge", "le":
			return both
		case "ne":
			return !both
		}
		return false
	}
	c := compareValues(a, b)
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// compareValues orders two non-null values of the same kind.
func compareValues(a, b value) int {
	switch a.kind {
	case kindString:
		return strings.Compare(a.s, b.s)
	case kindTime:
		return a.t.Compare(b.t)
	}
	switch {
	case a.i < b.i:
		return -1
	case a.i > b.i:
		return 1
	}
	return 0
}

// startBounds finds the StartTime range n implies, so that a query can
// binary-search instead of scanning: through "and" (the tighter bound) and
// "or" (the looser, when both sides bound), as in a keyset query's
// "StartTime gt X or (StartTime eq X and Id gt N)". The range is a
// superset: the whole predicate is still evaluated on it.
func startBounds(n node) (lo, hi *time.Time) {
	b, ok := n.(*binNode)
	if !ok {
		return nil, nil
	}
	switch b.op {
	case "and", "or":
		llo, lhi := startBounds(b.l)
		rlo, rhi := startBounds(b.r)
		pick := func(x, y *time.Time, later bool) *time.Time {
			switch {
			case x == nil && b.op == "and":
				return y
			case y == nil && b.op == "and":
				return x
			case x == nil || y == nil:
				return nil
			case x.After(*y) == later:
				return x
			}
			return y
		}
		// "and": the later lower bound and the earlier upper one; "or":
		// the earlier lower bound and the later upper one.
		return pick(llo, rlo, b.op == "and"), pick(lhi, rhi, b.op == "or")
	}
	op := b.op
	f, okF := b.l.(*fieldNode)
	l, okL := b.r.(*litNode)
	if !okF || !okL {
		f, okF = b.r.(*fieldNode)
		l, okL = b.l.(*litNode)
		op = map[string]string{"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq"}[op]
	}
	if !okF || !okL || f.f.name != "StartTime" || l.v.kind != kindTime {
		return nil, nil
	}
	t := l.v.t
	switch op {
	case "gt", "ge":
		return &t, nil
	case "lt", "le":
		return nil, &t
	case "eq":
		return &t, &t
	}
	return nil, nil
}
