package models

// supplement holds well-known models that the generated table lacks because
// LiteLLM's file dropped them after OpenAI retired them. Deployments still
// name them (Azure keeps some alive longer, and old configs live on), and a
// router that does not know their window would let every prompt through.
//
// HAND-WRITTEN, not generated: windows and list prices per token as OpenAI
// published them while the models were offered. Generated entries always
// win over these.
var supplement = map[string]Info{
	// o1-mini: 128k window, 65,536 output; price after the February 2025
	// cut (as LiteLLM listed it before removing the entry).
	"o1-mini":            retired("o1-mini", ModeChat, 128000, 65536, 1.1e-06, 4.4e-06, 5.5e-07, reasoning),
	"o1-mini-2024-09-12": retired("o1-mini-2024-09-12", ModeChat, 128000, 65536, 1.1e-06, 4.4e-06, 5.5e-07, reasoning),
	// o1-preview: 128k window, 32,768 output, $15 / $60 per million.
	"o1-preview":            retired("o1-preview", ModeChat, 128000, 32768, 1.5e-05, 6e-05, 7.5e-06, reasoning),
	"o1-preview-2024-09-12": retired("o1-preview-2024-09-12", ModeChat, 128000, 32768, 1.5e-05, 6e-05, 7.5e-06, reasoning),

	// GPT-4 32k: $60 / $120 per million.
	"gpt-4-32k":      retired("gpt-4-32k", ModeChat, 32768, 4096, 6e-05, 1.2e-04, 0, tools),
	"gpt-4-32k-0314": retired("gpt-4-32k-0314", ModeChat, 32768, 4096, 6e-05, 1.2e-04, 0, 0),
	"gpt-4-32k-0613": retired("gpt-4-32k-0613", ModeChat, 32768, 4096, 6e-05, 1.2e-04, 0, tools),
	// The first GPT-4 snapshot: 8k window, $30 / $60 per million.
	"gpt-4-0314": retired("gpt-4-0314", ModeChat, 8192, 4096, 3e-05, 6e-05, 0, 0),
	// GPT-4 Turbo with vision previews: 128k window, $10 / $30 per million.
	"gpt-4-vision-preview":      retired("gpt-4-vision-preview", ModeChat, 128000, 4096, 1e-05, 3e-05, 0, vision),
	"gpt-4-1106-vision-preview": retired("gpt-4-1106-vision-preview", ModeChat, 128000, 4096, 1e-05, 3e-05, 0, vision),
	// GPT-4.5 preview (OpenAI API; Azure's entry is generated): 128k
	// window, 16,384 output, $75 / $150 per million.
	"gpt-4.5-preview":            retired("gpt-4.5-preview", ModeChat, 128000, 16384, 7.5e-05, 1.5e-04, 3.75e-05, vision|tools|parallel),
	"gpt-4.5-preview-2025-02-27": retired("gpt-4.5-preview-2025-02-27", ModeChat, 128000, 16384, 7.5e-05, 1.5e-04, 3.75e-05, vision|tools|parallel),

	// GPT-3.5 Turbo snapshots with the original 4k window.
	"gpt-3.5-turbo-0301": retired("gpt-3.5-turbo-0301", ModeChat, 4097, 4096, 1.5e-06, 2e-06, 0, 0),
	"gpt-3.5-turbo-0613": retired("gpt-3.5-turbo-0613", ModeChat, 4097, 4096, 1.5e-06, 2e-06, 0, tools),
	// GPT-3.5 Turbo 16k snapshot: $3 / $4 per million.
	"gpt-3.5-turbo-16k-0613": retired("gpt-3.5-turbo-16k-0613", ModeChat, 16385, 4096, 3e-06, 4e-06, 0, tools),
}

// Capability sets for the supplement.
type caps uint8

const (
	vision    caps = 1 << iota // image input
	tools                      // function calling
	parallel                   // parallel function calls
	reasoning                  // reasoning model
)

func retired(name string, mode Mode, window, output int, in, out, cached float64, c caps) Info {
	return Info{
		Name:                            name,
		Mode:                            mode,
		MaxInputTokens:                  window,
		MaxOutputTokens:                 output,
		InputCostPerToken:               in,
		OutputCostPerToken:              out,
		CachedInputCostPerToken:         cached,
		SupportsVision:                  c&vision != 0,
		SupportsFunctionCalling:         c&tools != 0,
		SupportsParallelFunctionCalling: c&parallel != 0,
		SupportsReasoning:               c&reasoning != 0,
		Supplement:                      true,
	}
}
