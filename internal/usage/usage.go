// Package usage reads the token usage of OpenAI-shaped answers (chat,
// completions, embeddings, Responses, transcriptions) without decoding
// them, for every part of the library that needs it: the OpenAI client as
// answers and streams arrive, and the response cache when it answers from
// a stored body.
package usage

import (
	"strconv"

	"github.com/switchyard-go/switchyard/internal/jsonscan"
	"github.com/switchyard-go/switchyard/provider"
)

// FromBody reads the "usage" member of an answer's body; zero when the body
// has none or is not a JSON object.
func FromBody(body []byte) provider.Usage {
	raw, err := jsonscan.Find(body, "usage", jsonscan.Fast)
	if err != nil {
		return provider.Usage{}
	}
	return Parse(raw)
}

// Parse reads a raw usage object: chat, completions and embeddings
// count prompt/completion tokens, the Responses API (and new transcription
// models) input/output tokens, with cached and reasoning tokens in their
// *_details objects. It walks the object with the scanner rather than
// encoding/json, so reading usage costs no allocation. Absent, null or
// malformed usage is zero: usage informs accounting, it never fails a
// call.
func Parse(raw []byte) provider.Usage {
	if len(raw) == 0 || raw[0] != '{' {
		return provider.Usage{}
	}
	var prompt, completion, input, output, total, cachedP, cachedI, reasonC, reasonO int
	it := jsonscan.Members(raw, jsonscan.Fast)
	for it.Next() {
		v := it.Value()
		switch it.KeyString() {
		case "prompt_tokens":
			prompt = jsonInt(v)
		case "completion_tokens":
			completion = jsonInt(v)
		case "input_tokens":
			input = jsonInt(v)
		case "output_tokens":
			output = jsonInt(v)
		case "total_tokens":
			total = jsonInt(v)
		case "prompt_tokens_details":
			cachedP = detailInt(v, "cached_tokens")
		case "input_tokens_details":
			cachedI = detailInt(v, "cached_tokens")
		case "completion_tokens_details":
			reasonC = detailInt(v, "reasoning_tokens")
		case "output_tokens_details":
			reasonO = detailInt(v, "reasoning_tokens")
		}
	}
	if it.Err() != nil {
		return provider.Usage{}
	}
	u := provider.Usage{
		PromptTokens:     prompt + input,
		CompletionTokens: completion + output,
		TotalTokens:      total,
		CachedTokens:     cachedP + cachedI,
		ReasoningTokens:  reasonC + reasonO,
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u
}

// detailInt returns the integer member name of the object v, 0 if absent.
func detailInt(v []byte, name string) int {
	n := 0
	it := jsonscan.Members(v, jsonscan.Fast)
	for it.Next() {
		if it.KeyIs(name) {
			n = jsonInt(it.Value())
		}
	}
	return n
}

// jsonInt reads a JSON number as a non-negative int: digits, or a number
// with a fraction or exponent when it is integral ("12.0", "1e3"). Anything
// else is 0.
func jsonInt(v []byte) int {
	n := 0
	for i, c := range v {
		if c < '0' || c > '9' {
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || f < 0 || f > 1<<53 || f != float64(int64(f)) || i == 0 && c != '.' && c == '-' {
				return 0
			}
			return int(f)
		}
		n = n*10 + int(c-'0')
		if n > 1<<53 {
			return 0
		}
	}
	return n
}
