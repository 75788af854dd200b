package tokens

import (
	"slices"

	"github.com/dlclark/regexp2/v2"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// differential texts exercise every alternative of both split patterns
// and both merge paths.
var differential = []string{
	"hello world", "Hello World", "HELLO WORLD", "HelloWorld", "helloWORLD", "ABCdef", "abcDEF",
	"don't", "DON'T", "y'all'll've", "it'S", "'s", "''", "'", "'ſ", "x'ſ", "I'M", "we'RE", "you'Ve", "he'D", "'ll'", "'l",
	"ǅemal ǈ ǋ", "ʰʱʲ Aʰ AʰB aʰB ʰA", "é é É", "नमस्ते दुनिया", "ไทย ภาษา", "日本語のテキスト。", "한국어 텍스트",
	"مرحبا بالعالم", "Привет, мир!", "Ελληνικά", "ﬁ ﬂ", "ǲ", "ÀÉÎõü", "ß ẞ",
	"1234567890", "1 22 333 4444", "١٢٣٤٥", "²³ ½ Ⅻ ⅻ", "１２３", "v1.2.3", "3.14159", "-42", "1e10",
	"  leading", "trailing  ", "a  b   c", "\t\ttabs", "\n", "\r\n", "\n\n\n", " \n ", "a\n\nb", "a \n \n b", "\r\n\r\n  x",
	"x\u00a0y", "x\u3000y", "x\u2028y", "\u0085", "\v\f", " ", "  ", "   ",
	"!!!", "?!", " ...", "...\n", "a/b/c", "http://example.com/path?q=1&r=2#frag", "/usr/local/bin\n/", "//\n//",
	"{\"key\": [1, 2, {\"x\": null}]}", "func main() {\n\tfmt.Println(\"hi\")\n}\n", "<div class=\"a\">x</div>",
	"😀😃😄 👍🏽 👨‍👩‍👧", "©®™", "$100.00 €50", "@user #tag", "a_b_c", "snake_case_Name", "camelCaseName",
	"\x00\x01\x1f", "\u200b\u200d", "\ufeffBOM", "\U0001F600x",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("a", 97), strings.Repeat("a", 1000),
	strings.Repeat("ab", 300), strings.Repeat("xyzq", 80), strings.Repeat("!", 200), strings.Repeat(" ", 300) + "x",
	strings.Repeat("日本", 100), strings.Repeat("\n", 50) + "x",
	"aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCBkYXRhIHdpdGggbm8gc3BhY2VzIGF0IGFsbCBzbyBpdCBpcyBvbmUgbG9uZyBwaWVjZQ==",
	cookbookBody,
}

// The split patterns, as the tokenizer module compiles them. Prefixed with
// an empty group, they miss the module's registered code-generated engines
// and run on regexp2's backtracking interpreter, the reference for the
// pattern's meaning. The generated engine departs from it twice: it
// backtracks \s*[\r\n]+ to the first newline instead of the last, so it
// splits "\n \n" in two where tiktoken keeps one piece, and its ASCII
// table leaves DEL (U+007F) out of [^\s\p{L}\p{N}], so it drops DEL
// without a token. The hand-written split follows the pattern.
var (
	o200kPattern  = regexp2.MustCompile(`(?:)[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`, regexp2.None)
	cl100kPattern = regexp2.MustCompile(`(?:)(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, regexp2.None)
)

// referenceSplit returns the pieces the interpreted pattern finds.
func referenceSplit(t testing.TB, enc Encoding, s string) []string {
	re := o200kPattern
	if enc == Cl100kBase {
		re = cl100kPattern
	}
	var pieces []string
	m, err := re.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
		pieces = append(pieces, m.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return pieces
}

// split returns the pieces the hand-written split finds.
func split(e *encoder, s string) []string {
	var pieces []string
	for i := 0; i < len(s); {
		end, emit := e.next(s, i)
		if emit {
			pieces = append(pieces, s[i:end])
		}
		i = end
	}
	return pieces
}

// checkText compares, for one text, the split with the reference pattern
// and the merge of each piece with naiveMerge.
func checkText(t testing.TB, enc Encoding, s string) {
	t.Helper()
	e := enc.encoder()
	got, want := split(e, s), referenceSplit(t, enc, s)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: split(%q) = %q, pattern gives %q", enc, s, got, want)
	}
	for _, p := range got {
		if n, ref := e.pieceTokens(p), naiveMerge(e, p); n != ref {
			t.Fatalf("%s: piece %q merges to %d tokens, naive merge %d", enc, p, n, ref)
		}
	}
}

// naiveMerge is byte-pair encoding at its plainest: merge the leftmost
// lowest-ranked adjacent pair until none is a token.
func naiveMerge(e *encoder, piece string) int {
	parts := make([]string, len(piece))
	for i := 0; i < len(piece); i++ {
		parts[i] = piece[i : i+1]
	}
	for {
		best, at := uint32(noRank), -1
		for i := 0; i+1 < len(parts); i++ {
			if r, ok := e.ranks[parts[i]+parts[i+1]]; ok && r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			return len(parts)
		}
		parts[at] += parts[at+1]
		parts = slices.Delete(parts, at+1, at+2)
	}
}

// TestPiecesMatchLibrary checks the ranks against the library's own
// byte-pair encoding, piece by piece. Whitespace pieces are left out: the
// library's generated engine would split some of them again (see above),
// and it skips DEL (U+007F) altogether.
func TestPiecesMatchLibrary(t *testing.T) {
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		e := enc.encoder()
		for _, s := range differential {
			for _, p := range split(e, s) {
				if strings.TrimSpace(p) == "" || strings.ContainsRune(p, 0x7f) {
					continue
				}
				if n, ref := e.pieceTokens(p), must(e.lib.Count(p)); n != ref {
					t.Errorf("%s: piece %q merges to %d tokens, library %d", enc, p, n, ref)
				}
			}
		}
	}
}

func TestEncoderMatchesReference(t *testing.T) {
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		if e := enc.encoder(); e.ranks == nil || e.lib == nil {
			t.Fatalf("%s: encoder not built", enc)
		}
		for _, s := range differential {
			checkText(t, enc, s)
		}
	}
}

// TestEncoderMatchesLibrary compares whole counts with the library on
// texts without a whitespace run holding two separate newlines.
func TestEncoderMatchesLibrary(t *testing.T) {
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		e := enc.encoder()
		for _, s := range []string{prompt1KB, cookbookBody, "hello world", "a\n\nb", "func f() {\n\treturn 1\n}\n", "日本語 text, mixed: 42!"} {
			want, _ := e.lib.Count(s)
			if got := e.count(s); got != want {
				t.Errorf("%s: count(%q) = %d, library %d", enc, s, got, want)
			}
		}
		// Where the library's engine splits differently, the counts differ
		// by the extra piece.
		if got, lib := e.count("a \n \n b"), must(e.lib.Count("a \n \n b")); got != 3 || lib != 4 {
			t.Errorf("%s: \"a \\n \\n b\" counts %d (library %d); want 3 and 4", enc, got, lib)
		}
	}
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}

// TestEncoderMatchesReferenceRandom checks random mixtures of the
// characters that matter to the split rules.
func TestEncoderMatchesReferenceRandom(t *testing.T) {
	alphabet := []rune("aZ ǅʰ\u0301é1١²!'/sSſlLdDrReEvVmM\r\n\t\u00a0\u3000日.,-_😀")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		for range 1000 {
			n := rng.IntN(40)
			var b strings.Builder
			for range n {
				b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			checkText(t, enc, b.String())
		}
	}
}

func TestVocabularyComplete(t *testing.T) {
	// Ids 0..199997 (o200k_base) and 0..100255 (cl100k_base) are the
	// ordinary tokens; the special tokens are not merged into text.
	for enc, want := range map[Encoding]int{O200kBase: 199998, Cl100kBase: 100256} {
		e := enc.encoder()
		if len(e.ranks) != want {
			t.Errorf("%s: %d ranks, want %d", enc, len(e.ranks), want)
		}
		for tok, id := range e.ranks {
			if int(id) >= want {
				t.Errorf("%s: token %q has id %d", enc, tok, id)
				break
			}
		}
	}
}

func TestEncoderInvalidUTF8(t *testing.T) {
	// Invalid UTF-8 goes to the library, which counts it as U+FFFD.
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		if got, want := enc.Count("a\xffb"), enc.Count("a\uFFFDb"); got != want {
			t.Errorf("%s: invalid UTF-8 counted %d, U+FFFD %d", enc, got, want)
		}
	}
}

func TestCountAllocs(t *testing.T) {
	O200kBase.Count("warm up")
	Cl100kBase.Count("warm up")
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		if n := testing.AllocsPerRun(20, func() { enc.Count(prompt1KB) }); n != 0 {
			t.Errorf("%s.Count allocates %v times on 1 KB of prose", enc, n)
		}
	}
}

func FuzzEncoderMatchesReference(f *testing.F) {
	for _, s := range differential[:60] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // counted by the library
		}
		checkText(t, O200kBase, s)
		checkText(t, Cl100kBase, s)
	})
}

func BenchmarkCount1KBLibrary(b *testing.B) {
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		b.Run(string(enc), func(b *testing.B) {
			lib := enc.encoder().lib
			b.SetBytes(int64(len(prompt1KB)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = lib.Count(prompt1KB)
			}
		})
	}
}
