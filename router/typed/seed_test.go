package typed_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

// TestResponsesOnlyModelsThroughChat calls the seed's Responses-only models
// through chat completions with no prefix, as LiteLLM's completion() does:
// the calls go to /v1/responses (the fake, like OpenAI, refuses them on
// /chat/completions) and come back in chat shape, streaming too, with the
// tools and reasoning_effort object carried over.
func TestResponsesOnlyModelsThroughChat(t *testing.T) {
	srv := openaitest.NewServer()
	t.Cleanup(srv.Close)
	deps := []deployment.Config{
		{ModelName: "deep", Model: "o3-deep-research-2025-06-26", APIKey: "sk-d", BaseURL: srv.URL},
		{ModelName: "pro", Model: "gpt-5-pro", APIKey: "sk-p", BaseURL: srv.URL},
		{ModelName: "mini", Model: "gpt-4o-mini", APIKey: "sk-m", BaseURL: srv.URL},
	}
	r, err := router.New(router.Config{Deployments: deps}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()

	last := func(t *testing.T) openaitest.RecordedRequest {
		t.Helper()
		rr, ok := srv.LastRequest()
		if !ok {
			t.Fatal("the upstream got no request")
		}
		return rr
	}

	t.Run("o3-deep-research with its tools", func(t *testing.T) {
		body := `{"model":"deep","messages":[{"role":"user","content":"Research the economic impact of semaglutide"}],
			"tools":[{"type":"web_search_preview"},{"type":"code_interpreter","container":{"type":"auto"}}]}`
		res, err := r.Do(ctx, &provider.Request{Endpoint: provider.EndpointChat, Model: "deep", Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		rr := last(t)
		if rr.Path != "/v1/responses" || rr.Model != "o3-deep-research-2025-06-26" {
			t.Fatalf("upstream got %s for model %q, want /v1/responses", rr.Path, rr.Model)
		}
		var sent struct {
			Tools []map[string]any `json:"tools"`
		}
		if err := json.Unmarshal(rr.Body, &sent); err != nil || len(sent.Tools) != 2 || sent.Tools[0]["type"] != "web_search_preview" || sent.Tools[1]["type"] != "code_interpreter" {
			t.Errorf("tools sent upstream %v (%v), want web_search_preview and code_interpreter", sent.Tools, err)
		}
		var chat openai.ChatCompletion
		if err := json.Unmarshal(res.Body, &chat); err != nil || chat.Object != "chat.completion" || len(chat.Choices) != 1 || chat.Choices[0].Message.Content == "" {
			t.Fatalf("answer is not a chat completion: %s (%v)", res.Body, err)
		}
	})

	t.Run("gpt-5-pro with reasoning_effort as an object", func(t *testing.T) {
		resp, _, err := typed.Chat(ctx, r, openai.ChatCompletionNewParams{
			Model:    "pro",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the capital of France?")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content == "" {
			t.Error("empty answer")
		}
		body := `{"model":"pro","messages":[{"role":"user","content":"hi"}],"reasoning_effort":{"effort":"high","summary":"auto"}}`
		if _, err := r.Do(ctx, &provider.Request{Endpoint: provider.EndpointChat, Model: "pro", Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		rr := last(t)
		var sent struct {
			Reasoning map[string]string `json:"reasoning"`
		}
		if err := json.Unmarshal(rr.Body, &sent); err != nil || rr.Path != "/v1/responses" || sent.Reasoning["effort"] != "high" || sent.Reasoning["summary"] != "auto" {
			t.Errorf("upstream got %s with reasoning %v (%v), want /v1/responses with {effort: high, summary: auto}", rr.Path, sent.Reasoning, err)
		}
	})

	t.Run("streaming", func(t *testing.T) {
		s, err := typed.ChatStream(ctx, r, openai.ChatCompletionNewParams{
			Model:           "deep",
			Messages:        []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
			ReasoningEffort: shared.ReasoningEffortHigh,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var text strings.Builder
		chunks := 0
		for s.Next() {
			chunks++
			text.WriteString(s.Text())
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if rr := last(t); rr.Path != "/v1/responses" || !rr.Stream {
			t.Errorf("upstream got %s stream=%v, want a /v1/responses stream", rr.Path, rr.Stream)
		}
		if chunks == 0 || text.Len() == 0 {
			t.Errorf("%d chunks, text %q", chunks, text.String())
		}
	})

	t.Run("a chat model stays on chat completions", func(t *testing.T) {
		if _, _, err := typed.Chat(ctx, r, openai.ChatCompletionNewParams{
			Model:    "mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		}); err != nil {
			t.Fatal(err)
		}
		if rr := last(t); rr.Path != "/v1/chat/completions" {
			t.Errorf("upstream got %s, want /v1/chat/completions", rr.Path)
		}
	})
}

// TestForbiddenHeaderNames pins the seed's extra_headers={"AI-Resource
// Group": ...}: refused when the deployment is added, naming the header and
// the deployment, and per call before any attempt.
func TestForbiddenHeaderNames(t *testing.T) {
	srv := openaitest.NewServer()
	t.Cleanup(srv.Close)
	bad := deployment.Config{ModelName: "g", Model: "gpt-4o-mini", APIKey: "sk-a", BaseURL: srv.URL,
		ExtraHeaders: http.Header{"AI-Resource Group": {"rg-1"}}}
	_, err := router.New(router.Config{Deployments: []deployment.Config{bad}}, quiet())
	var ce *router.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Field, "ExtraHeaders[AI-Resource Group]") || !strings.Contains(err.Error(), `"g"`) || !strings.Contains(err.Error(), "space") {
		t.Fatalf("New with a header name holding a space: %v, want a ConfigError naming the header and the deployment", err)
	}

	good := bad
	good.ExtraHeaders = http.Header{"AI-Resource-Group": {"rg-1"}}
	r, err := router.New(router.Config{Deployments: []deployment.Config{good}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.AddDeployment(bad); !errors.As(err, &ce) || !strings.Contains(ce.Field, "AI-Resource Group") {
		t.Errorf("AddDeployment: %v, want a ConfigError naming the header", err)
	}

	before := srv.Stats().Requests
	body := []byte(`{"model":"g","messages":[{"role":"user","content":"hi"}]}`)
	for _, h := range []http.Header{{"X-Team Name": {"a"}}, {"X-Team": {"a\r\nX-Injected: 1"}}} {
		_, err := r.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: body}, router.WithHeader(h))
		var re *router.RequestError
		if !errors.As(err, &re) || re.Field != "header" {
			t.Errorf("call with header %q: %v, want a RequestError on the header", h, err)
		}
		_, err = r.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: body, Header: h})
		if !errors.As(err, &re) || re.Field != "header" {
			t.Errorf("request with header %q: %v, want a RequestError on the header", h, err)
		}
	}
	if got := srv.Stats().Requests - before; got != 0 {
		t.Errorf("the upstream got %d requests, want none", got)
	}
}
