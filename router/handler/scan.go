package handler

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file reads the few fields the handler needs from a JSON request body
// in one pass, checking the whole body's grammar on the way, without
// allocating: encoding/json would scan the body twice (once to check it,
// once to decode) at several nanoseconds a byte, which for a chat request
// carrying a few megabytes of base64 images is milliseconds.

// maxNesting bounds how deep arrays and objects may nest, as
// encoding/json does.
const maxNesting = 10000

// jsonSyntaxError is malformed JSON at an offset.
type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

// jsonTypeError is a field of the wrong JSON type.
type jsonTypeError struct {
	field, want, got string
}

// scanner walks a JSON document.
type scanner struct {
	b []byte
	i int
	// typeErr is the first field of the wrong type; it is reported only
	// when the document's grammar is right, as encoding/json does.
	typeErr *jsonTypeError
}

// scanFields reads "model", "stream" and "metadata.tags" from body into f,
// checking that body is one well-formed JSON object.
func scanFields(body []byte, f *fields) *apiError {
	s := scanner{b: body}
	if s.ws(); s.i == len(body) {
		return badRequest("", "invalid_json", "the request body is empty: expected a JSON object")
	}
	err := s.top(f)
	switch e := err.(type) {
	case nil:
	case *jsonSyntaxError:
		return badRequest("", "invalid_json", "malformed JSON body: "+e.Error())
	default:
		return badRequest("", "invalid_json", "malformed JSON body: "+err.Error())
	}
	if t := s.typeErr; t != nil {
		if t.field == "" {
			return badRequest("", "invalid_json", "the request body must be a JSON object, got "+t.got)
		}
		return badRequest(t.field, "invalid_type", fmt.Sprintf("invalid type for %q: expected %s, got %s", t.field, t.want, t.got))
	}
	return nil
}

func (s *scanner) fail(msg string) error {
	if s.i >= len(s.b) {
		return &jsonSyntaxError{off: len(s.b), msg: "unexpected end of JSON input: " + msg}
	}
	return &jsonSyntaxError{off: s.i, msg: fmt.Sprintf("invalid character %s %s", quoteChar(s.b[s.i]), msg)}
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

func (s *scanner) typeError(field, want string) {
	if s.typeErr == nil {
		s.typeErr = &jsonTypeError{field: field, want: want, got: s.kind()}
	}
}

// kind names the JSON type of the value at s.i.
func (s *scanner) kind() string {
	if s.i >= len(s.b) {
		return "nothing"
	}
	switch s.b[s.i] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// top reads the document: one object, then only white space.
func (s *scanner) top(f *fields) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("looking for beginning of value")
	}
	if s.b[s.i] != '{' {
		s.typeError("", "")
		if err := s.value(0); err != nil {
			return err
		}
	} else if err := s.object(0, func(key []byte) (bool, error) { return s.topMember(key, f) }); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.b) {
		return s.fail("after top-level value")
	}
	return nil
}

// topMember reads the value of the top-level member key when it is one
// the handler needs; handled false leaves it to be skipped.
func (s *scanner) topMember(key []byte, f *fields) (handled bool, err error) {
	switch string(key) {
	case "model":
		if s.i < len(s.b) && s.b[s.i] != '"' && s.b[s.i] != 'n' {
			s.typeError("model", "a string")
			return false, nil
		}
		f.Model, err = s.stringField("model")
		return true, err
	case "stream":
		switch {
		case s.literalAt("true"):
			f.Stream = true
		case s.literalAt("false"), s.literalAt("null"):
			f.Stream = false
		default:
			s.typeError("stream", "a boolean")
			return false, nil
		}
		return true, nil
	case "metadata":
		switch {
		case s.i < len(s.b) && s.b[s.i] == '{':
			return true, s.object(1, func(key []byte) (bool, error) {
				if string(key) != "tags" {
					return false, nil
				}
				tags, handled, err := s.stringList("metadata.tags")
				if handled && err == nil {
					if f.Metadata == nil {
						f.Metadata = &metadata{}
					}
					f.Metadata.Tags = tags
				}
				return handled, err
			})
		case s.literalAt("null"):
			return true, nil
		}
		s.typeError("metadata", "an object")
	}
	return false, nil
}

// literalAt consumes lit when it is at s.i.
func (s *scanner) literalAt(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// stringField reads a string or null (as "") at s.i, which the caller
// has checked.
func (s *scanner) stringField(field string) (string, error) {
	if s.literalAt("null") {
		return "", nil
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", s.fail("looking for beginning of " + field + " string")
	}
	start := s.i
	escaped, err := s.str()
	if err != nil {
		return "", err
	}
	if raw := s.b[start+1 : s.i-1]; !escaped && utf8.Valid(raw) {
		return string(raw), nil
	}
	var v string
	if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
		return "", &jsonSyntaxError{off: start, msg: err.Error()}
	}
	return v, nil
}

// stringList reads an array of strings (null reads as nil). handled is
// false when the value is of another type, which is then a type error.
func (s *scanner) stringList(field string) (list []string, handled bool, err error) {
	if s.literalAt("null") {
		return nil, true, nil
	}
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		s.typeError(field, "an array")
		return nil, false, nil
	}
	list = []string{}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return list, true, nil
	}
	for {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '"' {
			v, err := s.stringField(field)
			if err != nil {
				return nil, true, err
			}
			list = append(list, v)
		} else {
			if s.literalAt("null") {
				list = append(list, "") // as encoding/json reads it
			} else {
				s.typeError(field, "a string")
				if err := s.value(2); err != nil {
					return nil, true, err
				}
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return nil, true, s.fail("after array element")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return list, true, nil
		default:
			return nil, true, s.fail("after array element")
		}
	}
}

// object reads an object at s.i. For each member it calls member with the
// raw key (unescaped when it had escapes) and s.i at the value; member
// either reads the value (true) or leaves it to be skipped (false).
func (s *scanner) object(depth int, member func(key []byte) (bool, error)) error {
	if depth > maxNesting {
		return s.fail("exceeded max depth")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("looking for beginning of object key string")
		}
		ks := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.b[ks+1 : s.i-1]
		if escaped || !utf8.Valid(key) {
			var k string
			if json.Unmarshal(s.b[ks:s.i], &k) == nil {
				key = []byte(k)
			}
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("after object key")
		}
		s.i++
		s.ws()
		handled := false
		if member != nil {
			if handled, err = member(key); err != nil {
				return err
			}
		}
		if !handled {
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("after object key:value pair")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("after object key:value pair")
		}
	}
}

// value skips any value at s.i, checking its grammar.
func (s *scanner) value(depth int) error {
	if s.i >= len(s.b) {
		return s.fail("looking for beginning of value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		return s.object(depth, nil)
	case c == '[':
		return s.array(depth)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.fail("looking for beginning of value")
}

func (s *scanner) array(depth int) error {
	if depth > maxNesting {
		return s.fail("exceeded max depth")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("after array element")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("after array element")
		}
	}
}

func (s *scanner) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if s.i >= len(s.b) || s.b[s.i] != lit[j] {
			return s.fail("in literal " + lit + " (expecting " + quoteChar(lit[j]) + ")")
		}
		s.i++
	}
	return nil
}

// str skips a string at s.i (its opening quote), reporting whether it
// holds escapes. Control characters and malformed escapes are errors.
func (s *scanner) str() (escaped bool, err error) {
	s.i++ // '"'
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return escaped, s.fail("in string escape code")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return escaped, s.fail("in \\u hexadecimal character escape")
					}
					s.i++
				}
			default:
				return escaped, s.fail("in string escape code")
			}
		case c < 0x20:
			return escaped, s.fail("in string literal")
		default:
			s.i++
		}
	}
	return escaped, s.fail("in string literal")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return s.fail("in numeric literal")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
			return s.fail("after decimal point in numeric literal")
		}
		s.digits()
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
			return s.fail("in exponent of numeric literal")
		}
		s.digits()
	}
	return nil
}

func (s *scanner) digits() {
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
}
