package openaitest

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/provider/models"
)

// SystemFingerprint is the system_fingerprint of every chat and completion
// answer.
const SystemFingerprint = "fp_openaitest"

type chatResponse struct {
	ID                  string          `json:"id"`
	Object              string          `json:"object"`
	Created             int64           `json:"created"`
	Model               string          `json:"model"`
	Choices             []chatChoice    `json:"choices"`
	Usage               *chatUsage      `json:"usage"`
	SystemFingerprint   string          `json:"system_fingerprint"`
	ServiceTier         string          `json:"service_tier"`
	PromptFilterResults json.RawMessage `json:"prompt_filter_results,omitempty"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      chatOutMessage  `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type chatOutMessage struct {
	Role                   string          `json:"role"`
	Content                *string         `json:"content"`
	Refusal                *string         `json:"refusal"`
	ReasoningContent       string          `json:"reasoning_content,omitempty"`
	ToolCalls              []toolCallJSON  `json:"tool_calls,omitempty"`
	Annotations            []struct{}      `json:"annotations"`
	ProviderSpecificFields json.RawMessage `json:"provider_specific_fields"`
}

type toolCallJSON struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function functionJSON `json:"function"`
}

type functionJSON struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type chatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []chunkChoice   `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int             `json:"index"`
	Delta        chunkDelta      `json:"delta"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type chunkDelta struct {
	Role             string         `json:"role,omitempty"`
	Content          *string        `json:"content,omitempty"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallJSON `json:"tool_calls,omitempty"`
}

var (
	providerFields      = json.RawMessage(`{"openaitest":true}`)
	azurePromptFilter   = json.RawMessage(`[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]`)
	jsonNull            = json.RawMessage(`null`)
	finishStop          = "stop"
	finishLength        = "length"
	finishToolCalls     = "tool_calls"
	finishContentFilter = "content_filter"
)

// chatAnswer is what a chat request is answered with, streamed or not.
type chatAnswer struct {
	content   string
	reasoning string
	calls     []toolCall
	finish    string
	usage     chatUsage
}

func (c *call) chatAnswer() chatAnswer {
	text := lastUserText(c.req.Messages)
	a := chatAnswer{finish: finishStop}
	a.calls = c.pickTools(text)
	completion := 0
	switch {
	case c.fault == FaultContentFilter:
		a.finish = finishContentFilter
	case len(a.calls) > 0:
		a.finish = finishToolCalls
		for _, tc := range a.calls {
			completion += tokensOf(tc.name) + tokensOf(tc.args)
		}
	default:
		var cut bool
		a.content, cut = truncate(continuation(c.replyFor(text), c.req.Messages), c.req.maxOutput())
		if cut {
			a.finish = finishLength
		}
		completion = tokensOf(a.content)
	}
	if c.fault != FaultContentFilter {
		a.reasoning = c.h.cfg.reasoning
	}
	reasoning := tokensOf(a.reasoning)
	a.usage.PromptTokens = c.promptTokens
	a.usage.CompletionTokens = completion + reasoning
	a.usage.TotalTokens = c.promptTokens + completion + reasoning
	a.usage.CompletionTokensDetails.ReasoningTokens = reasoning
	return a
}

func (c *call) chatModel() string {
	if c.model != "" {
		return c.model
	}
	return c.deployment
}

func (c *call) chat() {
	// OpenAI refuses Responses-only models (o3-deep-research, gpt-5-pro,
	// ...) on /chat/completions; so does the fake, so that a client that
	// forgets to bridge them is caught by its tests.
	if info, ok := models.Lookup(c.chatModel()); ok && info.Mode == models.ModeResponses {
		c.fail(http.StatusBadRequest, apiError{Message: "This model is only supported in v1/responses and not in v1/chat/completions.", Type: "invalid_request_error", Param: "model"})
		return
	}
	a := c.chatAnswer()
	if c.stream {
		c.chatStream(&a)
		return
	}
	if !c.sleep(c.h.cfg.latency) {
		return
	}
	msg := chatOutMessage{Role: "assistant", ReasoningContent: a.reasoning, Annotations: []struct{}{}, ProviderSpecificFields: providerFields}
	if len(a.calls) == 0 {
		msg.Content = &a.content
	}
	for _, tc := range a.calls {
		msg.ToolCalls = append(msg.ToolCalls, toolCallJSON{ID: tc.id, Type: "function", Function: functionJSON{Name: tc.name, Arguments: tc.args}})
	}
	resp := chatResponse{
		ID: c.id("chatcmpl-"), Object: "chat.completion", Created: c.h.now().Unix(), Model: c.chatModel(),
		Choices:           []chatChoice{{Message: msg, FinishReason: a.finish}},
		Usage:             &a.usage,
		SystemFingerprint: SystemFingerprint, ServiceTier: "default",
	}
	if c.azure {
		resp.PromptFilterResults = azurePromptFilter
	}
	c.writeOK(&resp)
}

func (c *call) chatStream(a *chatAnswer) {
	s := c.startSSE(false)
	includeUsage := c.req.StreamOptions != nil && c.req.StreamOptions.IncludeUsage
	chunk := chatChunk{ID: c.id("chatcmpl-"), Object: "chat.completion.chunk", Created: c.h.now().Unix(), Model: c.chatModel(), SystemFingerprint: SystemFingerprint}
	if includeUsage {
		chunk.Usage = jsonNull
	}
	if c.azure {
		// Azure's first event carries only the prompt filter results, with
		// no choices: a classic trap for stream parsers.
		if !s.send("", struct {
			Choices             []struct{}      `json:"choices"`
			Created             int64           `json:"created"`
			ID                  string          `json:"id"`
			Model               string          `json:"model"`
			Object              string          `json:"object"`
			PromptFilterResults json.RawMessage `json:"prompt_filter_results"`
		}{[]struct{}{}, 0, "", "", "", azurePromptFilter}) {
			return
		}
	}
	emit := func(d chunkDelta, finish *string) bool {
		chunk.Choices = []chunkChoice{{Delta: d, FinishReason: finish}}
		return s.send("", &chunk)
	}
	empty := ""
	first := chunkDelta{Role: "assistant", Content: &empty}
	if len(a.calls) > 0 {
		first.Content = nil
	}
	if !s.pace() || !emit(first, nil) {
		return
	}
	if a.reasoning != "" && !emit(chunkDelta{ReasoningContent: a.reasoning}, nil) {
		return
	}
	pieces := split(a.content, c.h.cfg.chunks)
	for i := range pieces {
		if (i > 0 || a.reasoning != "") && !s.pace() {
			return
		}
		if !emit(chunkDelta{Content: &pieces[i]}, nil) {
			return
		}
	}
	for i, tc := range a.calls {
		idx := i
		if !s.pace() || !emit(chunkDelta{ToolCalls: []toolCallJSON{{Index: &idx, ID: tc.id, Type: "function", Function: functionJSON{Name: tc.name}}}}, nil) {
			return
		}
		half := len(tc.args) / 2
		for half > 0 && !utf8.RuneStart(tc.args[half]) {
			half--
		}
		for _, part := range []string{tc.args[:half], tc.args[half:]} {
			if !s.pace() || !emit(chunkDelta{ToolCalls: []toolCallJSON{{Index: &idx, Function: functionJSON{Arguments: part}}}}, nil) {
				return
			}
		}
	}
	if !emit(chunkDelta{}, &a.finish) {
		return
	}
	if includeUsage {
		chunk.Choices = []chunkChoice{}
		u, _ := json.Marshal(&a.usage)
		chunk.Usage = u
		if !s.send("", &chunk) {
			return
		}
	}
	s.done()
}
