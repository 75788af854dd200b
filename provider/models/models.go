package models

import (
	"slices"
	"strings"
)

// Mode is the kind of API a model serves, as LiteLLM names it.
type Mode string

// The modes in the table.
const (
	ModeChat               Mode = "chat"                // POST /v1/chat/completions
	ModeResponses          Mode = "responses"           // POST /v1/responses only
	ModeEmbedding          Mode = "embedding"           // POST /v1/embeddings
	ModeCompletion         Mode = "completion"          // POST /v1/completions (legacy)
	ModeAudioTranscription Mode = "audio_transcription" // POST /v1/audio/transcriptions
	ModeModeration         Mode = "moderation"          // POST /v1/moderations
)

// Info describes one model. Zero numbers mean "not known" (a zero price is
// indistinguishable from free, which the table only says of moderation and
// of embeddings' output). Info is a plain value; copies are independent.
type Info struct {
	// Name is the table entry that matched, such as "gpt-4o" for a lookup
	// of "openai/gpt-4o-2099-01-01".
	Name string
	Mode Mode

	// MaxInputTokens is the context window: the most prompt tokens a
	// request may carry.
	MaxInputTokens int
	// MaxOutputTokens is the most tokens one completion may produce.
	MaxOutputTokens int

	// Prices in US dollars per token. CachedInputCostPerToken applies to
	// prompt tokens served from the prompt cache; 0 means no discount is
	// known, and cached tokens cost the input price.
	InputCostPerToken       float64
	OutputCostPerToken      float64
	CachedInputCostPerToken float64
	// InputCostPerSecond is the price per second of audio, for
	// transcription models priced by duration (whisper-1).
	InputCostPerSecond float64

	SupportsVision                  bool
	SupportsPDF                     bool
	SupportsFunctionCalling         bool
	SupportsParallelFunctionCalling bool
	SupportsReasoning               bool
	SupportsResponseSchema          bool

	// Supplement marks an entry from the hand-written table of retired
	// models that the generated table lacks.
	Supplement bool
}

// Lookup returns the catalogue entry for model, resolving LiteLLM-style
// names in this order:
//
//  1. the name as given (no allocation on a hit);
//  2. without a routing prefix: "openai/", "openai/responses/",
//     "responses/", "text-completion-openai/" ("azure_text/" reads as
//     "azure/");
//  3. for "azure/<x>" (or "azure/<region>/<x>"): "azure/<region>/<x>",
//     then "azure/<x>", then "<x>";
//  4. for a fine-tuned "ft:<base>:<org>:<suffix>:<id>": "ft:<base>" (the
//     fine-tuning price), then "<base>";
//  5. without a version suffix ("-2024-08-06" or "-0613"), so an unknown
//     snapshot such as "gpt-4o-2099-01-01" falls back to "gpt-4o";
//  6. Azure's "gpt-35-" spelling as "gpt-3.5-";
//  7. all of the above again in lower case.
//
// Unknown models, such as an Azure deployment's own name, return ok=false;
// configure their window and prices explicitly. Lookup is safe for
// concurrent use.
func Lookup(model string) (Info, bool) {
	if info, ok := exact(model); ok {
		return info, true
	}
	if info, ok := resolve(model); ok {
		return info, true
	}
	if lower := strings.ToLower(strings.TrimSpace(model)); lower != model {
		return resolve(lower)
	}
	return Info{}, false
}

// Cost returns the price in US dollars of a call that used promptTokens
// prompt tokens, cachedTokens of which were served from the prompt cache,
// and completionTokens completion tokens (reasoning tokens included).
// Negative counts count as 0, and cachedTokens is capped at promptTokens.
func Cost(info Info, promptTokens, completionTokens, cachedTokens int) float64 {
	prompt := max(promptTokens, 0)
	cached := min(max(cachedTokens, 0), prompt)
	cachedPrice := info.CachedInputCostPerToken
	if cachedPrice == 0 {
		cachedPrice = info.InputCostPerToken
	}
	return float64(prompt-cached)*info.InputCostPerToken +
		float64(cached)*cachedPrice +
		float64(max(completionTokens, 0))*info.OutputCostPerToken
}

// exact looks name up in the generated table, then in the supplement.
func exact(name string) (Info, bool) {
	if info, ok := table[name]; ok {
		return info, true
	}
	info, ok := supplement[name]
	return info, ok
}

// routingPrefixes are LiteLLM provider/route prefixes that do not change
// the model. Longer prefixes come first.
var routingPrefixes = [...]string{"openai/responses/", "text-completion-openai/", "openai/", "responses/"}

// resolve applies steps 2 to 6 of Lookup.
func resolve(name string) (Info, bool) {
	name = strings.TrimSpace(name)
	for stripped := true; stripped; {
		stripped = false
		for _, p := range routingPrefixes {
			if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
				name, stripped = rest, true
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "azure_text/"); ok {
		name = "azure/" + rest
	}

	// Azure: "azure/<x>" or "azure/<region>/<x>"; <x> may itself carry a
	// "responses/" route.
	var azure, region string
	if rest, ok := strings.CutPrefix(name, "azure/"); ok {
		azure, name = "azure/", rest
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			region, name = name[:i+1], name[i+1:]
		}
	}
	if name == "" {
		return Info{}, false
	}

	try := func(c string) (Info, bool) {
		if c == "" {
			return Info{}, false
		}
		if azure != "" {
			if region != "" {
				if info, ok := exact(azure + region + c); ok {
					return info, true
				}
			}
			if info, ok := exact(azure + c); ok {
				return info, true
			}
		}
		return exact(c)
	}

	var cands [6]string
	n := 0
	add := func(c string) {
		if c != "" && n < len(cands) && !slices.Contains(cands[:n], c) {
			cands[n] = c
			n++
		}
	}
	add(name)
	base := name
	if rest, ok := strings.CutPrefix(name, "ft:"); ok {
		base, _, _ = strings.Cut(rest, ":")
		add("ft:" + base)
		add(base)
	}
	add(stripVersion(base))
	if strings.HasPrefix(base, "gpt-35-") {
		dotted := "gpt-3.5-" + base[len("gpt-35-"):]
		add(dotted)
		add(stripVersion(dotted))
	}
	for _, c := range cands[:n] {
		if info, ok := try(c); ok {
			return info, true
		}
	}
	return Info{}, false
}

// stripVersion removes a trailing snapshot date, "-YYYY-MM-DD" or "-MMDD",
// from name, or returns "" when it has none.
func stripVersion(name string) string {
	if n := len(name); n > 11 && name[n-11] == '-' && name[n-6] == '-' && name[n-3] == '-' &&
		digits(name[n-10:n-6]) && digits(name[n-5:n-3]) && digits(name[n-2:]) {
		return name[:n-11]
	}
	if n := len(name); n > 5 && name[n-5] == '-' && digits(name[n-4:]) {
		return name[:n-5]
	}
	return ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
