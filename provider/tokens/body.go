package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Overheads of OpenAI's chat format, from the cookbook's
// num_tokens_from_messages ("How to count tokens with tiktoken"), which
// OpenAI checks against the API's usage.
const (
	// tokensPerMessage wraps every message: <|start|>{role}\n ... <|end|>.
	tokensPerMessage = 3
	// tokensPerName is added when a message has a name.
	tokensPerName = 1
	// replyPriming is <|start|>assistant<|message|>, added once per
	// request.
	replyPriming = 3
)

// Estimates for content that is not text.
const (
	// imageLowDetailTokens is what an image costs at detail "low", for
	// any size.
	imageLowDetailTokens = 85
	// imageTokens is the estimate for an image at detail "high", "auto"
	// or unspecified, whose size is not known without fetching or
	// decoding it. OpenAI scales such an image to fit 2048x2048, then its
	// shorter side to 768, and charges 85 plus 170 per 512-pixel tile;
	// the most tiles any image can need is 2x4 (768x2048), so 1445 tokens
	// is an upper bound for the GPT-4o and GPT-4.1 family.
	imageTokens = 85 + 170*8
	// AudioBase64BytesPerToken estimates input audio: about 10 tokens per
	// second, with audio of at least 32 kbit/s (5.3 KB of base64 per
	// second), so that the estimate errs high for common formats.
	AudioBase64BytesPerToken = 500
	// FileBase64BytesPerToken estimates an inline file (a PDF given as
	// file_data): OpenAI puts both the extracted text and an image of each
	// page into the context, which comes to very roughly one token per 9
	// bytes of PDF, or 12 characters of base64. Files referenced by
	// file_id are not counted, since their size is not in the body.
	FileBase64BytesPerToken = 12
)

// ErrNoPrompt is the cause of a [BodyError] for a body that has none of
// messages, input, instructions or prompt.
var ErrNoPrompt = errors.New("no messages, input, instructions or prompt")

// BodyError reports a request body that CountChatBody could not read.
type BodyError struct {
	// Field is the path of the offending value, such as
	// "messages[2].content"; empty for the body as a whole.
	Field string
	// Err is the cause: a JSON syntax or type error, or ErrNoPrompt.
	Err error
}

// Error returns "tokens: body: <field>: <cause>".
func (e *BodyError) Error() string {
	if e.Field == "" {
		return "tokens: body: " + e.Err.Error()
	}
	return "tokens: body: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *BodyError) Unwrap() error { return e.Err }

// CountChatBody estimates the prompt tokens of a raw OpenAI request body for
// model (when model is empty, the body's own "model" is used):
//
//   - chat completions ("messages"): per message, tokensPerMessage plus the
//     tokens of the role, the name (plus tokensPerName), the text content
//     and text parts, tool calls' names and arguments, and other string
//     fields; image parts imageLowDetailTokens at detail "low", else
//     imageTokens; input_audio and file parts from their data's length;
//     then replyPriming once;
//   - tools and (legacy) functions definitions, and a json_schema
//     response format, counted as their compact JSON text;
//   - Responses ("input" as a string or items, "instructions"): the same
//     per-message rules, with function_call and function_call_output
//     items counted like messages;
//   - embeddings and legacy completions ("input" or "prompt" as a string,
//     a list of strings or token arrays): the tokens of each string, the
//     length of each token array, no overhead. An "input" string is
//     read as embeddings when the model's name contains "embed" or the
//     body has "encoding_format" or "dimensions", else as Responses.
//
// A body that is not valid JSON, has values of the wrong type, or has none
// of the fields above returns a *BodyError naming the problem.
func CountChatBody(model string, body []byte) (int, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return 0, &BodyError{Err: err}
	}
	if top == nil {
		return 0, &BodyError{Err: errors.New("null, want an object")}
	}
	if model == "" {
		_ = json.Unmarshal(top["model"], &model) // best effort
	}
	c := &counter{enc: EncodingFor(model)}
	var err error
	switch {
	case present(top["messages"]):
		err = c.chat(top)
	case present(top["prompt"]):
		err = c.plainInputs("prompt", top["prompt"])
	case present(top["input"]) && isEmbeddings(model, top):
		err = c.plainInputs("input", top["input"])
	case present(top["input"]) || present(top["instructions"]):
		err = c.responses(top)
	default:
		err = &BodyError{Err: ErrNoPrompt}
	}
	if err != nil {
		return 0, err
	}
	return c.n, nil
}

// counter accumulates a token count in one encoding.
type counter struct {
	enc Encoding
	n   int
}

func (c *counter) text(s string) { c.n += c.enc.Count(s) }

// json counts the compact JSON text of raw.
func (c *counter) json(raw json.RawMessage) {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		c.text(string(raw))
		return
	}
	c.text(b.String())
}

// chat counts a chat completions body.
func (c *counter) chat(top map[string]json.RawMessage) error {
	var msgs []json.RawMessage
	if err := unmarshal("messages", top["messages"], &msgs); err != nil {
		return err
	}
	for i, raw := range msgs {
		if err := c.message(raw, func() string { return "messages[" + strconv.Itoa(i) + "]" }); err != nil {
			return err
		}
	}
	c.n += replyPriming
	return c.definitions(top)
}

// definitions counts tool and function definitions and a structured-output
// schema, present in chat and Responses bodies alike.
func (c *counter) definitions(top map[string]json.RawMessage) error {
	for _, key := range [...]string{"tools", "functions"} {
		if raw := top[key]; present(raw) {
			if kindOf(raw) != '[' {
				return &BodyError{Field: key, Err: errors.New("want an array")}
			}
			c.json(raw)
		}
	}
	// Chat: response_format {type: json_schema, json_schema: {...}};
	// Responses: text {format: {type: json_schema, schema: {...}}}.
	var rf struct {
		JSONSchema json.RawMessage `json:"json_schema"`
	}
	if raw := top["response_format"]; present(raw) {
		if err := unmarshal("response_format", raw, &rf); err != nil {
			return err
		}
		if present(rf.JSONSchema) {
			c.json(rf.JSONSchema)
		}
	}
	var text struct {
		Format struct {
			Type   string          `json:"type"`
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	}
	if raw := top["text"]; present(raw) && kindOf(raw) == '{' {
		if err := unmarshal("text", raw, &text); err != nil {
			return err
		}
		if present(text.Format.Schema) {
			c.json(text.Format.Schema)
		}
	}
	return nil
}

// message counts one chat message or Responses message item: the
// overhead, then every field by the cookbook's rule (the tokens of each
// value), with content, tool calls and the name handled specially.
func (c *counter) message(raw json.RawMessage, path func() string) error {
	var m map[string]json.RawMessage
	if err := unmarshal("", raw, &m); err != nil || m == nil {
		return fieldError(path(), err, "want an object")
	}
	c.n += tokensPerMessage
	for k, v := range m {
		switch k {
		case "content":
			if err := c.content(v, func() string { return path() + ".content" }); err != nil {
				return err
			}
		case "name":
			var s string
			if err := unmarshal("", v, &s); err != nil {
				return fieldError(path()+".name", err, "")
			}
			c.n += tokensPerName
			c.text(s)
		case "tool_calls":
			if err := c.toolCalls(v, func() string { return path() + ".tool_calls" }); err != nil {
				return err
			}
		case "function_call":
			if err := c.call(v, func() string { return path() + ".function_call" }); err != nil {
				return err
			}
		case "type", "id", "status":
			// Responses item bookkeeping, not sent to the model.
		default:
			c.value(v)
		}
	}
	return nil
}

// value counts a field the cookbook counts by its text: a string's
// tokens, or the JSON text of anything else but null.
func (c *counter) value(raw json.RawMessage) {
	switch kindOf(raw) {
	case 'n', 0:
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			c.text(s)
		}
	default:
		c.json(raw)
	}
}

// toolCalls counts an assistant message's tool_calls: each call's function
// name and arguments, with tokensPerMessage of framing.
func (c *counter) toolCalls(raw json.RawMessage, path func() string) error {
	if !present(raw) {
		return nil
	}
	var calls []struct {
		Function json.RawMessage `json:"function"`
		Custom   json.RawMessage `json:"custom"`
	}
	if err := unmarshal("", raw, &calls); err != nil {
		return fieldError(path(), err, "")
	}
	for i, tc := range calls {
		fn := tc.Function
		if !present(fn) {
			fn = tc.Custom
		}
		if err := c.call(fn, func() string { return path() + "[" + strconv.Itoa(i) + "]" }); err != nil {
			return err
		}
	}
	return nil
}

// call counts a function call {name, arguments} (or a custom tool call
// {name, input}).
func (c *counter) call(raw json.RawMessage, path func() string) error {
	if !present(raw) {
		return nil
	}
	var fc struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
		Input     string `json:"input"`
	}
	if err := unmarshal("", raw, &fc); err != nil {
		return fieldError(path(), err, "")
	}
	c.n += tokensPerMessage
	c.text(fc.Name)
	c.text(fc.Arguments)
	c.text(fc.Input)
	return nil
}

// part is one element of a content array, in chat or Responses form.
type part struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text"`
	Refusal    *string         `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"` // chat: {url, detail}; Responses: a URL string
	Detail     string          `json:"detail"`    // Responses input_image
	InputAudio *struct {
		Data string `json:"data"`
	} `json:"input_audio"`
	File     *filePart `json:"file"` // chat
	FileData string    `json:"file_data"`
	Filename string    `json:"filename"`
}

type filePart struct {
	FileData string `json:"file_data"`
	Filename string `json:"filename"`
}

// content counts a message's content: a string, null, or an array of parts.
func (c *counter) content(raw json.RawMessage, path func() string) error {
	switch kindOf(raw) {
	case 'n':
		return nil
	case '"':
		var s string
		if err := unmarshal("", raw, &s); err != nil {
			return fieldError(path(), err, "")
		}
		c.text(s)
		return nil
	case '[':
	default:
		return fieldError(path(), nil, "want a string, an array of parts or null")
	}
	var parts []json.RawMessage
	if err := unmarshal("", raw, &parts); err != nil {
		return fieldError(path(), err, "")
	}
	for i, pr := range parts {
		var p part
		if err := unmarshal("", pr, &p); err != nil || kindOf(pr) != '{' {
			return fieldError(path()+"["+strconv.Itoa(i)+"]", err, "want an object")
		}
		if err := c.part(&p, pr, func() string { return path() + "[" + strconv.Itoa(i) + "]" }); err != nil {
			return err
		}
	}
	return nil
}

func (c *counter) part(p *part, raw json.RawMessage, path func() string) error {
	switch p.Type {
	case "image_url", "input_image":
		detail := p.Detail
		switch kindOf(p.ImageURL) {
		case '{':
			var img struct {
				Detail string `json:"detail"`
			}
			if err := unmarshal("", p.ImageURL, &img); err != nil {
				return fieldError(path()+".image_url", err, "")
			}
			detail = img.Detail
		case '"', 'n', 0:
		default:
			return fieldError(path()+".image_url", nil, "want an object or a URL string")
		}
		if strings.EqualFold(detail, "low") {
			c.n += imageLowDetailTokens
		} else {
			c.n += imageTokens
		}
	case "input_audio":
		if p.InputAudio != nil {
			c.n += ceilDiv(len(p.InputAudio.Data), AudioBase64BytesPerToken)
		}
	case "file", "input_file":
		data, name := p.FileData, p.Filename
		if p.File != nil {
			data, name = p.File.FileData, p.File.Filename
		}
		c.n += ceilDiv(len(data), FileBase64BytesPerToken)
		c.text(name)
	default: // "text", "input_text", "output_text", "refusal", and unknown kinds
		switch {
		case p.Text != nil:
			c.text(*p.Text)
		case p.Refusal != nil:
			c.text(*p.Refusal)
		default:
			c.json(raw)
		}
	}
	return nil
}

// responses counts a Responses API body.
func (c *counter) responses(top map[string]json.RawMessage) error {
	if raw := top["instructions"]; present(raw) {
		var s string
		if err := unmarshal("instructions", raw, &s); err != nil {
			return err
		}
		c.n += tokensPerMessage
		c.text("system")
		c.text(s)
	}
	raw := top["input"]
	switch kindOf(raw) {
	case 'n', 0:
	case '"':
		var s string
		if err := unmarshal("input", raw, &s); err != nil {
			return err
		}
		c.n += tokensPerMessage
		c.text("user")
		c.text(s)
	case '[':
		var items []json.RawMessage
		if err := unmarshal("input", raw, &items); err != nil {
			return err
		}
		for i, item := range items {
			if err := c.item(item, func() string { return "input[" + strconv.Itoa(i) + "]" }); err != nil {
				return err
			}
		}
	default:
		return &BodyError{Field: "input", Err: errors.New("want a string or an array of items")}
	}
	c.n += replyPriming
	return c.definitions(top)
}

// item counts one Responses input item.
func (c *counter) item(raw json.RawMessage, path func() string) error {
	var it struct {
		Type    string          `json:"type"`
		Role    json.RawMessage `json:"role"`
		Output  json.RawMessage `json:"output"`
		Summary []struct {
			Text string `json:"text"`
		} `json:"summary"`
	}
	if err := unmarshal("", raw, &it); err != nil || kindOf(raw) != '{' {
		return fieldError(path(), err, "want an object")
	}
	switch {
	case it.Type == "message" || (it.Type == "" && present(it.Role)):
		return c.message(raw, path)
	case it.Type == "function_call" || it.Type == "custom_tool_call":
		return c.call(raw, path)
	case strings.HasSuffix(it.Type, "_output"): // function_call_output, custom_tool_call_output, ...
		c.n += tokensPerMessage
		if kindOf(it.Output) == '[' {
			return c.content(it.Output, func() string { return path() + ".output" })
		}
		c.value(it.Output)
	case it.Type == "reasoning":
		for _, s := range it.Summary {
			c.text(s.Text)
		}
	case it.Type == "item_reference":
		// Refers to a stored item whose size the body does not show.
	default:
		c.n += tokensPerMessage
		c.json(raw)
	}
	return nil
}

// plainInputs counts embeddings or completions inputs: a string, a list of
// strings, a token array or a list of token arrays.
func (c *counter) plainInputs(field string, raw json.RawMessage) error {
	switch kindOf(raw) {
	case '"':
		var s string
		if err := unmarshal(field, raw, &s); err != nil {
			return err
		}
		c.text(s)
		return nil
	case '[':
	default:
		return &BodyError{Field: field, Err: errors.New("want a string or an array")}
	}
	var list []json.RawMessage
	if err := unmarshal(field, raw, &list); err != nil {
		return err
	}
	for i, el := range list {
		switch kindOf(el) {
		case '"':
			var s string
			if err := unmarshal("", el, &s); err != nil {
				return fieldError(field+"["+strconv.Itoa(i)+"]", err, "")
			}
			c.text(s)
		case '[':
			var ids []int64
			if err := unmarshal("", el, &ids); err != nil {
				return fieldError(field+"["+strconv.Itoa(i)+"]", err, "")
			}
			c.n += len(ids)
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			var id int64
			if err := unmarshal("", el, &id); err != nil {
				return fieldError(field+"["+strconv.Itoa(i)+"]", err, "")
			}
			c.n++
		default:
			return fieldError(field+"["+strconv.Itoa(i)+"]", nil, "want a string, a token or a token array")
		}
	}
	return nil
}

// isEmbeddings reports whether a body with "input" is an embeddings
// request rather than a Responses one.
func isEmbeddings(model string, top map[string]json.RawMessage) bool {
	if present(top["instructions"]) {
		return false
	}
	if raw := top["input"]; kindOf(raw) == '[' {
		// Responses items are objects; embeddings inputs never are.
		var first []json.RawMessage
		if json.Unmarshal(raw, &first) == nil && len(first) > 0 {
			return kindOf(first[0]) != '{'
		}
	}
	return strings.Contains(strings.ToLower(model), "embed") ||
		present(top["encoding_format"]) || present(top["dimensions"])
}

// unmarshal decodes raw into v, wrapping a failure in a BodyError for
// field.
func unmarshal(field string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return &BodyError{Field: field, Err: err}
	}
	return nil
}

// fieldError returns a BodyError at path: err's cause if err is set, else
// a "want ..." message. A BodyError from unmarshal has its field replaced.
func fieldError(path string, err error, want string) error {
	var be *BodyError
	if errors.As(err, &be) {
		err = be.Err
	}
	if err == nil {
		if want == "" {
			want = "malformed"
		}
		err = errors.New(want)
	}
	return &BodyError{Field: path, Err: err}
}

// kindOf returns the first byte of a JSON value ('{', '[', '"', 'n', ...)
// or 0 for an absent value.
func kindOf(raw json.RawMessage) byte {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b
	}
	return 0
}

// present reports whether a field is there and not null.
func present(raw json.RawMessage) bool {
	k := kindOf(raw)
	return k != 0 && k != 'n'
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
