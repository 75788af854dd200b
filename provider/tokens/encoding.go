package tokens

import (
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// Encoding names a tokenizer vocabulary.
type Encoding string

// The encodings OpenAI's current models use.
const (
	// O200kBase is the encoding of GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and
	// the o-series reasoning models.
	O200kBase Encoding = "o200k_base"
	// Cl100kBase is the encoding of GPT-4 (and GPT-4 Turbo), GPT-3.5 and
	// the text-embedding models.
	Cl100kBase Encoding = "cl100k_base"
)

// EncodingFor returns the encoding of model. It accepts LiteLLM-style names
// ("openai/gpt-4o", "azure/gpt-35-turbo", "ft:gpt-4-0613:org::id") and
// returns:
//
//   - Cl100kBase for gpt-4 and gpt-4-* (gpt-4-turbo, gpt-4-32k, ...),
//     gpt-3.5* and gpt-35* (Azure), text-embedding-*, davinci-002 and
//     babbage-002;
//   - O200kBase for everything else: gpt-4o*, chatgpt-4o*, gpt-4.1*,
//     gpt-4.5*, gpt-5*, o1*, o3*, o4*, the gpt-4o transcribe models, and
//     unknown models such as an Azure deployment's own name, since every
//     model OpenAI has released since May 2024 uses it.
func EncodingFor(model string) Encoding {
	m := strings.TrimSpace(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	m = strings.TrimPrefix(m, "ft:")
	m = strings.ToLower(m) // allocates only if m has upper case
	switch {
	case m == "gpt-4", strings.HasPrefix(m, "gpt-4-"),
		strings.HasPrefix(m, "gpt-3.5"), strings.HasPrefix(m, "gpt-35"),
		strings.HasPrefix(m, "text-embedding-"),
		strings.HasPrefix(m, "davinci-002"), strings.HasPrefix(m, "babbage-002"):
		return Cl100kBase
	}
	return O200kBase
}

// The encoders, built on first use: reading a vocabulary takes on the order
// of 100 ms and holds about 16 MB for o200k_base (half that for
// cl100k_base), counting the tokenizer module's own copy. An encoder is
// immutable once built.
var (
	o200k  = sync.OnceValue(func() *encoder { return newEncoder(tokenizer.O200kBase) })
	cl100k = sync.OnceValue(func() *encoder { return newEncoder(tokenizer.Cl100kBase) })
)

// encoder returns the loaded encoder of e; unknown encodings get o200k_base.
func (e Encoding) encoder() *encoder {
	if e == Cl100kBase {
		return cl100k()
	}
	return o200k()
}

// Count returns the number of tokens in text. Special tokens such as
// "<|endoftext|>" are counted as ordinary text, as OpenAI does for user
// content. Should the tokenizer be unavailable or fail (neither happens
// with the tokenizer module in go.mod), Count falls back to one token per
// four bytes.
func (e Encoding) Count(text string) int {
	if text == "" {
		return 0
	}
	return e.encoder().count(text)
}

// Count returns the number of tokens in text for model's encoding.
func Count(model, text string) int {
	return EncodingFor(model).Count(text)
}
