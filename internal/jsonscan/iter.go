package jsonscan

import "encoding/json"

// Iter iterates over the members of a JSON object or the elements of a
// JSON array, checking the grammar of each value it passes over. Call Next
// until it returns false, then Err.
//
//	it := jsonscan.Members(body, jsonscan.Fast)
//	for it.Next() {
//		switch it.KeyString() {
//		case "model":
//			model = it.Value()
//		}
//	}
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	s     scanner
	i     int // where the next member's separator is looked for
	open  int // offset of the opening bracket
	n     int // members read so far
	array bool
	done  bool
	err   error

	// The current member: its raw key (between the quotes) and whether
	// the key holds escapes, the offset of its key's quote, where it
	// starts with its separator, and the span of its value.
	key        []byte
	keyEscaped bool
	ks, ms     int
	vs, ve     int
}

// Members returns an iterator over the members of the object in b, which
// may be surrounded by white space and nothing else.
func Members(b []byte, m Mode) Iter { return newIter(b, m, '{') }

// Elements returns an iterator over the elements of the array in b, which
// may be surrounded by white space and nothing else. Key is empty.
func Elements(b []byte, m Mode) Iter { return newIter(b, m, '[') }

func newIter(b []byte, m Mode, open byte) Iter {
	it := Iter{s: scanner{b: b, strict: m == Strict}, array: open == '['}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != open {
		what := "object"
		if it.array {
			what = "array"
		}
		it.done, it.err = true, it.s.fail(i, "looking for beginning of "+what)
		return it
	}
	it.open, it.i = i, i+1
	return it
}

// Next advances to the next member, reporting whether there is one. It
// returns false at the end of the object, or at the first syntax error;
// Err tells which.
func (it *Iter) Next() bool {
	if it.done {
		return false
	}
	s := &it.s
	b := s.b
	closing, after := byte('}'), "after object key:value pair"
	if it.array {
		closing, after = ']', "after array element"
	}
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == closing {
		it.done = true
		if j := skipSpace(b, i+1); j < len(b) {
			it.err = s.fail(j, "after top-level value")
		}
		return false
	}
	ms := i
	if it.n > 0 {
		if i >= len(b) || b[i] != ',' {
			return it.fail(s.fail(i, after))
		}
		i = skipSpace(b, i+1)
	}
	if !it.array {
		if i >= len(b) || b[i] != '"' {
			return it.fail(s.fail(i, "looking for beginning of object key string"))
		}
		end, esc, err := s.str(i)
		if err != nil {
			return it.fail(err)
		}
		it.key, it.keyEscaped, it.ks = b[i+1:end-1], esc, i
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return it.fail(s.fail(i, "after object key"))
		}
		i = skipSpace(b, i+1)
	} else {
		it.ks = i
	}
	ve, err := s.value(i, 1)
	if err != nil {
		return it.fail(err)
	}
	if it.n == 0 {
		ms = it.ks
	}
	it.ms, it.vs, it.ve, it.i = ms, i, ve, ve
	it.n++
	return true
}

func (it *Iter) fail(err error) bool {
	it.done, it.err = true, err
	return false
}

// Err returns the syntax error that stopped the iteration, nil when the
// object (or array) ended well with nothing but white space after it.
func (it *Iter) Err() error { return it.err }

// Key returns the current member's key as written, without its quotes
// and with its escapes.
func (it *Iter) Key() []byte { return it.key }

// KeyIs reports whether the current key equals name, unescaping the key
// when it holds escapes ("mod\u0065l" is "model").
func (it *Iter) KeyIs(name string) bool {
	if it.keyEscaped {
		return it.unescapedKey() == name
	}
	return string(it.key) == name
}

// KeyString returns the current key, unescaped. It is small enough to be
// inlined, so that "switch it.KeyString()" on a short key costs no
// allocation.
func (it *Iter) KeyString() string {
	if it.keyEscaped {
		return it.unescapedKey()
	}
	return string(it.key)
}

// unescapedKey decodes a key that holds escapes; it is kept out of line so
// that KeyIs and KeyString stay cheap.
//
//go:noinline
func (it *Iter) unescapedKey() string {
	var s string
	if json.Unmarshal(it.s.b[it.ks:it.ks+len(it.key)+2], &s) != nil {
		return ""
	}
	return s
}

// Value returns the current member's value as written.
func (it *Iter) Value() []byte { return it.s.b[it.vs:it.ve] }

// ValueSpan returns the offsets of the current value in the input.
func (it *Iter) ValueSpan() (start, end int) { return it.vs, it.ve }

// Span returns the offsets of the current member in the input, from the
// comma before it (or, for the first member, from its key) to the end of
// its value: cutting input[start:end] removes a member other than the
// first, whose following comma must go too.
func (it *Iter) Span() (start, end int) { return it.ms, it.ve }

// First reports whether the current member is the first one.
func (it *Iter) First() bool { return it.n == 1 }

// Open returns the offset of the object's opening brace (or the array's
// bracket) in the input.
func (it *Iter) Open() int { return it.open }
