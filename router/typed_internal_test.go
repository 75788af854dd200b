package router

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// An answer that does not decode as the SDK's type is an error naming the
// deployment, with the Result. (Over HTTP the client already refuses a
// body that is not a JSON object, and the SDK's decoder is lenient.)
func TestTypedDecodeError(t *testing.T) {
	h := newHarness(t, Config{Deployments: []deployment.Config{dep("g", "a")}})
	h.client("a").setScript(step{body: `[1, 2]`})
	resp, res, err := h.r.Chat(t.Context(), openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err == nil || resp != nil || res == nil || res.Deployment != "a" || !strings.Contains(err.Error(), "router: chat: decode answer from a: ") {
		t.Fatalf("resp %v, result %v, err %v", resp, res, err)
	}
}

// A chunk that does not decode, or that the accumulator refuses, is
// reported by Chunk and Err; the stream goes on, and Completion holds the
// rest.
func TestTypedChatStreamBadChunks(t *testing.T) {
	h := newHarness(t, Config{Deployments: []deployment.Config{dep("g", "a")}})
	h.client("a").setScript(step{events: []string{
		`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`,
		`[1]`,
		`{"id":"c","choices":[{"index":200,"delta":{"content":"far"}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
	}})
	s, err := h.r.ChatStream(t.Context(), openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var texts []string
	var chunkErrs int
	for s.Next() {
		if _, err := s.Chunk(); err != nil {
			chunkErrs++
			if !strings.Contains(err.Error(), "router: chat stream: decode chunk from a: ") {
				t.Errorf("chunk error %v", err)
			}
		}
		texts = append(texts, s.Text())
	}
	if got := strings.Join(texts, "|"); got != "Hel||far|lo" || chunkErrs != 1 {
		t.Errorf("texts %q, %d chunk errors", got, chunkErrs)
	}
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "decode chunk from a") {
		t.Errorf("Err = %v, want the first bad chunk", err)
	}
	if c := s.Completion(); len(c.Choices) != 1 || c.Choices[0].Message.Content != "Hello" || c.Choices[0].FinishReason != "stop" {
		t.Errorf("accumulated %+v", c.Choices)
	}

	// Only the accumulator's refusal.
	h.client("a").setScript(step{events: []string{`{"id":"c","choices":[{"index":200,"delta":{"content":"far"}}]}`}})
	s2, err := h.r.ChatStream(t.Context(), openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for s2.Next() {
		if _, err := s2.Chunk(); err != nil {
			t.Errorf("chunk error %v for a chunk that decodes", err)
		}
	}
	if err := s2.Err(); err == nil || !strings.Contains(err.Error(), "does not fit the answer so far") {
		t.Errorf("Err = %v, want the refused chunk", err)
	}
}

func TestWithStreamTrue(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{}`, `{"stream":true}`},
		{`{ }`, `{"stream":true}`},
		{`{"model":"g"}`, `{"stream":true,"model":"g"}`},
		{"{\n \"model\": \"g\"}", `{"stream":true,"model": "g"}`},
	} {
		if got := string(withStreamTrue([]byte(tt.in))); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzJSONRequest sends arbitrary raw params (param.SetJSON) through
// jsonRequest: it never panics, and a request it builds is a JSON object
// with a model and "stream": true.
func FuzzJSONRequest(f *testing.F) {
	for _, s := range []string{`{}`, `{"model":"g"}`, `{"model":"g","stream":true}`, `{"model":"g","stream":false}`, ` {"model":1}`, `[1]`, `null`, `"x"`, `{"model":"g","stream":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p openai.ChatCompletionNewParams
		param.SetJSON(raw, &p)
		pr, err := jsonRequest("chat stream", provider.EndpointChat, p, p.Model, streamForced)
		if err != nil {
			return
		}
		var probe struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		if err := json.Unmarshal(pr.Body, &probe); err != nil || !json.Valid(pr.Body) {
			t.Fatalf("body %s: %v", pr.Body, err)
		}
		if !probe.Stream || probe.Model == "" || probe.Model != pr.Model || !pr.Stream {
			t.Fatalf("request %+v from %s", pr, raw)
		}
	})
}

// bodyUsage (respcache.go) reads a cached answer's usage, with the cached
// and reasoning token details, as provider.UsageBody did.
func TestBodyUsage(t *testing.T) {
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
		if got := bodyUsage([]byte(tt.body)); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.body, got, tt.want)
		}
	}
}
