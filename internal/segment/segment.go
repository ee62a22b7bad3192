// Package segment parses Herald's segment query language: a small boolean
// language over subscriber attributes, list membership, signup date, email
// domain and engagement (see docs/audience.md). It only parses and checks;
// the store compiles a parsed query to SQL with bound parameters.
package segment

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/validator"
)

// Node is a parsed query: an And, Or, Not or Cond.
type Node interface {
	// String writes the node back in canonical form.
	String() string
}

// And matches when both sides match.
type And struct{ L, R Node }

// Or matches when either side matches.
type Or struct{ L, R Node }

// Not matches when its operand does not.
type Not struct{ X Node }

// Field names what a condition tests.
type Field string

// Fields a condition can test.
const (
	FieldAttr    Field = "attr"    // a subscriber attribute: Key, Op (=, !=, exists), Value
	FieldList    Field = "list"    // confirmed on the list with slug Value (Op = or !=)
	FieldDomain  Field = "domain"  // the email's domain is Value (Op = or !=)
	FieldSignup  Field = "signup"  // Op before/after Date, or within Days
	FieldOpened  Field = "opened"  // Op within Days, or never
	FieldClicked Field = "clicked" // Op within Days, or never
)

// Cond is one test on a subscriber.
type Cond struct {
	Field Field
	Key   string // attribute name, for FieldAttr
	Op    string // =, !=, exists, before, after, within, never
	Value string
	Days  int       // for within
	Date  time.Time // for before and after (midnight UTC)
}

func (n And) String() string { return group(n.L, true) + " and " + group(n.R, true) }
func (n Or) String() string  { return n.L.String() + " or " + n.R.String() }
func (n Not) String() string { return "not " + group(n.X, false) }

// group parenthesises an operand that binds more loosely than its context.
func group(n Node, inAnd bool) string {
	switch n.(type) {
	case Or:
		return "(" + n.String() + ")"
	case And:
		if !inAnd {
			return "(" + n.String() + ")"
		}
	}
	return n.String()
}

func (c Cond) String() string {
	switch {
	case c.Field == FieldAttr && c.Op == "exists":
		return "attr." + c.Key + " exists"
	case c.Field == FieldAttr:
		return "attr." + c.Key + " " + c.Op + " " + quote(c.Value)
	case c.Op == "within":
		return fmt.Sprintf("%s within %d days", c.Field, c.Days)
	case c.Op == "never":
		return "never " + string(c.Field)
	case c.Op == "before" || c.Op == "after":
		return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Date.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Value)
}

// quote writes v as the lexer reads a quoted value back: only \ and "
// are escaped (Go's strconv.Quote would write a tab as \t, which reads
// back as the letter t, so a saved query would mean something else than
// its preview).
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Error is a query that does not parse, with the position (a 1-based
// character offset) of the problem.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string {
	if e.Pos <= 0 { // about the query as a whole, such as a list that does not exist
		return "segment query: " + e.Msg
	}
	return fmt.Sprintf("segment query, at character %d: %s", e.Pos, e.Msg)
}

// MaxLength is the longest query accepted, in bytes.
const MaxLength = 4000

// maxConds bounds the number of conditions (and so the SQL's size).
const maxConds = 64

// MaxDepth bounds how deep conditions nest (not, parentheses): each level
// is a level of the SQL expression, and SQLite refuses trees deeper than
// 1,000, so an unbounded query could be saved that no page could count.
const MaxDepth = 16

// MaxDays bounds "within N days".
const MaxDays = 36500

var (
	keyPattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	domainPattern = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)
)

// Parse parses a query. The empty query is an error: a segment must say
// whom it selects.
func Parse(q string) (Node, error) {
	if len(q) > MaxLength {
		return nil, &Error{1, fmt.Sprintf("the query is longer than %d characters", MaxLength)}
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, &Error{1, "the query is empty; write a condition such as: list = news"}
	}
	p := &parser{toks: toks, end: len(q) + 1}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.text == ")" {
			return nil, &Error{t.pos, "a closing ) has no opening ("}
		}
		return nil, &Error{t.pos, fmt.Sprintf("expected and, or or the end of the query, found %q", t.text)}
	}
	if p.conds > maxConds {
		return nil, &Error{1, fmt.Sprintf("the query has %d conditions; at most %d are allowed", p.conds, maxConds)}
	}
	return n, nil
}

type token struct {
	text   string
	pos    int
	quoted bool
}

func lex(q string) ([]token, error) {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '=':
			out = append(out, token{text: string(c), pos: i + 1})
			i++
		case c == '!':
			if i+1 >= len(q) || q[i+1] != '=' {
				return nil, &Error{i + 1, "! must be followed by = (not equal)"}
			}
			out = append(out, token{text: "!=", pos: i + 1})
			i += 2
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '"'; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, &Error{i + 1, "a quoted value has no closing \""}
			}
			out = append(out, token{text: b.String(), pos: i + 1, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\r\n()=!\"", rune(q[j])) {
				j++
			}
			out = append(out, token{text: q[i:j], pos: i + 1})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	i     int
	end   int
	conds int
	depth int // not and ( levels open
}

// nest enters one more level of not or parentheses at t.
func (p *parser) nest(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return &Error{t.pos, fmt.Sprintf("conditions nest more than %d deep here (not and parentheses); write the query more simply", MaxDepth)}
	}
	return nil
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{pos: p.end}, false
}

// keyword reports whether the next token is the bare word w, and takes it.
func (p *parser) keyword(w string) bool {
	t, ok := p.peek()
	if ok && !t.quoted && strings.EqualFold(t.text, w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) or() (Node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) unary() (Node, error) {
	if t, _ := p.peek(); p.keyword("not") {
		if err := p.nest(t); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		p.depth--
		return Not{x}, nil
	}
	t, ok := p.peek()
	if !ok {
		return nil, &Error{t.pos, "the query ends where a condition was expected"}
	}
	if t.text == "(" && !t.quoted {
		p.i++
		if err := p.nest(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok || c.text != ")" || c.quoted {
			return nil, &Error{t.pos, "this ( is never closed"}
		}
		p.i++
		return n, nil
	}
	return p.cond()
}

func (p *parser) cond() (Node, error) {
	t, _ := p.peek()
	p.i++
	p.conds++
	word := strings.ToLower(t.text)
	switch {
	case t.quoted:
		return nil, &Error{t.pos, fmt.Sprintf("expected a condition, found the quoted value %q", t.text)}
	case strings.HasPrefix(word, "attr."):
		key := t.text[len("attr."):]
		if !keyPattern.MatchString(key) {
			return nil, &Error{t.pos, fmt.Sprintf("attribute name %q: use letters, digits, _ and - (at most 64)", key)}
		}
		if p.keyword("exists") {
			return Cond{Field: FieldAttr, Key: key, Op: "exists"}, nil
		}
		op, err := p.equality(t)
		if err != nil {
			return nil, err
		}
		v, err := p.value("a value")
		if err != nil {
			return nil, err
		}
		return Cond{Field: FieldAttr, Key: key, Op: op, Value: v.text}, nil
	case word == "list" || word == "domain":
		op, err := p.equality(t)
		if err != nil {
			return nil, err
		}
		v, err := p.value("a list slug")
		if err != nil {
			return nil, err
		}
		val := strings.ToLower(v.text)
		if word == "list" && !validator.IsSlug(val) {
			return nil, &Error{v.pos, fmt.Sprintf("%q is not a list slug (lower-case letters, digits and dashes)", v.text)}
		}
		if word == "domain" && !domainPattern.MatchString(val) {
			return nil, &Error{v.pos, fmt.Sprintf("%q is not a domain such as example.com", v.text)}
		}
		return Cond{Field: Field(word), Op: op, Value: val}, nil
	case word == "signup":
		switch {
		case p.keyword("before"), p.keyword("after"):
			op := strings.ToLower(p.toks[p.i-1].text)
			v, err := p.value("a date (YYYY-MM-DD)")
			if err != nil {
				return nil, err
			}
			d, err := time.Parse(time.DateOnly, v.text)
			if err != nil {
				return nil, &Error{v.pos, fmt.Sprintf("%q is not a date written as YYYY-MM-DD", v.text)}
			}
			return Cond{Field: FieldSignup, Op: op, Date: d}, nil
		case p.keyword("within"):
			n, err := p.days()
			if err != nil {
				return nil, err
			}
			return Cond{Field: FieldSignup, Op: "within", Days: n}, nil
		}
		n, _ := p.peek()
		return nil, &Error{n.pos, "after signup write before DATE, after DATE or within N days"}
	case word == "opened" || word == "clicked":
		if !p.keyword("within") {
			n, _ := p.peek()
			return nil, &Error{n.pos, fmt.Sprintf("after %s write within N days (or write never %s)", word, word)}
		}
		n, err := p.days()
		if err != nil {
			return nil, err
		}
		return Cond{Field: Field(word), Op: "within", Days: n}, nil
	case word == "never":
		switch {
		case p.keyword("opened"):
			return Cond{Field: FieldOpened, Op: "never"}, nil
		case p.keyword("clicked"):
			return Cond{Field: FieldClicked, Op: "never"}, nil
		}
		n, _ := p.peek()
		return nil, &Error{n.pos, "after never write opened or clicked"}
	}
	return nil, &Error{t.pos, fmt.Sprintf("unknown condition %q; conditions start with attr.NAME, list, domain, signup, opened, clicked or never", t.text)}
}

func (p *parser) equality(after token) (string, error) {
	t, ok := p.peek()
	if ok && !t.quoted && (t.text == "=" || t.text == "!=") {
		p.i++
		return t.text, nil
	}
	return "", &Error{t.pos, fmt.Sprintf("after %s write = or !=", after.text)}
}

func (p *parser) value(what string) (token, error) {
	t, ok := p.peek()
	if !ok || (!t.quoted && (t.text == "(" || t.text == ")" || t.text == "=" || t.text == "!=")) {
		return t, &Error{t.pos, "expected " + what}
	}
	p.i++
	return t, nil
}

func (p *parser) days() (int, error) {
	t, ok := p.peek()
	n, err := strconv.Atoi(t.text)
	if !ok || t.quoted || err != nil || n < 1 || n > MaxDays {
		return 0, &Error{t.pos, fmt.Sprintf("expected a number of days from 1 to %d", MaxDays)}
	}
	p.i++
	if !p.keyword("days") && !p.keyword("day") {
		u, _ := p.peek()
		return 0, &Error{u.pos, "write the number as N days"}
	}
	return n, nil
}

// Walk calls fn for every condition in n, left to right.
func Walk(n Node, fn func(Cond)) {
	switch n := n.(type) {
	case And:
		Walk(n.L, fn)
		Walk(n.R, fn)
	case Or:
		Walk(n.L, fn)
		Walk(n.R, fn)
	case Not:
		Walk(n.X, fn)
	case Cond:
		fn(n)
	}
}
