package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateSample(t *testing.T) {
	src, err := os.ReadFile("testdata/litellm_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	code, err := generate(src, "dir/litellm_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	out := string(code)
	for _, want := range []string{
		"from litellm_sample.json; DO NOT EDIT",
		`"gpt-4o":`,
		`Name: "gpt-4o", Mode: ModeChat, MaxInputTokens: 128000, MaxOutputTokens: 16384, InputCostPerToken: 2.5e-06, OutputCostPerToken: 1e-05, CachedInputCostPerToken: 1.25e-06, SupportsVision: true, SupportsPDF: true, SupportsFunctionCalling: true}`,
		`"azure/o3":`,
		"SupportsReasoning: true",
		`Name: "whisper-1", Mode: ModeAudioTranscription, InputCostPerSecond: 0.0001}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"sample_spec", "dall-e-3", "openai/container", "claude-3-opus", "odd-shape"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output keeps %q", unwanted)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := generate([]byte("{"), "broken.json"); err == nil || !strings.HasPrefix(err.Error(), "gen: broken.json") {
		t.Errorf("malformed JSON: err = %v", err)
	}
	if _, err := generate([]byte(`{"claude": {"litellm_provider": "anthropic", "mode": "chat"}}`), "x.json"); err == nil {
		t.Error("no OpenAI entries: no error")
	}
}

// TestTableUpToDate regenerates the table from the data kept in the
// repository, as go generate does, into a temporary file, and compares it
// byte for byte with the committed table_gen.go.
func TestTableUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "table_gen.go")
	if err := run("data/openai_azure_models.json", out); err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, committed) {
		t.Error("table_gen.go is stale: run go generate ./provider/models")
	}
}
