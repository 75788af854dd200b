package usage

import (
	"bytes"

	"github.com/switchyard-go/switchyard/provider"
)

// MaxRaw bounds the "usage" object a Scanner keeps: a real one is a few
// hundred bytes; a larger one is not usage and counts as none.
const MaxRaw = 4 << 10

// Scanner reads the top-level "usage" member of a JSON answer from its
// bytes as they pass, for an answer handed to the caller without being
// held whole (a pass-through body): write each chunk to it, in order, then
// call Usage. It keeps only the usage object (at most MaxRaw bytes) and a
// few bytes of state, whatever the size of the answer, and allocates
// nothing once that object's buffer has grown.
//
// It tracks strings, escapes and nesting, and does not check the grammar
// otherwise: the answer reaches the caller as sent, and usage informs
// accounting, it never fails a call. A body that is not a JSON object, or
// whose nesting goes wrong, has no usage; a key written with escapes
// ("us\u0061ge") is not recognised. When the key occurs more than once the
// last one counts, as in FromBody. The zero value is ready to use; a
// Scanner is not safe for concurrent use.
type Scanner struct {
	depth int  // nesting outside the current byte; 1 inside the top level
	str   bool // inside a string
	esc   bool // inside a string, just after a backslash
	bad   bool // the nesting went wrong: no usage

	key     bool    // the string being read is a top-level key
	wantKey bool    // at the top level, the next string is a key
	keyN    int     // bytes of the key so far
	keyBuf  [5]byte // its first bytes
	isUsage bool    // the last top-level key read was "usage"
	value   bool    // at the top level, the next value belongs to that key

	capture bool   // inside the "usage" object
	over    bool   // it outgrew MaxRaw
	buf     []byte // the object so far
	raw     []byte // the last complete one
}

// special marks the bytes that matter outside strings below the top
// level.
var special = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// Write scans p, the next bytes of the answer. It never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	if s.bad {
		return len(p), nil
	}
	capStart, keyStart := 0, 0
	i := 0
	for i < len(p) {
		if s.str {
			j, closed := s.skipString(p, i)
			if s.key {
				s.addKey(p[keyStart:j])
			}
			if !closed {
				break // the string goes on in the next chunk
			}
			s.str = false
			if s.key {
				s.key, s.wantKey = false, false
				s.isUsage = s.keyN == len("usage") && string(s.keyBuf[:]) == "usage"
			}
			i = j + 1
			continue
		}
		if s.depth >= 2 {
			for i < len(p) && !special[p[i]] {
				i++
			}
			if i == len(p) {
				break
			}
		}
		c := p[i]
		switch c {
		case '"':
			s.str = true
			if s.depth == 1 {
				if s.wantKey {
					s.key, s.keyN, keyStart = true, 0, i+1
				} else {
					s.startValue(false)
				}
			}
		case '{', '[':
			if s.depth == 1 && s.startValue(c == '{') {
				capStart = i
			}
			s.depth++
			if s.depth == 1 && c == '{' {
				s.wantKey = true
			}
		case '}', ']':
			s.depth--
			if s.depth < 0 {
				s.bad, s.capture = true, false
				return len(p), nil
			}
			if s.capture && s.depth == 1 {
				s.keep(p[capStart : i+1])
				s.capture = false
				if s.over {
					s.raw = s.raw[:0]
				} else {
					s.raw = append(s.raw[:0], s.buf...)
				}
			}
		case ',':
			if s.depth == 1 {
				s.wantKey, s.isUsage, s.value = true, false, false
			}
		case ':':
			if s.depth == 1 {
				s.value = true
			}
		case ' ', '\t', '\r', '\n':
		default:
			if s.depth == 1 {
				s.startValue(false)
			}
		}
		i++
	}
	if s.capture {
		s.keep(p[capStart:])
	}
	return len(p), nil
}

// skipString scans a string from p[i], just inside it, to its closing
// quote: it returns the quote's offset and true, or len(p) and false when
// the string goes on past p.
func (s *Scanner) skipString(p []byte, i int) (int, bool) {
	for i < len(p) {
		if s.esc {
			s.esc = false
			i++
			continue
		}
		q := bytes.IndexByte(p[i:], '"')
		end := len(p)
		if q >= 0 {
			end = i + q
		}
		if b := bytes.IndexByte(p[i:end], '\\'); b >= 0 {
			s.esc = true
			i += b + 1
			continue
		}
		if q < 0 {
			return len(p), false
		}
		return end, true
	}
	return len(p), false
}

// startValue notes that a top-level value begins (obj: with a '{'),
// reporting whether it is the "usage" object, which is then captured.
func (s *Scanner) startValue(obj bool) bool {
	if !s.value {
		return false
	}
	s.value = false
	if !s.isUsage {
		return false
	}
	if !obj {
		s.raw = s.raw[:0] // "usage": null counts as none
		return false
	}
	s.capture, s.over, s.buf = true, false, s.buf[:0]
	return true
}

// addKey adds b to the top-level key being read.
func (s *Scanner) addKey(b []byte) {
	if s.keyN < len(s.keyBuf) {
		copy(s.keyBuf[s.keyN:], b)
	}
	s.keyN += len(b)
}

// keep adds b to the usage object being captured, up to MaxRaw.
func (s *Scanner) keep(b []byte) {
	if s.over {
		return
	}
	if len(s.buf)+len(b) > MaxRaw {
		s.over = true
		return
	}
	s.buf = append(s.buf, b...)
}

// Usage returns the usage of the bytes written so far: the last complete
// top-level "usage" object's, zero when there is none.
func (s *Scanner) Usage() provider.Usage {
	if s.bad || len(s.raw) == 0 {
		return provider.Usage{}
	}
	return Parse(s.raw)
}
