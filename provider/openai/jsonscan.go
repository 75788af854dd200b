package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// This file holds a small scanner over the top level of a JSON object. The
// client uses it to rewrite "model" and "stream" in request bodies and to
// find "usage" and "error" in responses without decoding (or re-encoding)
// everything else: a multi-megabyte body with base64 images is walked with
// bytes.IndexByte inside strings and copied once.
//
// The scanner checks JSON's grammar (objects, arrays, separators, numbers,
// literals) but, for speed, not the inside of strings: control characters
// and invalid escapes pass, and are left for the upstream (or the caller)
// to reject.

var errNotObject = errors.New("not a JSON object")

// objIter iterates over the members of the JSON object in b.
type objIter struct {
	b   []byte
	i   int
	err error

	// The current member: its raw key (between the quotes), whether the
	// key holds escapes, and the span of its value.
	key        []byte
	keyEscaped bool
	ks, ke     int // the key's span, quotes included
	vs, ve     int

	first bool
	open  int // offset of the opening brace
}

// newObjIter starts iterating over the object in b, which may be
// surrounded by white space.
func newObjIter(b []byte) objIter {
	it := objIter{b: b, first: true}
	it.i = skipWS(b, 0)
	if it.i >= len(b) || b[it.i] != '{' {
		it.err = errNotObject
		return it
	}
	it.open = it.i
	it.i++
	return it
}

// next advances to the next member, reporting whether there is one. After
// it returns false, err is nil if the object ended well and nothing but
// white space follows it.
func (it *objIter) next() bool {
	if it.err != nil {
		return false
	}
	b := it.b
	i := skipWS(b, it.i)
	if i >= len(b) {
		it.err = errUnexpectedEnd
		return false
	}
	if b[i] == '}' {
		it.err = errDone
		if j := skipWS(b, i+1); j != len(b) {
			it.err = fmt.Errorf("trailing data at offset %d", j)
		}
		it.i = len(b)
		return false
	}
	if !it.first {
		if b[i] != ',' {
			it.err = syntaxAt(b, i, "',' or '}'")
			return false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			it.err = errUnexpectedEnd
			return false
		}
	}
	if b[i] != '"' {
		it.err = syntaxAt(b, i, "a string key")
		return false
	}
	end, esc, err := skipString(b, i)
	if err != nil {
		it.err = err
		return false
	}
	it.key, it.keyEscaped = b[i+1:end-1], esc
	it.ks, it.ke = i, end
	i = skipWS(b, end)
	if i >= len(b) || b[i] != ':' {
		it.err = syntaxAt(b, i, "':'")
		return false
	}
	i = skipWS(b, i+1)
	ve, err := skipValue(b, i)
	if err != nil {
		it.err = err
		return false
	}
	it.vs, it.ve = i, ve
	it.i = ve
	it.first = false
	return true
}

// errDone marks a cleanly finished iteration; done converts it to nil.
var errDone = errors.New("done")

// done returns the iteration's error: nil when the object ended well.
func (it *objIter) done() error {
	if it.err == errDone {
		return nil
	}
	if it.err == nil {
		return errors.New("iteration not finished")
	}
	return it.err
}

// keyIs reports whether the current key equals name, unescaping the key
// when it holds escapes ("mod\u0065l" is "model").
func (it *objIter) keyIs(name string) bool {
	if it.keyEscaped {
		return it.unescapedKey() == name
	}
	return string(it.key) == name
}

// keyString returns the current key, unescaped. It is small enough to be
// inlined, so that "switch it.keyString()" on a short key costs no
// allocation.
func (it *objIter) keyString() string {
	if it.keyEscaped {
		return it.unescapedKey()
	}
	return string(it.key)
}

// unescapedKey decodes a key that holds escapes; it is kept out of line so
// that keyIs and keyString stay cheap.
//
//go:noinline
func (it *objIter) unescapedKey() string {
	var s string
	if json.Unmarshal(it.b[it.ks:it.ke], &s) != nil {
		return ""
	}
	return s
}

// value returns the current member's raw value.
func (it *objIter) value() []byte { return it.b[it.vs:it.ve] }

var errUnexpectedEnd = errors.New("unexpected end of JSON input")

func syntaxAt(b []byte, i int, want string) error {
	if i >= len(b) {
		return errUnexpectedEnd
	}
	return fmt.Errorf("invalid character %q at offset %d, want %s", b[i], i, want)
}

func skipWS(b []byte, i int) int {
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

// skipString returns the offset just past the string starting at b[i]
// (which is '"'), and whether it holds escapes.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, errUnexpectedEnd
		}
		q := j + k
		// Count the backslashes before the quote.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if !escaped && bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
		}
		if n%2 == 0 {
			return q + 1, escaped, nil
		}
		j = q + 1
	}
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// skipValue returns the offset just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) { return skipNested(b, i, 0) }

func skipNested(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errUnexpectedEnd
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return 0, fmt.Errorf("nesting deeper than %d at offset %d", maxDepth, i)
		}
		return skipContainer(b, i, depth+1)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	}
	return 0, syntaxAt(b, i, "a value")
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, syntaxAt(b, i, lit)
	}
	return i + len(lit), nil
}

// skipNumber skips a number of JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		j = skipDigits(b, j)
	default:
		return 0, syntaxAt(b, j, "a digit")
	}
	if j < len(b) && b[j] == '.' {
		k := skipDigits(b, j+1)
		if k == j+1 {
			return 0, syntaxAt(b, k, "a digit")
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := skipDigits(b, j)
		if k == j {
			return 0, syntaxAt(b, k, "a digit")
		}
		j = k
	}
	return j, nil
}

func skipDigits(b []byte, j int) int {
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	return j
}

// skipContainer skips the object or array starting at b[i], checking its
// grammar: keys, colons, commas and nested values.
func skipContainer(b []byte, i, depth int) (int, error) {
	object := b[i] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, nil
	}
	for {
		if object {
			if i >= len(b) || b[i] != '"' {
				return 0, syntaxAt(b, i, "a string key")
			}
			end, _, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, syntaxAt(b, i, "':'")
			}
			i = skipWS(b, i+1)
		}
		end, err := skipNested(b, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return 0, errUnexpectedEnd
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, syntaxAt(b, i, "',' or a closing bracket")
		}
	}
}

// member returns the raw value of the top-level key name in the object b,
// or nil when it is absent. A duplicate key yields its last value, as
// encoding/json would.
func member(b []byte, name string) ([]byte, error) {
	var v []byte
	it := newObjIter(b)
	for it.next() {
		if it.keyIs(name) {
			v = it.value()
		}
	}
	return v, it.done()
}

// isNull reports whether a raw value is absent or null.
func isNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// bodyEdit is what rewriteBody found and changed.
type bodyEdit struct {
	// stream is the caller's "stream" value was true.
	stream bool
}

// maxEdits bounds the replacements rewriteBody makes in place; a body with
// more duplicate keys than that goes through the slow path.
const maxEdits = 8

type span struct {
	start, end int
	with       []byte
}

// rewriteBody returns body with every top-level "model" set to modelJSON (a
// JSON string; nil leaves "model" alone) and, when forceStream is set,
// "stream" set to true. Missing keys are added at the front of the object.
// Every other byte of the body is kept. It reports whether the caller's body
// asked for a stream.
func rewriteBody(body, modelJSON []byte, forceStream bool) ([]byte, bodyEdit, error) {
	var (
		edits      [maxEdits]span
		n          int
		info       bodyEdit
		haveModel  bool
		haveStream bool
	)
	it := newObjIter(body)
	for it.next() {
		switch {
		case modelJSON != nil && it.keyIs("model"):
			haveModel = true
			if n == maxEdits {
				return rewriteSlow(body, modelJSON, forceStream)
			}
			edits[n] = span{it.vs, it.ve, modelJSON}
			n++
		case it.keyIs("stream"):
			haveStream = true
			v := it.value()
			info.stream = string(v) == "true"
			if forceStream && !info.stream {
				if n == maxEdits {
					return rewriteSlow(body, modelJSON, forceStream)
				}
				edits[n] = span{it.vs, it.ve, litTrue}
				n++
			}
		}
	}
	if err := it.done(); err != nil {
		// The fast scanner refused the body: let encoding/json judge it,
		// so the caller gets its usual error message.
		return rewriteSlow(body, modelJSON, forceStream)
	}
	var prefix []byte
	if modelJSON != nil && !haveModel {
		prefix = append(prefix, `"model":`...)
		prefix = append(prefix, modelJSON...)
	}
	if forceStream && !haveStream {
		if prefix != nil {
			prefix = append(prefix, ',')
		}
		prefix = append(prefix, `"stream":true`...)
	}
	if n == 0 && prefix == nil {
		return body, info, nil
	}
	size := len(body) + len(prefix) + 1
	for _, e := range edits[:n] {
		size += len(e.with) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	pos := 0
	if prefix != nil {
		out = append(out, body[:it.open+1]...)
		out = append(out, prefix...)
		pos = it.open + 1
		if j := skipWS(body, pos); body[j] != '}' {
			out = append(out, ',')
		}
	}
	for _, e := range edits[:n] {
		out = append(out, body[pos:e.start]...)
		out = append(out, e.with...)
		pos = e.end
	}
	out = append(out, body[pos:]...)
	return out, info, nil
}

var litTrue = []byte("true")

// rewriteSlow is rewriteBody through encoding/json, for bodies the fast
// scanner cannot handle. Members keep their raw values but not their order.
func rewriteSlow(body, modelJSON []byte, forceStream bool) ([]byte, bodyEdit, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, bodyEdit{}, err
	}
	if m == nil {
		return nil, bodyEdit{}, errNotObject
	}
	info := bodyEdit{stream: string(bytes.TrimSpace(m["stream"])) == "true"}
	if modelJSON != nil {
		m["model"] = modelJSON
	}
	if forceStream {
		m["stream"] = litTrue
	}
	out, err := json.Marshal(m)
	return out, info, err
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}
