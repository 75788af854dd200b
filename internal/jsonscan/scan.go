package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Mode says how closely strings are checked.
type Mode uint8

const (
	// Fast checks the grammar of everything outside strings, and finds the
	// end of a string by its closing quote without looking inside it:
	// control characters and malformed escapes pass.
	Fast Mode = iota
	// Strict also checks the inside of strings, as encoding/json does:
	// control characters and malformed escapes are errors; invalid UTF-8
	// is not.
	Strict
)

// MaxDepth bounds how deep arrays and objects may nest, as in
// encoding/json.
const MaxDepth = 10000

// SyntaxError is malformed JSON at an offset. Its message is worded as
// encoding/json's.
type SyntaxError struct {
	// Offset is the byte offset of the error (len of the input for an
	// unexpected end).
	Offset int
	msg    string
}

func (e *SyntaxError) Error() string { return e.msg + " at byte " + strconv.Itoa(e.Offset) }

// scanner skips JSON values in b.
type scanner struct {
	b      []byte
	strict bool
}

// fail is the error for the byte at i (or the end of input) in ctx, such
// as "looking for beginning of value".
func (s *scanner) fail(i int, ctx string) error {
	if i >= len(s.b) {
		return &SyntaxError{Offset: len(s.b), msg: "unexpected end of JSON input: " + ctx}
	}
	return &SyntaxError{Offset: i, msg: "invalid character " + quoteChar(s.b[i]) + " " + ctx}
}

// quoteChar formats c as encoding/json does in its messages.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return strconv.Quote(string(rune(c)))
	}
	return "'" + string(c) + "'"
}

// skipSpace returns the offset of the first byte at or after i that is
// not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value returns the offset just past the value at b[i]. depth is the
// number of containers around it.
func (s *scanner) value(i, depth int) (int, error) {
	if i >= len(s.b) {
		return 0, s.fail(i, "looking for beginning of value")
	}
	switch c := s.b[i]; {
	case c == '"':
		end, _, err := s.str(i)
		return end, err
	case c == '{' || c == '[':
		return s.container(i, depth+1)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	}
	return 0, s.fail(i, "looking for beginning of value")
}

// container skips the object or array at b[i], the depth-th level of
// nesting, checking its grammar.
func (s *scanner) container(i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, s.fail(i, "exceeded max depth")
	}
	b := s.b
	object := b[i] == '{'
	closing, after := byte(']'), "after array element"
	if object {
		closing, after = '}', "after object key:value pair"
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, nil
	}
	for {
		if object {
			if i >= len(b) || b[i] != '"' {
				return 0, s.fail(i, "looking for beginning of object key string")
			}
			end, _, err := s.str(i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, s.fail(i, "after object key")
			}
			i = skipSpace(b, i+1)
		}
		end, err := s.value(i, depth)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, s.fail(i, after)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, s.fail(i, after)
		}
	}
}

func (s *scanner) literal(i int, lit string) (int, error) {
	for j := 0; j < len(lit); j++ {
		if i >= len(s.b) || s.b[i] != lit[j] {
			return 0, s.fail(i, "in literal "+lit+" (expecting "+quoteChar(lit[j])+")")
		}
		i++
	}
	return i, nil
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number(i int) (int, error) {
	b := s.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, s.fail(i, "in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, s.fail(i, "after decimal point in numeric literal")
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, s.fail(i, "in exponent of numeric literal")
		}
		i = digits(b, i)
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// str returns the offset just past the string at b[i] (its opening quote)
// and whether it holds escapes.
func (s *scanner) str(i int) (end int, escaped bool, err error) {
	if s.strict {
		return s.strictStr(i)
	}
	b := s.b
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, escaped, s.fail(len(b), "in string literal")
		}
		q := j + k
		if !escaped && bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
		}
		// An odd number of backslashes before the quote escapes it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, escaped, nil
		}
		j = q + 1
	}
}

// Bit patterns for testing eight bytes at once (SWAR): a word holds a zero
// byte when (w - ones) &^ w & highs != 0, and a byte below n (n <= 128)
// when (w - ones*n) &^ w & highs != 0.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether none of the eight bytes in w is a quote, a
// backslash or a control character.
func plain8(w uint64) bool {
	q := w ^ (ones * '"')
	bs := w ^ (ones * '\\')
	return ((q-ones)&^q|(bs-ones)&^bs|(w-ones*0x20)&^w)&highs == 0
}

// strictStr is str checking control characters and escapes.
func (s *scanner) strictStr(i int) (end int, escaped bool, err error) {
	b := s.b
	j := i + 1
	for {
		for j+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		if j >= len(b) {
			return 0, escaped, s.fail(j, "in string literal")
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			j++
			if j >= len(b) {
				return 0, escaped, s.fail(j, "in string escape code")
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				j++
				for range 4 {
					if j >= len(b) || !isHex(b[j]) {
						return 0, escaped, s.fail(j, "in \\u hexadecimal character escape")
					}
					j++
				}
			default:
				return 0, escaped, s.fail(j, "in string escape code")
			}
		case c < 0x20:
			return 0, escaped, s.fail(j, "in string literal")
		default:
			j++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Valid checks that b holds one JSON value, surrounded by nothing but
// white space.
func Valid(b []byte, m Mode) error {
	s := scanner{b: b, strict: m == Strict}
	i := skipSpace(b, 0)
	end, err := s.value(i, 0)
	if err != nil {
		return err
	}
	if j := skipSpace(b, end); j < len(b) {
		return s.fail(j, "after top-level value")
	}
	return nil
}

// Find returns the raw value of the member name of the object b, nil when
// there is none. A key given more than once yields its last value, as
// encoding/json reads it.
func Find(b []byte, name string, m Mode) ([]byte, error) {
	var v []byte
	it := Members(b, m)
	for it.Next() {
		if it.KeyIs(name) {
			v = it.Value()
		}
	}
	return v, it.Err()
}

// Unquote decodes the JSON string v (quotes included), which a scan has
// checked. A string without escapes and of valid UTF-8 costs one copy;
// others go through encoding/json, which replaces invalid UTF-8 and lone
// surrogates with U+FFFD.
func Unquote(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		raw := v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(raw), nil
		}
	}
	return unquoteSlow(v)
}

// unquoteSlow is Unquote through encoding/json, kept out of line so that
// the fast path does not allocate the result variable.
//
//go:noinline
func unquoteSlow(v []byte) (string, error) {
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}
