package openai

// The bridge's response conversion: a Responses API response body becomes a
// chat completion body (see bridge.go).

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
)

// bridgeResponse is a Responses API response object as far as the bridge
// reads it.
type bridgeResponse struct {
	ID                string                `json:"id"`
	CreatedAt         json.Number           `json:"created_at"`
	Model             string                `json:"model"`
	Status            string                `json:"status"`
	ServiceTier       string                `json:"service_tier"`
	Error             *bridgeError          `json:"error"`
	IncompleteDetails *bridgeIncomplete     `json:"incomplete_details"`
	Output            []bridgeOutputItem    `json:"output"`
	Usage             *bridgeResponsesUsage `json:"usage"`
}

type bridgeIncomplete struct {
	Reason string `json:"reason"`
}

type bridgeError struct {
	Code    json.RawMessage `json:"code"`
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Param   json.RawMessage `json:"param"`
}

type bridgeOutputItem struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Content []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Refusal string `json:"refusal"`
	} `json:"content"`
	Summary []struct {
		Text string `json:"text"`
	} `json:"summary"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type bridgeResponsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	TotalTokens        int `json:"total_tokens"`
	InputTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// Chat completion output shapes.
type (
	bridgeChatCompletion struct {
		ID          string             `json:"id"`
		Object      string             `json:"object"`
		Created     int64              `json:"created"`
		Model       string             `json:"model"`
		Choices     []bridgeChatChoice `json:"choices"`
		Usage       *bridgeChatUsage   `json:"usage,omitempty"`
		ServiceTier string             `json:"service_tier,omitempty"`
	}
	bridgeChatChoice struct {
		Index        int                  `json:"index"`
		Message      bridgeChatMessageOut `json:"message"`
		FinishReason string               `json:"finish_reason"`
	}
	bridgeChatMessageOut struct {
		Role             string              `json:"role"`
		Content          *string             `json:"content"`
		Refusal          *string             `json:"refusal,omitempty"`
		ReasoningContent string              `json:"reasoning_content,omitempty"`
		ToolCalls        []bridgeChatToolOut `json:"tool_calls,omitempty"`
	}
	bridgeChatToolOut struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	bridgeChatUsage struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		TotalTokens         int `json:"total_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details,omitempty"`
		CompletionTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details,omitempty"`
	}
)

// responsesToChat converts a Responses API response body into a chat
// completion body, returning its usage too.
//
// The output's reasoning items become message.reasoning_content (summary
// texts, or reasoning_text content when there is no summary, joined with
// blank lines), message items become message.content (output_text parts
// concatenated) and message.refusal, and function_call items become
// message.tool_calls in order. Other output items (built-in tool calls
// such as web_search_call) have no chat equivalent and are left out.
// finish_reason is "length" or "content_filter" for an incomplete response,
// else "tool_calls" when there are tool calls, else "stop".
//
// Errors are *provider.Error: a failed response or an error body yields the
// class its code implies (ClassServer when unknown); a body that is not a
// Responses object yields ClassConnection.
func responsesToChat(respBody []byte) ([]byte, provider.Usage, error) {
	var r bridgeResponse
	if err := json.Unmarshal(respBody, &r); err != nil || bridgeIsNull(respBody) {
		return nil, provider.Usage{}, &provider.Error{
			Class: provider.ClassConnection, Message: "openai: responses bridge: malformed Responses body", Err: err,
		}
	}
	switch r.Status {
	case "", "completed", "incomplete":
		if r.Error != nil {
			return nil, provider.Usage{}, bridgeUpstreamError(r.Error, "response returned an error")
		}
	case "failed":
		return nil, provider.Usage{}, bridgeUpstreamError(r.Error, "response failed")
	case "queued", "in_progress":
		return nil, provider.Usage{}, &provider.Error{
			Class:   provider.ClassBadRequest,
			Message: "openai: responses bridge: response status " + strconv.Quote(r.Status) + " (background mode) cannot become a chat completion",
		}
	default:
		return nil, provider.Usage{}, &provider.Error{
			Class: provider.ClassServer, Message: "openai: responses bridge: response status " + strconv.Quote(r.Status),
		}
	}

	msg := bridgeChatMessageOut{Role: "assistant"}
	var text, refusal strings.Builder
	var reasoning []string
	sawMessage, sawRefusal := false, false
	for _, item := range r.Output {
		switch item.Type {
		case "reasoning":
			n := len(reasoning)
			for _, s := range item.Summary {
				if s.Text != "" {
					reasoning = append(reasoning, s.Text)
				}
			}
			if len(reasoning) == n {
				for _, c := range item.Content {
					if c.Type == "reasoning_text" && c.Text != "" {
						reasoning = append(reasoning, c.Text)
					}
				}
			}
		case "message":
			sawMessage = true
			for _, c := range item.Content {
				switch c.Type {
				case "output_text":
					text.WriteString(c.Text)
				case "refusal":
					sawRefusal = true
					refusal.WriteString(c.Refusal)
				}
			}
		case "function_call":
			tc := bridgeChatToolOut{ID: item.CallID, Type: "function"}
			tc.Function.Name, tc.Function.Arguments = item.Name, item.Arguments
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
	}
	if sawMessage || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	if sawRefusal {
		s := refusal.String()
		msg.Refusal = &s
	}
	msg.ReasoningContent = strings.Join(reasoning, "\n\n")

	out := bridgeChatCompletion{
		ID: r.ID, Object: "chat.completion", Created: bridgeUnix(r.CreatedAt), Model: r.Model,
		ServiceTier: r.ServiceTier,
		Choices: []bridgeChatChoice{{
			Message:      msg,
			FinishReason: bridgeFinishReason(r.Status, r.IncompleteDetails, len(msg.ToolCalls) > 0),
		}},
	}
	var usage provider.Usage
	if r.Usage != nil {
		usage = bridgeUsage(r.Usage)
		out.Usage = bridgeChatUsageOf(r.Usage)
	}
	b, err := bridgeMarshal(out)
	if err != nil {
		return nil, provider.Usage{}, &provider.Error{Class: provider.ClassConnection, Message: "openai: responses bridge: encoding chat completion", Err: err}
	}
	return b, usage, nil
}

// bridgeFinishReason derives a chat finish_reason from a Responses status.
func bridgeFinishReason(status string, details *bridgeIncomplete, toolCalls bool) string {
	if status == "incomplete" {
		if details != nil && details.Reason == "content_filter" {
			return "content_filter"
		}
		return "length"
	}
	if toolCalls {
		return "tool_calls"
	}
	return "stop"
}

func bridgeUsage(u *bridgeResponsesUsage) provider.Usage {
	out := provider.Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	if u.InputTokensDetails != nil {
		out.CachedTokens = u.InputTokensDetails.CachedTokens
	}
	if u.OutputTokensDetails != nil {
		out.ReasoningTokens = u.OutputTokensDetails.ReasoningTokens
	}
	return out
}

func bridgeChatUsageOf(u *bridgeResponsesUsage) *bridgeChatUsage {
	pu := bridgeUsage(u)
	out := &bridgeChatUsage{PromptTokens: pu.PromptTokens, CompletionTokens: pu.CompletionTokens, TotalTokens: pu.TotalTokens}
	if u.InputTokensDetails != nil {
		out.PromptTokensDetails = &struct {
			CachedTokens int `json:"cached_tokens"`
		}{pu.CachedTokens}
	}
	if u.OutputTokensDetails != nil {
		out.CompletionTokensDetails = &struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		}{pu.ReasoningTokens}
	}
	return out
}

// bridgeUnix reads created_at, which is integer seconds but may be sent as
// a float by OpenAI-compatible servers.
func bridgeUnix(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return int64(f)
	}
	return 0
}
