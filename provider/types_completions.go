package provider

import "encoding/json"

// CompletionRequest is a legacy POST /v1/completions request body. Unknown
// fields are kept in Extra, as for [ChatRequest].
type CompletionRequest struct {
	Model string `json:"model,omitempty"`
	// Prompt is a string, a []string, or token arrays.
	Prompt        any            `json:"prompt,omitempty"`
	Suffix        string         `json:"suffix,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	N             int            `json:"n,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	// Stop is a string or a []string.
	Stop  any                        `json:"stop,omitempty"`
	Echo  bool                       `json:"echo,omitempty"`
	User  string                     `json:"user,omitempty"`
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r CompletionRequest) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *CompletionRequest) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// ToRequest encodes r as the body of a completions Request. Model must be
// set.
func (r *CompletionRequest) ToRequest() (*Request, error) {
	return toRequest(EndpointCompletions, "CompletionRequest", r.Model, r.Stream, r)
}

// CompletionResponse is a legacy completion (object "text_completion"), or
// one chunk of a completion stream.
type CompletionResponse struct {
	ID                string                     `json:"id,omitempty"`
	Object            string                     `json:"object,omitempty"`
	Created           int64                      `json:"created,omitempty"`
	Model             string                     `json:"model,omitempty"`
	SystemFingerprint string                     `json:"system_fingerprint,omitempty"`
	Choices           []CompletionChoice         `json:"choices,omitempty"`
	Usage             *UsageBody                 `json:"usage,omitempty"`
	Extra             map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r CompletionResponse) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *CompletionResponse) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// CompletionChoice is one of a completion's choices.
type CompletionChoice struct {
	Index        int                        `json:"index"`
	Text         string                     `json:"text,omitempty"`
	FinishReason string                     `json:"finish_reason,omitempty"`
	Logprobs     json.RawMessage            `json:"logprobs,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c CompletionChoice) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *CompletionChoice) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }
