package usage

import (
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

func TestParseUsage(t *testing.T) {
	tests := []struct {
		raw  string
		want provider.Usage
	}{
		{`{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},` +
			`"completion_tokens_details":{"reasoning_tokens":2,"accepted_prediction_tokens":0}}`,
			provider.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17, CachedTokens: 4, ReasoningTokens: 2}},
		{`{"input_tokens":9,"output_tokens":30,"total_tokens":39,"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":20}}`,
			provider.Usage{PromptTokens: 9, CompletionTokens: 30, TotalTokens: 39, CachedTokens: 1, ReasoningTokens: 20}},
		{`{"prompt_tokens":2,"total_tokens":2}`, provider.Usage{PromptTokens: 2, TotalTokens: 2}},
		{`{"prompt_tokens":2,"completion_tokens":3}`, provider.Usage{PromptTokens: 2, CompletionTokens: 3, TotalTokens: 5}},
		{`{"type":"duration","seconds":12.5}`, provider.Usage{}},
		{`{"prompt_tokens":10.0,"completion_tokens":1e1}`, provider.Usage{PromptTokens: 10, CompletionTokens: 10, TotalTokens: 20}},
		{`{"prompt_tokens":-3,"completion_tokens":"7","total_tokens":null}`, provider.Usage{}},
		{`{"prompt_tokens":1.5}`, provider.Usage{}},
		{`{"prompt_t\u006fkens":4}`, provider.Usage{PromptTokens: 4, TotalTokens: 4}},
		{`{"prompt_tokens":4`, provider.Usage{}},
		{`null`, provider.Usage{}},
		{``, provider.Usage{}},
		{`[1]`, provider.Usage{}},
	}
	for _, tt := range tests {
		if got := Parse([]byte(tt.raw)); got != tt.want {
			t.Errorf("Parse(%s) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
	raw := []byte(tests[0].raw)
	if n := testing.AllocsPerRun(100, func() { Parse(raw) }); n != 0 {
		t.Errorf("parseUsage allocates %v times", n)
	}
}

func TestFromBody(t *testing.T) {
	for _, tt := range []struct {
		body string
		want provider.Usage
	}{
		{`{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}},
		{`{"usage":{"input_tokens":4,"output_tokens":5}}`, provider.Usage{PromptTokens: 4, CompletionTokens: 5, TotalTokens: 9}},
		{`{"usage":null}`, provider.Usage{}},
		{`{}`, provider.Usage{}},
		{`not json`, provider.Usage{}},
	} {
		if got := FromBody([]byte(tt.body)); got != tt.want {
			t.Errorf("FromBody(%s) = %+v, want %+v", tt.body, got, tt.want)
		}
	}
}
