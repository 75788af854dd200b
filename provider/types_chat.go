package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// The typed views of chat completions. Every struct type here (and in the
// other types_*.go files) keeps the JSON keys it does not model in its
// Extra map, so decoding a body and encoding it again loses nothing:
//
//   - Decoding puts every unknown key into Extra with its raw value. Keys are
//     matched exactly, not case-insensitively. A modelled field whose value
//     would vanish on encode (null, false, 0, "" or [] in an omitempty
//     field) is kept in Extra too, so that it comes back as it was sent.
//   - Encoding writes the modelled fields, then the Extra keys (sorted).
//     Extra never overrides a modelled field: an Extra key is written only
//     when the struct did not write that key itself.
//
// Values are plain data, safe for concurrent reads; none is safe for
// concurrent modification.

// ChatRequest is a POST /v1/chat/completions request body.
type ChatRequest struct {
	Model    string    `json:"model,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	// Stream asks for a server-sent event stream.
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	// MaxTokens is the legacy output limit; reasoning models take
	// MaxCompletionTokens.
	MaxTokens           int      `json:"max_tokens,omitempty"`
	MaxCompletionTokens int      `json:"max_completion_tokens,omitempty"`
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	N                   int      `json:"n,omitempty"`
	// Stop is a string or a []string.
	Stop  any    `json:"stop,omitempty"`
	Tools []Tool `json:"tools,omitempty"`
	// ToolChoice is a string ("none", "auto", "required") or an object such
	// as {"type": "function", "function": {"name": "f"}}; decoded objects
	// are map[string]any.
	ToolChoice        any             `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    *ResponseFormat `json:"response_format,omitempty"`
	// ReasoningEffort is "minimal", "low", "medium" or "high" for
	// reasoning models.
	ReasoningEffort string `json:"reasoning_effort,omitempty"`
	User            string `json:"user,omitempty"`
	// Metadata is free-form: OpenAI takes string values; LiteLLM-style
	// routers also read lists such as "tags". Decoded numbers are
	// json.Number.
	Metadata map[string]any `json:"metadata,omitempty"`
	// Extra holds every other top-level field (seed, logprobs, audio,
	// prediction, ...) as raw JSON. See the package's typed-view rules:
	// it never overrides a modelled field.
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r ChatRequest) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *ChatRequest) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// ToRequest encodes r as the body of a chat Request for the router. Model
// must be set.
func (r *ChatRequest) ToRequest() (*Request, error) {
	return toRequest(EndpointChat, "ChatRequest", r.Model, r.Stream, r)
}

// StreamOptions are a streaming request's options.
type StreamOptions struct {
	// IncludeUsage asks for a last chunk with the usage.
	IncludeUsage bool                       `json:"include_usage,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (o StreamOptions) MarshalJSON() ([]byte, error) { return marshalExtra(&o) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (o *StreamOptions) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, o) }

// Message is one chat message: in a request's messages, a response's
// choice, or (as a delta) a stream chunk.
type Message struct {
	// Role is "system", "developer", "user", "assistant" or "tool".
	Role    string         `json:"role,omitempty"`
	Content MessageContent `json:"content,omitempty"`
	Name    string         `json:"name,omitempty"`
	// Refusal is set on an assistant message that declined to answer.
	Refusal   string     `json:"refusal,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID links a tool message to the call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// ReasoningContent is the reasoning text some servers (and the
	// Responses bridge) return alongside the answer.
	ReasoningContent string                     `json:"reasoning_content,omitempty"`
	Extra            map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (m Message) MarshalJSON() ([]byte, error) { return marshalExtra(&m) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (m *Message) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, m) }

// MessageContent is a message's content: either a plain string (Text) or a
// list of parts (Parts), encoded back in the form it was decoded from. A
// non-nil Parts, even empty, means the list form; otherwise Text is sent as
// a string. The zero value is "no content" and is left out of a Message
// (a JSON null content decodes to it and is kept, as null, in the
// Message's Extra).
type MessageContent struct {
	Text  string
	Parts []ContentPart
}

// TextContent returns a string content.
func TextContent(s string) MessageContent { return MessageContent{Text: s} }

// PartsContent returns a list content; it is never nil, so it encodes as a
// list even when empty.
func PartsContent(parts ...ContentPart) MessageContent {
	if parts == nil {
		parts = []ContentPart{}
	}
	return MessageContent{Parts: parts}
}

// IsZero reports whether c is the empty content, which a Message leaves out.
func (c MessageContent) IsZero() bool { return c.Parts == nil && c.Text == "" }

// IsParts reports whether c is in list form.
func (c MessageContent) IsParts() bool { return c.Parts != nil }

// String returns the content's text: Text, or the text parts joined.
func (c MessageContent) String() string {
	if c.Parts == nil {
		return c.Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// MarshalJSON writes a JSON string, or a list when Parts is non-nil.
func (c MessageContent) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// UnmarshalJSON reads a string, a list of parts or null.
func (c *MessageContent) UnmarshalJSON(b []byte) error {
	*c = MessageContent{}
	b = trimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("provider: decoding message content: empty input")
	}
	switch b[0] {
	case 'n':
		return json.Unmarshal(b, new(any))
	case '"':
		return json.Unmarshal(b, &c.Text)
	case '[':
		if err := json.Unmarshal(b, &c.Parts); err != nil {
			return err
		}
		if c.Parts == nil {
			c.Parts = []ContentPart{}
		}
		return nil
	}
	return fmt.Errorf("provider: decoding message content: want a string or a list of parts, got %.20q", b)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// ContentPart is one part of a list content: text, an image, an audio clip
// or a file.
type ContentPart struct {
	// Type is "text", "image_url", "input_audio" or "file".
	Type       string      `json:"type,omitempty"`
	Text       string      `json:"text,omitempty"`
	ImageURL   *ImageURL   `json:"image_url,omitempty"`
	InputAudio *InputAudio `json:"input_audio,omitempty"`
	File       *File       `json:"file,omitempty"`
	// Extra keeps other keys, such as a provider's cache_control.
	Extra map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (p ContentPart) MarshalJSON() ([]byte, error) { return marshalExtra(&p) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (p *ContentPart) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, p) }

// TextPart returns a text content part.
func TextPart(text string) ContentPart { return ContentPart{Type: "text", Text: text} }

// ImagePart returns an image content part for a URL, which may be a
// data URL ("data:image/png;base64,...").
func ImagePart(url string) ContentPart {
	return ContentPart{Type: "image_url", ImageURL: &ImageURL{URL: url}}
}

// PDFPart returns a file content part carrying pdf inline, as a base64
// data URL ("data:application/pdf;base64,...").
func PDFPart(filename string, pdf []byte) ContentPart {
	const prefix = "data:application/pdf;base64,"
	buf := make([]byte, len(prefix)+base64.StdEncoding.EncodedLen(len(pdf)))
	copy(buf, prefix)
	base64.StdEncoding.Encode(buf[len(prefix):], pdf)
	return ContentPart{Type: "file", File: &File{Filename: filename, FileData: string(buf)}}
}

// ImageURL is an image part's image. Some clients send it as a bare URL
// string; that form is kept on encode as long as only URL is set.
type ImageURL struct {
	URL string `json:"url,omitempty"`
	// Detail is "low", "high" or "auto".
	Detail string                     `json:"detail,omitempty"`
	Extra  map[string]json.RawMessage `json:"-"`

	bare bool // decoded from a bare string
}

// MarshalJSON writes {url, detail, ...}, or a string if it was decoded from
// one and only URL is set.
func (u ImageURL) MarshalJSON() ([]byte, error) {
	if u.bare && u.Detail == "" && len(u.Extra) == 0 {
		return json.Marshal(u.URL)
	}
	return marshalExtra(&u)
}

// UnmarshalJSON reads an object or a bare URL string.
func (u *ImageURL) UnmarshalJSON(b []byte) error {
	if b = trimSpace(b); len(b) > 0 && b[0] == '"' {
		*u = ImageURL{bare: true}
		return json.Unmarshal(b, &u.URL)
	}
	return unmarshalExtra(b, u)
}

// InputAudio is an audio part's clip.
type InputAudio struct {
	// Data is the base64-encoded audio.
	Data string `json:"data,omitempty"`
	// Format is "wav" or "mp3".
	Format string                     `json:"format,omitempty"`
	Extra  map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (a InputAudio) MarshalJSON() ([]byte, error) { return marshalExtra(&a) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (a *InputAudio) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, a) }

// File is a file part's file: inline data or an uploaded file's id.
type File struct {
	// FileData is a data URL such as "data:application/pdf;base64,...".
	FileData string                     `json:"file_data,omitempty"`
	FileID   string                     `json:"file_id,omitempty"`
	Filename string                     `json:"filename,omitempty"`
	Extra    map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (f File) MarshalJSON() ([]byte, error) { return marshalExtra(&f) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (f *File) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, f) }

// ToolCall is a tool call made by the assistant. In stream chunks, Index
// says which call a delta extends.
type ToolCall struct {
	Index *int   `json:"index,omitempty"`
	ID    string `json:"id,omitempty"`
	// Type is "function" (or "custom", whose body stays in Extra).
	Type     string                     `json:"type,omitempty"`
	Function *FunctionCall              `json:"function,omitempty"`
	Extra    map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c ToolCall) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *ToolCall) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// FunctionCall is a function tool call's name and JSON-encoded arguments.
type FunctionCall struct {
	Name      string                     `json:"name,omitempty"`
	Arguments string                     `json:"arguments,omitempty"`
	Extra     map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c FunctionCall) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *FunctionCall) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// Tool is a tool the model may call.
type Tool struct {
	// Type is "function" (or "custom", whose body stays in Extra).
	Type     string                     `json:"type,omitempty"`
	Function *FunctionDef               `json:"function,omitempty"`
	Extra    map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (t Tool) MarshalJSON() ([]byte, error) { return marshalExtra(&t) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (t *Tool) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, t) }

// FunctionDef declares a function tool.
type FunctionDef struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Parameters is the arguments' JSON Schema.
	Parameters json.RawMessage            `json:"parameters,omitempty"`
	Strict     *bool                      `json:"strict,omitempty"`
	Extra      map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d FunctionDef) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *FunctionDef) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	// Type is "text", "json_object" or "json_schema".
	Type       string                     `json:"type,omitempty"`
	JSONSchema *JSONSchema                `json:"json_schema,omitempty"`
	Extra      map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (f ResponseFormat) MarshalJSON() ([]byte, error) { return marshalExtra(&f) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (f *ResponseFormat) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, f) }

// JSONSchema is a json_schema response format's schema.
type JSONSchema struct {
	Name        string                     `json:"name,omitempty"`
	Description string                     `json:"description,omitempty"`
	Schema      json.RawMessage            `json:"schema,omitempty"`
	Strict      *bool                      `json:"strict,omitempty"`
	Extra       map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (s JSONSchema) MarshalJSON() ([]byte, error) { return marshalExtra(&s) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (s *JSONSchema) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, s) }

// ChatResponse is a chat completion (object "chat.completion").
type ChatResponse struct {
	ID                string                     `json:"id,omitempty"`
	Object            string                     `json:"object,omitempty"`
	Created           int64                      `json:"created,omitempty"`
	Model             string                     `json:"model,omitempty"`
	SystemFingerprint string                     `json:"system_fingerprint,omitempty"`
	ServiceTier       string                     `json:"service_tier,omitempty"`
	Choices           []Choice                   `json:"choices,omitempty"`
	Usage             *UsageBody                 `json:"usage,omitempty"`
	Extra             map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (r ChatResponse) MarshalJSON() ([]byte, error) { return marshalExtra(&r) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (r *ChatResponse) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, r) }

// Text returns the first choice's content as text, "" when there is none.
func (r *ChatResponse) Text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Content.String()
}

// Choice is one of a chat completion's choices.
type Choice struct {
	Index   int     `json:"index"`
	Message Message `json:"message"`
	// FinishReason is "stop", "length", "tool_calls" or "content_filter".
	FinishReason string                     `json:"finish_reason,omitempty"`
	Logprobs     json.RawMessage            `json:"logprobs,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c Choice) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *Choice) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// ChatChunk is one event of a chat completion stream (object
// "chat.completion.chunk"). The last chunk of a stream that asked for
// usage has no choices and a Usage.
type ChatChunk struct {
	ID                string                     `json:"id,omitempty"`
	Object            string                     `json:"object,omitempty"`
	Created           int64                      `json:"created,omitempty"`
	Model             string                     `json:"model,omitempty"`
	SystemFingerprint string                     `json:"system_fingerprint,omitempty"`
	ServiceTier       string                     `json:"service_tier,omitempty"`
	Choices           []ChunkChoice              `json:"choices"`
	Usage             *UsageBody                 `json:"usage,omitempty"`
	Extra             map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c ChatChunk) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *ChatChunk) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// ChunkChoice is a stream chunk's choice: a Delta to append to the
// message, and the finish reason on the choice's last chunk.
type ChunkChoice struct {
	Index        int                        `json:"index"`
	Delta        Message                    `json:"delta"`
	FinishReason string                     `json:"finish_reason,omitempty"`
	Logprobs     json.RawMessage            `json:"logprobs,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (c ChunkChoice) MarshalJSON() ([]byte, error) { return marshalExtra(&c) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (c *ChunkChoice) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, c) }

// UsageBody is the "usage" object of chat completions, legacy completions
// and embeddings.
type UsageBody struct {
	PromptTokens            int                        `json:"prompt_tokens,omitempty"`
	CompletionTokens        int                        `json:"completion_tokens,omitempty"`
	TotalTokens             int                        `json:"total_tokens,omitempty"`
	PromptTokensDetails     *PromptTokensDetails       `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails   `json:"completion_tokens_details,omitempty"`
	Extra                   map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (u UsageBody) MarshalJSON() ([]byte, error) { return marshalExtra(&u) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (u *UsageBody) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, u) }

// Usage returns u as a [Usage]; nil gives the zero Usage.
func (u *UsageBody) Usage() Usage {
	if u == nil {
		return Usage{}
	}
	out := Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.PromptTokensDetails != nil {
		out.CachedTokens = u.PromptTokensDetails.CachedTokens
	}
	if u.CompletionTokensDetails != nil {
		out.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	return out
}

// PromptTokensDetails breaks down the prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int                        `json:"cached_tokens,omitempty"`
	AudioTokens  int                        `json:"audio_tokens,omitempty"`
	Extra        map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d PromptTokensDetails) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *PromptTokensDetails) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }

// CompletionTokensDetails breaks down the completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens          int                        `json:"reasoning_tokens,omitempty"`
	AudioTokens              int                        `json:"audio_tokens,omitempty"`
	AcceptedPredictionTokens int                        `json:"accepted_prediction_tokens,omitempty"`
	RejectedPredictionTokens int                        `json:"rejected_prediction_tokens,omitempty"`
	Extra                    map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes the modelled fields, then Extra.
func (d CompletionTokensDetails) MarshalJSON() ([]byte, error) { return marshalExtra(&d) }

// UnmarshalJSON reads the modelled fields and keeps the rest in Extra.
func (d *CompletionTokensDetails) UnmarshalJSON(b []byte) error { return unmarshalExtra(b, d) }
