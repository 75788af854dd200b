package respcache

import (
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// Entry.Usage reads a cached answer's usage, with the cached and
// reasoning token details.
func TestEntryUsage(t *testing.T) {
	for _, tt := range []struct {
		body string
		want provider.Usage
	}{
		{`{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}}}`, provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3, CachedTokens: 1, ReasoningTokens: 1}},
		{`{"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":null}}`, provider.Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}},
		{`{"usage":null}`, provider.Usage{}},
		{`{}`, provider.Usage{}},
		{`{"usage":{"total_tokens":"7"}}`, provider.Usage{}},
		{`not json`, provider.Usage{}},
	} {
		if got := (&Entry{Body: []byte(tt.body)}).Usage(); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.body, got, tt.want)
		}
	}
}
