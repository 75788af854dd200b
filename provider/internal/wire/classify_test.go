package wire

import (
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		status         int
		typ, code, msg string
		want           provider.Class
	}{
		// The status decides.
		{429, "requests", "rate_limit_exceeded", "", provider.ClassRateLimited},
		{429, "insufficient_quota", "", "", provider.ClassQuotaExhausted},
		{429, "", "insufficient_quota", "", provider.ClassQuotaExhausted},
		{429, "", "billing_hard_limit_reached", "", provider.ClassQuotaExhausted},
		{401, "invalid_request_error", "invalid_api_key", "", provider.ClassAuth},
		{403, "", "", "", provider.ClassAuth},
		{404, "", "model_not_found", "", provider.ClassNotFound},
		{408, "", "", "", provider.ClassTimeout},
		{409, "", "", "", provider.ClassConflict},
		{500, "", "context_length_exceeded", "", provider.ClassServer},
		{503, "", "", "", provider.ClassServer},
		// A 4xx refined by code, type or message.
		{400, "invalid_request_error", "context_length_exceeded", "", provider.ClassContextWindow},
		{400, "context_length_exceeded", "invalid_request_error", "", provider.ClassContextWindow},
		{400, "invalid_request_error", "", "This model's maximum context length is 8192 tokens.", provider.ClassContextWindow},
		{422, "", "", "Too many tokens in prompt", provider.ClassContextWindow},
		{400, "", "string_above_max_length", "", provider.ClassContextWindow},
		{400, "", "content_filter", "", provider.ClassContentPolicy},
		{400, "", "image_content_policy_violation", "", provider.ClassContentPolicy},
		{400, "", "ResponsibleAIPolicyViolation", "The prompt triggered Azure OpenAI's content management policy.", provider.ClassContentPolicy},
		{400, "", "billing_hard_limit_reached", "", provider.ClassQuotaExhausted},
		{400, "", "rate_limit_exceeded", "", provider.ClassBadRequest}, // the status wins
		{413, "", "", "", provider.ClassBadRequest},
		// Inside a successful answer: a numeric code is a status.
		{200, "", "429", "Too many requests", provider.ClassRateLimited},
		{0, "", "503", "", provider.ClassServer},
		{0, "", "400", "maximum context length", provider.ClassContextWindow},
		// Else the code, then the type, then the message.
		{0, "", "rate_limit_exceeded", "", provider.ClassRateLimited},
		{0, "tokens", "", "", provider.ClassRateLimited},
		{0, "", "insufficient_quota", "", provider.ClassQuotaExhausted},
		{0, "", "context_length_exceeded", "", provider.ClassContextWindow},
		{0, "", "content_policy_violation", "", provider.ClassContentPolicy},
		{0, "", "invalid_api_key", "", provider.ClassAuth},
		{0, "authentication_error", "", "", provider.ClassAuth},
		{0, "", "model_not_found", "", provider.ClassNotFound},
		{0, "", "vector_store_timeout", "", provider.ClassTimeout},
		{0, "", "server_error", "", provider.ClassServer},
		{0, "server_error", "", "boom", provider.ClassServer},
		{0, "", "invalid_prompt", "", provider.ClassBadRequest},
		{0, "", "image_too_large", "", provider.ClassBadRequest},
		{0, "invalid_request_error", "", "", provider.ClassBadRequest},
		{0, "invalid_request_error", "", "Invalid 'input[0].content': string too long.", provider.ClassContextWindow},
		{0, "invalid_request_error", "rate_limit_exceeded", "", provider.ClassRateLimited},
		{0, "", "rate_limit_exceeded", "too many tokens per minute", provider.ClassRateLimited},
		{0, "", "weird", "", provider.ClassServer},
		{0, "", "", "", provider.ClassServer},
		{0, "", "", "content management policy", provider.ClassContentPolicy},
	}
	for _, tt := range tests {
		if got := Classify(tt.status, tt.typ, tt.code, tt.msg); got != tt.want {
			t.Errorf("Classify(%d, %q, %q, %q) = %v, want %v", tt.status, tt.typ, tt.code, tt.msg, got, tt.want)
		}
	}
}
