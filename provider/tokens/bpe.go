package tokens

import (
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// encoder counts tokens for one encoding. It gives the same counts as
// tokenizer.Codec.Count (tests compare them on fixed texts and under
// fuzzing) but runs about twenty times faster and does not allocate: the
// split into pieces is hand-written instead of regexp2, and byte-pair
// merging looks ranks up in a map read once from the tokenizer's
// vocabulary.
//
// An encoder is immutable after newEncoder and safe for concurrent use.
type encoder struct {
	ranks map[string]uint32 // token bytes -> rank (= token id)
	o200k bool              // o200k_base split rules, else cl100k_base
	lib   tokenizer.Codec   // for text that is not valid UTF-8; nil if unavailable
}

// The vocabulary scan reads ids until maxTokenID, or until maxGap ids in a
// row have no token (past the end of the vocabulary; both encodings have
// at most a few unused ids in a row).
const (
	maxTokenID = 1 << 18
	maxGap     = 4096
)

// newEncoder builds the encoder of e from the tokenizer module's
// vocabulary. If that fails (it cannot with the module in go.mod), the
// encoder has no ranks and Count falls back to the library, or to an
// estimate.
func newEncoder(e tokenizer.Encoding) *encoder {
	enc := &encoder{o200k: e == tokenizer.O200kBase, lib: newCodec(e)}
	raw, err := tokenizer.Get(e) // a second codec: Decode must not replace partial UTF-8
	if err != nil {
		return enc
	}
	ranks := make(map[string]uint32, 200_000)
	ids := make([]uint, 1)
	for id, misses := 0, 0; id < maxTokenID && misses < maxGap; id++ {
		ids[0] = uint(id)
		s, err := raw.Decode(ids)
		if err != nil || s == "" {
			misses++ // a gap, a special token, or the end
			continue
		}
		ranks[s] = uint32(id)
		misses = 0
	}
	// Every single byte must be a token for byte-pair encoding to work.
	for b := range 256 {
		if _, ok := ranks[string([]byte{byte(b)})]; !ok {
			return enc
		}
	}
	enc.ranks = ranks
	return enc
}

// newCodec returns the library codec of e, set to count invalid UTF-8 as
// U+FFFD as tiktoken does (it sees Python strings), or nil.
func newCodec(e tokenizer.Encoding) tokenizer.Codec {
	c, err := tokenizer.Get(e)
	if err != nil {
		return nil
	}
	c.SetErrorMode(tokenizer.ErrorModeReplace)
	return c
}

// count returns the number of tokens in text.
func (e *encoder) count(text string) int {
	if e.ranks == nil || !utf8.ValidString(text) {
		if e.lib != nil {
			if n, err := e.lib.Count(text); err == nil {
				return n
			}
		}
		return (len(text) + 3) / 4
	}
	n := 0
	for i := 0; i < len(text); {
		end, emit := e.next(text, i)
		if emit {
			n += e.pieceTokens(text[i:end])
		}
		i = end
	}
	return n
}

// Character classes of the split patterns.
const (
	cLetter  = 1 << iota // \p{L}
	cNumber              // \p{N}
	cSpace               // \s (unicode.IsSpace)
	cUpper               // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k_base)
	cLower               // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k_base)
	cNewline             // \r or \n
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = classOfSlow(r)
	}
	return t
}()

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return classOfSlow(r)
}

func classOfSlow(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r): // Lu, Lt
			return cLetter | cUpper
		case unicode.IsLower(r): // Ll
			return cLetter | cLower
		default: // Lm, Lo
			return cLetter | cUpper | cLower
		}
	case unicode.Is(unicode.M, r):
		return cUpper | cLower
	case unicode.Is(unicode.N, r):
		return cNumber
	case r == '\r' || r == '\n':
		return cSpace | cNewline
	case unicode.IsSpace(r):
		return cSpace
	}
	return 0
}

// isPrefix reports [^\r\n\p{L}\p{N}]; isPunct reports [^\s\p{L}\p{N}].
func isPrefix(c uint8) bool { return c&(cLetter|cNumber|cNewline) == 0 }
func isPunct(c uint8) bool  { return c&(cLetter|cNumber|cSpace) == 0 }

// run returns the end of the run of runes from i whose class has any bit
// of mask.
func run(s string, i int, mask uint8) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if classOf(r)&mask == 0 {
			break
		}
		i += w
	}
	return i
}

// next returns the end of the piece that starts at i, following the
// encoding's split regexp with the semantics of a backtracking engine
// (the first alternative that matches wins; loops are greedy and give back
// as needed). emit is false for a rune no alternative matches, which the
// regexp skips; with these patterns every rune matches.
//
// o200k_base:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// cl100k_base:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func (e *encoder) next(s string, i int) (end int, emit bool) {
	r0, w0 := utf8.DecodeRuneInString(s[i:])
	c0 := classOf(r0)

	if e.o200k {
		// Alternative 1, with the optional prefix, then without it.
		if isPrefix(c0) {
			if end := upperLower(s, i+w0); end >= 0 {
				return contraction(s, end), true
			}
		}
		if end := upperLower(s, i); end >= 0 {
			return contraction(s, end), true
		}
		// Alternative 2, likewise.
		if isPrefix(c0) {
			if end := upperThenLower(s, i+w0); end >= 0 {
				return contraction(s, end), true
			}
		}
		if end := upperThenLower(s, i); end >= 0 {
			return contraction(s, end), true
		}
	} else {
		if r0 == '\'' {
			if end := contraction(s, i); end > i {
				return end, true
			}
		}
		if isPrefix(c0) {
			if end := run(s, i+w0, cLetter); end > i+w0 {
				return end, true
			}
		} else if c0&cLetter != 0 {
			return run(s, i, cLetter), true
		}
	}

	// \p{N}{1,3}
	if c0&cNumber != 0 {
		end := i + w0
		for k := 1; k < 3 && end < len(s); k++ {
			r, w := utf8.DecodeRuneInString(s[end:])
			if classOf(r)&cNumber == 0 {
				break
			}
			end += w
		}
		return end, true
	}

	// " ?[^\s\p{L}\p{N}]+[\r\n/]*" (cl100k_base: "[\r\n]*")
	j := i
	if r0 == ' ' {
		j++
	}
	if pe := runPunct(s, j); pe > j {
		for pe < len(s) && (s[pe] == '\r' || s[pe] == '\n' || (e.o200k && s[pe] == '/')) {
			pe++
		}
		return pe, true
	}

	if c0&cSpace == 0 {
		return i + w0, false
	}
	// Scan the whitespace run once for the last three alternatives.
	end, lastRuneStart, afterNewline := i, i, -1
	for end < len(s) {
		r, w := utf8.DecodeRuneInString(s[end:])
		c := classOf(r)
		if c&cSpace == 0 {
			break
		}
		lastRuneStart = end
		end += w
		if c&cNewline != 0 {
			afterNewline = end
		}
	}
	switch {
	case afterNewline >= 0: // \s*[\r\n]+
		return afterNewline, true
	case end == len(s): // \s+(?!\S) at the end of the text
		return end, true
	case lastRuneStart > i: // \s+(?!\S): all but the last space
		return lastRuneStart, true
	default: // \s+
		return end, true
	}
}

// runPunct returns the end of the run of [^\s\p{L}\p{N}] from i.
func runPunct(s string, i int) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isPunct(classOf(r)) {
			break
		}
		i += w
	}
	return i
}

// upperLower matches [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
// at j, returning its end or -1. The first loop is greedy; when the second
// cannot start after it, it gives runes back until one can, which ends the
// match just after the last rune of the first run that is in both classes.
func upperLower(s string, j int) int {
	k, lastLowerEnd := j, -1
	for k < len(s) {
		r, w := utf8.DecodeRuneInString(s[k:])
		c := classOf(r)
		if c&cUpper == 0 {
			break
		}
		k += w
		if c&cLower != 0 {
			lastLowerEnd = k
		}
	}
	if k < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[k:]); classOf(r)&cLower != 0 {
			return run(s, k, cLower)
		}
	}
	return lastLowerEnd
}

// upperThenLower matches [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
// at j, returning its end or -1.
func upperThenLower(s string, j int) int {
	k := run(s, j, cUpper)
	if k == j {
		return -1
	}
	return run(s, k, cLower)
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d)? at i, returning the
// end (i itself when there is none). Case folding follows the regexp
// engine: 's' also matches U+017F LATIN SMALL LETTER LONG S.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return i
	}
	lower := func(b byte) byte { return b | 0x20 }
	switch c := lower(s[i+1]); {
	case c == 's' || c == 't' || c == 'm' || c == 'd':
		return i + 2
	case c == 'r' || c == 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return i + 3
		}
	case c == 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return i + 3
		}
	}
	if len(s) >= i+3 && s[i+1:i+3] == "ſ" {
		return i + 3
	}
	return i
}

// pieceTokens returns the number of tokens byte-pair encoding gives piece.
func (e *encoder) pieceTokens(piece string) int {
	if _, ok := e.ranks[piece]; ok {
		return 1
	}
	if len(piece) <= smallPiece {
		return e.mergeSmall(piece)
	}
	return e.mergeLarge(piece)
}

// smallPiece is the longest piece merged with the quadratic scan on a
// stack buffer; longer pieces use the heap.
const smallPiece = 64

const noRank = math.MaxUint32

func (e *encoder) rank(s string) uint32 {
	if r, ok := e.ranks[s]; ok {
		return r
	}
	return noRank
}

// mergeSmall runs tiktoken's merge loop: repeatedly merge the adjacent
// pair whose merged bytes have the lowest rank, leftmost first, until no
// pair is a token. It returns the number of parts left.
func (e *encoder) mergeSmall(piece string) int {
	type part struct {
		off  int
		rank uint32 // rank of this part merged with the next one
	}
	var buf [smallPiece + 1]part
	parts := buf[:len(piece)+1]
	for i := range parts {
		parts[i] = part{i, noRank}
	}
	rankAt := func(i int) uint32 {
		if i+2 < len(parts) {
			return e.rank(piece[parts[i].off:parts[i+2].off])
		}
		return noRank
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = rankAt(i)
	}
	for len(parts) > 1 {
		minRank, minIdx := uint32(noRank), -1
		for i := range len(parts) - 1 {
			if parts[i].rank < minRank {
				minRank, minIdx = parts[i].rank, i
			}
		}
		if minIdx < 0 {
			break
		}
		parts = append(parts[:minIdx+1], parts[minIdx+2:]...)
		parts[minIdx].rank = rankAt(minIdx)
		if minIdx > 0 {
			parts[minIdx-1].rank = rankAt(minIdx - 1)
		}
	}
	return len(parts) - 1
}

// mergeLarge gives the same result as mergeSmall in O(n log n): part
// boundaries form a linked list, and candidate merges sit in a min-heap
// ordered by rank, then offset (leftmost first). Stale candidates are
// skipped when popped.
func (e *encoder) mergeLarge(piece string) int {
	n := len(piece)
	next := make([]int32, n+1) // next boundary, -1 at the end
	prev := make([]int32, n+1)
	rank := make([]uint32, n+1) // rank of merging boundary i's part with the following part
	for i := range next {
		next[i], prev[i], rank[i] = int32(i+1), int32(i-1), noRank
	}
	next[n] = -1

	rankOf := func(i int32) uint32 {
		j := next[i]
		if j < 0 {
			return noRank
		}
		k := next[j]
		if k < 0 {
			return noRank
		}
		return e.rank(piece[i:k])
	}
	h := make(mergeHeap, 0, n)
	for i := int32(0); int(i)+2 <= n; i++ {
		if r := rankOf(i); r != noRank {
			rank[i] = r
			h = append(h, candidate{r, i})
		}
	}
	h.init()
	parts := n
	for len(h) > 0 {
		top := h.pop()
		i := top.off
		if rank[i] != top.rank || next[i] < 0 {
			continue // stale
		}
		j := next[i]
		k := next[j]
		rank[j] = noRank
		next[i] = k
		if k >= 0 {
			prev[k] = i
		}
		parts--
		for _, b := range [2]int32{i, prev[i]} {
			if b < 0 {
				continue
			}
			rank[b] = rankOf(b)
			if rank[b] != noRank {
				h.push(candidate{rank[b], b})
			}
		}
	}
	return parts
}

type candidate struct {
	rank uint32
	off  int32
}

// mergeHeap is a binary min-heap of candidates by (rank, offset).
type mergeHeap []candidate

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].off < h[b].off
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) push(c candidate) {
	*h = append(*h, c)
	h.up(len(*h) - 1)
}

func (h *mergeHeap) pop() candidate {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
