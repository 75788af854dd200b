package openai

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

func TestResponsesToChat(t *testing.T) {
	tests := []struct {
		name, in, want string
		usage          provider.Usage
	}{
		{
			name: "text with reasoning and usage",
			in: `{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"completed","error":null,
				"incomplete_details":null,"service_tier":"default",
				"output":[
					{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Thinking A."},{"type":"summary_text","text":"Thinking B."}]},
					{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[
						{"type":"output_text","text":"Hello ","annotations":[]},{"type":"output_text","text":"<world>","annotations":[]}]}],
				"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":20,
					"output_tokens_details":{"reasoning_tokens":12},"total_tokens":30}}`,
			want: `{"id":"resp_1","object":"chat.completion","created":1700000000,"model":"gpt-5","service_tier":"default",
				"choices":[{"index":0,"message":{"role":"assistant","content":"Hello <world>","reasoning_content":"Thinking A.\n\nThinking B."},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,
					"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":12}}}`,
			usage: provider.Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30, CachedTokens: 4, ReasoningTokens: 12},
		},
		{
			name: "function calls",
			in: `{"id":"resp_2","created_at":1,"model":"m","status":"completed","output":[
				{"type":"function_call","id":"fc_1","call_id":"call_1","name":"a","arguments":"{\"x\":1}","status":"completed"},
				{"type":"web_search_call","id":"ws_1","status":"completed"},
				{"type":"function_call","id":"fc_2","call_id":"call_2","name":"b","arguments":"{}"}],
				"usage":{"input_tokens":1,"output_tokens":2}}`,
			want: `{"id":"resp_2","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
				"tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},
					{"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
				"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
			usage: provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
		},
		{
			name: "incomplete at max_output_tokens",
			in: `{"id":"r","created_at":2.0,"model":"m","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},
				"output":[{"type":"message","content":[{"type":"output_text","text":"cut"}]}]}`,
			want: `{"id":"r","object":"chat.completion","created":2,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"cut"},"finish_reason":"length"}]}`,
		},
		{
			name: "incomplete by content filter",
			in:   `{"id":"r","created_at":3,"model":"m","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}`,
			want: `{"id":"r","object":"chat.completion","created":3,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}]}`,
		},
		{
			name: "refusal, and reasoning_text when there is no summary",
			in: `{"id":"r","created_at":3,"model":"m","status":"completed","output":[
				{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"raw thought"}]},
				{"type":"message","content":[{"type":"refusal","refusal":"I can't."}]}]}`,
			want: `{"id":"r","object":"chat.completion","created":3,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"",
				"refusal":"I can't.","reasoning_content":"raw thought"},"finish_reason":"stop"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, usage, err := responsesToChat([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			bridgeJSONEqual(t, got, tt.want)
			if usage != tt.usage {
				t.Errorf("usage = %+v, want %+v", usage, tt.usage)
			}
		})
	}
}

func TestResponsesToChatErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		class     provider.Class
		code, msg string
	}{
		{"failed rate limited", `{"id":"r","status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"},"output":[]}`,
			provider.ClassRateLimited, "rate_limit_exceeded", "slow down"},
		{"failed server", `{"status":"failed","error":{"code":"server_error","message":"oops"}}`, provider.ClassServer, "server_error", "oops"},
		{"failed bad prompt", `{"status":"failed","error":{"code":"invalid_prompt","message":"no"}}`, provider.ClassBadRequest, "invalid_prompt", "no"},
		{"failed unknown code", `{"status":"failed","error":{"code":"weird","message":"?"}}`, provider.ClassServer, "weird", "?"},
		{"failed without error", `{"status":"failed"}`, provider.ClassServer, "", "openai: responses bridge: response failed"},
		{"error body", `{"error":{"message":"ctx","type":"invalid_request_error","code":"context_length_exceeded","param":"input"}}`,
			provider.ClassContextWindow, "context_length_exceeded", "ctx"},
		// A numeric code is a status, as for an HTTP error's body.
		{"error body numeric code", `{"error":{"message":"x","code":429}}`, provider.ClassRateLimited, "429", "x"},
		{"background", `{"status":"queued","output":[]}`, provider.ClassBadRequest, "", ""},
		{"cancelled", `{"status":"cancelled"}`, provider.ClassServer, "", ""},
		{"garbage", `<html>`, provider.ClassConnection, "", ""},
		{"null", `null`, provider.ClassConnection, "", ""},
		{"wrong types", `{"output":"x"}`, provider.ClassConnection, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := responsesToChat([]byte(tt.in))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *provider.Error, got %T %v (out %s)", err, err, out)
			}
			if pe.Class != tt.class {
				t.Errorf("class = %v, want %v", pe.Class, tt.class)
			}
			if pe.Code != tt.code {
				t.Errorf("code = %q, want %q", pe.Code, tt.code)
			}
			if tt.msg != "" && pe.Message != tt.msg {
				t.Errorf("message = %q, want %q", pe.Message, tt.msg)
			}
		})
	}
}

func FuzzResponsesToChat(f *testing.F) {
	for _, s := range []string{
		`{"id":"r","created_at":1,"model":"m","status":"completed","output":[{"type":"reasoning","summary":[{"text":"t"}]},{"type":"message","content":[{"type":"output_text","text":"x"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}],"usage":{"input_tokens":1,"output_tokens":2,"input_tokens_details":{"cached_tokens":0}}}`,
		`{"status":"failed","error":{"code":"server_error","message":"x"}}`,
		`{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}`,
		`{"created_at":1e30}`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, _, err := responsesToChat(body)
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *provider.Error: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
	})
}

func BenchmarkResponsesToChat(b *testing.B) {
	body := []byte(`{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"completed",` +
		`"output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Looking up the weather."}]},` +
		`{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"It is 12C and cloudy in Oslo.","annotations":[]}]},` +
		`{"type":"function_call","id":"fc_1","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Bergen\"}"}],` +
		`"usage":{"input_tokens":120,"input_tokens_details":{"cached_tokens":64},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":16},"total_tokens":160}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := responsesToChat(body); err != nil {
			b.Fatal(err)
		}
	}
}
