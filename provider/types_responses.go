package provider

import (
	"encoding/json"
	"strings"
)

// ResponsesRequest is a POST /v1/responses request body. Unknown fields
// (include, truncation, text, store, ...) are kept in Extra, as for
// [ChatRequest].
type ResponsesRequest struct {
	Model string `json:"model,omitempty"`
	// Input is a string or a list of input items. Decoded items are
	// map[string]any (numbers as json.Number); any JSON-encodable value
	// may be set.
	Input        any             `json:"input,omitempty"`
	Instructions string          `json:"instructions,omitempty"`
	Reasoning    *Reasoning      `json:"reasoning,omitempty"`
	Tools        []ResponsesTool `json:"tools,omitempty"`
	// ToolChoice is a string or an object such as {"type": "function",
	// "name": "f"}.
	ToolChoice         any                        `json:"tool_choice,omitempty"`
	ParallelToolCalls  *bool                      `json:"parallel_tool_calls,omitempty"`
	Stream             bool                       `json:"stream,omitempty"`
	MaxOutputTokens    int                        `json:"max_output_tokens,omitempty"`
	PreviousResponseID string                     `json:"previous_response_id,omitempty"`
	Temperature        *float64                   `json:"temperature,omitempty"`
	TopP               *float64                   `json:"top_p,omitempty"`
	Store              *bool                      `json:"store,omitempty"`
	User               string                     `json:"user,omitempty"`
	Metadata           map[string]any             `json:"metadata,omitempty"`
	Extra              map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r ResponsesRequest) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *ResponsesRequest) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// ToRequest encodes r as the body of a Responses API Request. Model must be
// set.
func (r *ResponsesRequest) ToRequest() (*Request, error) {
	return toRequest(EndpointResponses, "ResponsesRequest", r.Model, r.Stream, r)
}

// Reasoning configures a reasoning model. It is also accepted as a bare
// effort string ("reasoning": "high"), which is encoded back the same way
// as long as only Effort is set.
type Reasoning struct {
	// Effort is "minimal", "low", "medium" or "high".
	Effort string `json:"effort,omitempty"`
	// Summary is "auto", "concise" or "detailed".
	Summary string                     `json:"summary,omitempty"`
	Extra   map[string]json.RawMessage `json:"-"`

	bare bool // decoded from a bare string
}

// MarshalJSON writes {effort, summary, ...}, or a string if it was decoded
// from one and only Effort is set.
func (r Reasoning) MarshalJSON() ([]byte, error) {
	if r.bare && r.Summary == "" && len(r.Extra) == 0 {
		return json.Marshal(r.Effort)
	}
	return marshalExtra(&r)
}

// UnmarshalJSON reads an object or an effort string.
func (r *Reasoning) UnmarshalJSON(b []byte) error {
	if b = trimSpace(b); len(b) > 0 && b[0] == '"' {
		*r = Reasoning{bare: true}
		return json.Unmarshal(b, &r.Effort)
	}
	return unmarshalExtra(b, r)
}

// ResponsesTool is a Responses API tool. Function tools are flat: {type:
// "function", name, description, parameters, strict}; built-in tools
// (web_search, file_search, ...) keep their settings in Extra.
type ResponsesTool struct {
	Type        string                     `json:"type,omitempty"`
	Name        string                     `json:"name,omitempty"`
	Description string                     `json:"description,omitempty"`
	Parameters  json.RawMessage            `json:"parameters,omitempty"`
	Strict      *bool                      `json:"strict,omitempty"`
	Extra       map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (t ResponsesTool) MarshalJSON() ([]byte, error) { return marshalExtra(&t) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (t *ResponsesTool) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, t) }

// ResponsesResponse is a Responses API response (object "response"), as
// returned by POST /v1/responses and carried by stream events.
type ResponsesResponse struct {
	ID        string `json:"id,omitempty"`
	Object    string `json:"object,omitempty"`
	CreatedAt int64  `json:"created_at,omitempty"`
	// Status is "completed", "incomplete", "failed", "in_progress",
	// "queued" or "cancelled".
	Status            string                     `json:"status,omitempty"`
	Model             string                     `json:"model,omitempty"`
	Output            []OutputItem               `json:"output,omitempty"`
	Usage             *ResponsesUsage            `json:"usage,omitempty"`
	Error             *ResponseError             `json:"error,omitempty"`
	IncompleteDetails *IncompleteDetails         `json:"incomplete_details,omitempty"`
	Extra             map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r ResponsesResponse) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *ResponsesResponse) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// OutputText returns the text of the output's messages: their output_text
// parts, concatenated (the SDKs' output_text).
func (r *ResponsesResponse) OutputText() string {
	var b strings.Builder
	for _, item := range r.Output {
		if item.Type != "message" {
			continue
		}
		for _, c := range item.Content {
			if c.Type == "output_text" {
				b.WriteString(c.Text)
			}
		}
	}
	return b.String()
}

// OutputItem is one item of a response's output: a "message" (Role,
// Content), a "reasoning" item (Summary, and Content of reasoning_text), a
// "function_call" (CallID, Name, Arguments), or a built-in tool call whose
// fields stay in Extra.
type OutputItem struct {
	Type      string                     `json:"type,omitempty"`
	ID        string                     `json:"id,omitempty"`
	Status    string                     `json:"status,omitempty"`
	Role      string                     `json:"role,omitempty"`
	Content   []OutputContent            `json:"content,omitempty"`
	Summary   []SummaryPart              `json:"summary,omitempty"`
	CallID    string                     `json:"call_id,omitempty"`
	Name      string                     `json:"name,omitempty"`
	Arguments string                     `json:"arguments,omitempty"`
	Extra     map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (o OutputItem) MarshalJSON() ([]byte, error) { return marshalExtra(&o) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (o *OutputItem) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, o) }

// OutputContent is a part of an output message ("output_text" or
// "refusal") or of a reasoning item ("reasoning_text").
type OutputContent struct {
	Type        string                     `json:"type,omitempty"`
	Text        string                     `json:"text,omitempty"`
	Refusal     string                     `json:"refusal,omitempty"`
	Annotations json.RawMessage            `json:"annotations,omitempty"`
	Extra       map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c OutputContent) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *OutputContent) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// SummaryPart is a part of a reasoning item's summary ("summary_text").
type SummaryPart struct {
	Type  string                     `json:"type,omitempty"`
	Text  string                     `json:"text,omitempty"`
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (p SummaryPart) MarshalJSON() ([]byte, error) { return marshalExtra(&p) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (p *SummaryPart) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, p) }

// ResponsesUsage is a response's token usage.
type ResponsesUsage struct {
	InputTokens         int                        `json:"input_tokens,omitempty"`
	OutputTokens        int                        `json:"output_tokens,omitempty"`
	TotalTokens         int                        `json:"total_tokens,omitempty"`
	InputTokensDetails  *InputTokensDetails        `json:"input_tokens_details,omitempty"`
	OutputTokensDetails *OutputTokensDetails       `json:"output_tokens_details,omitempty"`
	Extra               map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (u ResponsesUsage) MarshalJSON() ([]byte, error) { return marshalExtra(&u) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (u *ResponsesUsage) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, u) }

// Usage returns u in chat terms (input tokens are prompt tokens); nil
// gives the zero Usage.
func (u *ResponsesUsage) Usage() Usage {
	if u == nil {
		return Usage{}
	}
	out := Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
	if u.InputTokensDetails != nil {
		out.CachedTokens = u.InputTokensDetails.CachedTokens
	}
	if u.OutputTokensDetails != nil {
		out.ReasoningTokens = u.OutputTokensDetails.ReasoningTokens
	}
	return out
}

// InputTokensDetails breaks down the input tokens.
type InputTokensDetails struct {
	CachedTokens int                        `json:"cached_tokens,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d InputTokensDetails) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *InputTokensDetails) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }

// OutputTokensDetails breaks down the output tokens.
type OutputTokensDetails struct {
	ReasoningTokens int                        `json:"reasoning_tokens,omitempty"`
	Extra           map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d OutputTokensDetails) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *OutputTokensDetails) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }

// ResponseError is a failed response's error.
type ResponseError struct {
	Code    string                     `json:"code,omitempty"`
	Message string                     `json:"message,omitempty"`
	Extra   map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (e ResponseError) MarshalJSON() ([]byte, error) { return marshalExtra(&e) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (e *ResponseError) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, e) }

// IncompleteDetails says why a response is incomplete: "max_output_tokens"
// or "content_filter".
type IncompleteDetails struct {
	Reason string                     `json:"reason,omitempty"`
	Extra  map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d IncompleteDetails) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *IncompleteDetails) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }
