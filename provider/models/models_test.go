package models

import (
	"math"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in         string
		name       string // matched entry
		window     int
		output     int
		in1M, out1 float64 // $ per million input / output tokens
		mode       Mode
	}{
		// Exact and prefixed OpenAI names.
		{"gpt-4o", "gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"openai/gpt-4o", "gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"openai/responses/gpt-5", "gpt-5", 272000, 128000, 1.25, 10, ModeChat},
		{"responses/gpt-5.1-codex", "gpt-5.1-codex", 272000, 128000, 1.25, 10, ModeResponses},
		{"gpt-4o-mini", "gpt-4o-mini", 128000, 16384, 0.15, 0.6, ModeChat},
		{"gpt-4.1", "gpt-4.1", 1047576, 32768, 2, 8, ModeChat},
		{"o3-mini", "o3-mini", 200000, 100000, 1.1, 4.4, ModeChat},
		{"gpt-4", "gpt-4", 8192, 4096, 30, 60, ModeChat},
		{"gpt-3.5-turbo", "gpt-3.5-turbo", 16385, 4096, 0.5, 1.5, ModeChat},
		{"text-embedding-3-small", "text-embedding-3-small", 8191, 0, 0.02, 0, ModeEmbedding},
		{"openai/text-embedding-3-large", "text-embedding-3-large", 8191, 0, 0.13, 0, ModeEmbedding},
		{"text-completion-openai/gpt-3.5-turbo-instruct", "gpt-3.5-turbo-instruct", 8192, 4096, 1.5, 2, ModeCompletion},
		{"davinci-002", "davinci-002", 16384, 4096, 2, 2, ModeCompletion},
		{"gpt-4o-transcribe", "gpt-4o-transcribe", 16000, 2000, 2.5, 10, ModeAudioTranscription},
		{"gpt-5-pro", "gpt-5-pro", 128000, 272000, 15, 120, ModeResponses}, // as the source file has it
		// Azure.
		{"azure/gpt-4o", "azure/gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"azure/gpt-4o-mini", "azure/gpt-4o-mini", 128000, 16384, 0.165, 0.66, ModeChat},
		{"azure/eu/gpt-4o-mini-2024-07-18", "azure/eu/gpt-4o-mini-2024-07-18", 128000, 16384, 0.165, 0.66, ModeChat},
		{"azure/eu/gpt-4o-mini", "azure/gpt-4o-mini", 128000, 16384, 0.165, 0.66, ModeChat}, // region falls back to azure/<x>
		{"azure/gpt-4o-2099-01-01", "azure/gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"azure/gpt-4o-search-preview", "gpt-4o-search-preview", 128000, 16384, 2.5, 10, ModeChat}, // then <x>
		{"azure/gpt-35-turbo-0613", "azure/gpt-35-turbo", 4097, 4096, 0.5, 1.5, ModeChat},
		{"azure_text/gpt-35-turbo-instruct", "azure/gpt-35-turbo-instruct", 4097, 0, 1.5, 2, ModeCompletion},
		{"azure/responses/gpt-5-codex", "azure/gpt-5-codex", 272000, 128000, 1.25, 10, ModeResponses},
		{"gpt-35-turbo", "gpt-3.5-turbo", 16385, 4096, 0.5, 1.5, ModeChat},
		// Fine-tuned: the fine-tuning price when listed, else the base.
		{"ft:gpt-4o-2024-08-06:my-org::abc123", "ft:gpt-4o-2024-08-06", 128000, 16384, 3.75, 15, ModeChat},
		{"ft:gpt-4o-2024-05-13:my-org::abc123", "gpt-4o-2024-05-13", 128000, 4096, 5, 15, ModeChat},
		{"ft:gpt-4o-2099-01-01:org:custom:id", "gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"openai/ft:gpt-3.5-turbo:org:suffix:id", "ft:gpt-3.5-turbo", 16385, 4096, 3, 6, ModeChat},
		// Unknown snapshots fall back to the base name.
		{"gpt-4o-2099-01-01", "gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
		{"gpt-4.1-mini-2030-12-31", "gpt-4.1-mini", 1047576, 32768, 0.4, 1.6, ModeChat},
		{"gpt-4-9999", "gpt-4", 8192, 4096, 30, 60, ModeChat},
		// Retired models from the supplement.
		{"o1-mini", "o1-mini", 128000, 65536, 1.1, 4.4, ModeChat},
		{"openai/o1-preview", "o1-preview", 128000, 32768, 15, 60, ModeChat},
		{"gpt-4-32k", "gpt-4-32k", 32768, 4096, 60, 120, ModeChat},
		{"gpt-4-32k-0613", "gpt-4-32k-0613", 32768, 4096, 60, 120, ModeChat},
		{"gpt-3.5-turbo-16k", "gpt-3.5-turbo-16k", 16385, 4096, 3, 4, ModeChat}, // generated
		{"gpt-3.5-turbo-0613", "gpt-3.5-turbo-0613", 4097, 4096, 1.5, 2, ModeChat},
		{"gpt-4.5-preview", "gpt-4.5-preview", 128000, 16384, 75, 150, ModeChat},
		// Case and spaces.
		{" GPT-4o ", "gpt-4o", 128000, 16384, 2.5, 10, ModeChat},
	}
	for _, tt := range tests {
		info, ok := Lookup(tt.in)
		if !ok {
			t.Errorf("Lookup(%q): not found", tt.in)
			continue
		}
		if info.Name != tt.name || info.MaxInputTokens != tt.window || info.MaxOutputTokens != tt.output ||
			!near(info.InputCostPerToken*1e6, tt.in1M) || !near(info.OutputCostPerToken*1e6, tt.out1) || info.Mode != tt.mode {
			t.Errorf("Lookup(%q) = %s %s window %d output %d $%g/$%g per M; want %s %s window %d output %d $%g/$%g",
				tt.in, info.Name, info.Mode, info.MaxInputTokens, info.MaxOutputTokens,
				info.InputCostPerToken*1e6, info.OutputCostPerToken*1e6,
				tt.name, tt.mode, tt.window, tt.output, tt.in1M, tt.out1)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{
		"", " ", "openai/", "azure/", "azure/my-gpt4o-deployment", "ft:", "ft::::", "claude-3-opus",
		"-2024-01-01", "-0613", "gpt-4o/extra", "dall-e-2", "tts-1", "openai/container", "sample_spec",
		"1024-x-1024/dall-e-2", "\xff\xfe", "azure//", "azure/eu/",
	} {
		if info, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", name, info)
		}
	}
}

func TestLookupFlags(t *testing.T) {
	info, _ := Lookup("gpt-4o")
	if !info.SupportsVision || !info.SupportsPDF || !info.SupportsFunctionCalling ||
		!info.SupportsParallelFunctionCalling || !info.SupportsResponseSchema || info.SupportsReasoning {
		t.Errorf("gpt-4o flags = %+v", info)
	}
	if info.CachedInputCostPerToken != 1.25e-06 || info.Supplement {
		t.Errorf("gpt-4o cached price %g, supplement %v", info.CachedInputCostPerToken, info.Supplement)
	}
	if o3, _ := Lookup("o3"); !o3.SupportsReasoning {
		t.Error("o3 does not support reasoning")
	}
	if w, _ := Lookup("whisper-1"); w.Mode != ModeAudioTranscription || w.InputCostPerSecond != 1e-4 {
		t.Errorf("whisper-1 = %+v", w)
	}
	if m, _ := Lookup("o1-mini"); !m.Supplement || !m.SupportsReasoning || m.SupportsFunctionCalling {
		t.Errorf("o1-mini = %+v", m)
	}
}

// TestSupplementNotGenerated fails when a regenerated table gains a model
// the supplement also lists: delete it from the supplement then.
func TestSupplementNotGenerated(t *testing.T) {
	for name, info := range supplement {
		if _, ok := table[name]; ok {
			t.Errorf("%s is in the generated table; remove it from the supplement", name)
		}
		if info.Name != name || !info.Supplement || info.MaxInputTokens <= 0 || info.InputCostPerToken <= 0 {
			t.Errorf("supplement entry %s is inconsistent: %+v", name, info)
		}
	}
}

func TestTableCoverage(t *testing.T) {
	counts := map[Mode]int{}
	for name, info := range table {
		counts[info.Mode]++
		if info.Name != name {
			t.Errorf("entry %s has Name %s", name, info.Name)
		}
		if info.InputCostPerToken < 0 || info.OutputCostPerToken < 0 || info.MaxInputTokens < 0 {
			t.Errorf("entry %s has negative values", name)
		}
	}
	for mode, atLeast := range map[Mode]int{ModeChat: 150, ModeResponses: 20, ModeEmbedding: 6, ModeCompletion: 6, ModeAudioTranscription: 6} {
		if counts[mode] < atLeast {
			t.Errorf("%d %s entries, want at least %d", counts[mode], mode, atLeast)
		}
	}
}

func TestCost(t *testing.T) {
	gpt4o, _ := Lookup("gpt-4o") // $2.50 in, $1.25 cached, $10 out per million
	gpt4, _ := Lookup("gpt-4")   // no cached price
	tests := []struct {
		name                       string
		info                       Info
		prompt, completion, cached int
		want                       float64
	}{
		{"plain", gpt4o, 1_000_000, 1_000_000, 0, 12.5},
		{"cached part", gpt4o, 1_000_000, 0, 400_000, 0.6*2.5 + 0.4*1.25},
		{"cached capped at prompt", gpt4o, 1000, 0, 5000, 1000 * 1.25e-6},
		{"no cached price: input price", gpt4, 1000, 100, 1000, 1000*3e-5 + 100*6e-5},
		{"negative counts are 0", gpt4o, -5, -5, -5, 0},
		{"zero info", Info{}, 1000, 1000, 0, 0},
	}
	for _, tt := range tests {
		if got := Cost(tt.info, tt.prompt, tt.completion, tt.cached); !near(got, tt.want) {
			t.Errorf("%s: Cost = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLookupExactAllocs(t *testing.T) {
	for _, name := range []string{"gpt-4o", "azure/gpt-4o", "o1-mini", "openai/gpt-4o"} {
		if n := testing.AllocsPerRun(100, func() { Lookup(name) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %v times", name, n)
		}
	}
}

func BenchmarkLookupExact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Lookup("gpt-4o-mini"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkLookupFallback(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Lookup("azure/ft:gpt-4o-2099-01-01:org::id"); !ok {
			b.Fatal("not found")
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"gpt-4o", "azure/eu/gpt-4o-2099-01-01", "ft:gpt-4o:a:b:c", "openai/responses/", "-0613", "azure_text/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, ok := Lookup(s)
		if ok && info.Name == "" {
			t.Fatalf("Lookup(%q) found an entry without a name", s)
		}
		if !ok && info != (Info{}) {
			t.Fatalf("Lookup(%q) returned data with ok=false", s)
		}
	})
}
