package openaitest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// apiRequest holds the request fields the fake reads, for every JSON
// endpoint; everything else in the body is ignored.
type apiRequest struct {
	Model               string          `json:"model"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	MaxOutputTokens     *int            `json:"max_output_tokens"`
	Messages            []chatMessage   `json:"messages"`
	Tools               []toolDef       `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls"`
	Prompt              json.RawMessage `json:"prompt"`
	Input               json.RawMessage `json:"input"`
	Instructions        json.RawMessage `json:"instructions"`
	Reasoning           *reasoningParam `json:"reasoning"`
	PreviousResponseID  *string         `json:"previous_response_id"`
	Dimensions          *int            `json:"dimensions"`
	EncodingFormat      string          `json:"encoding_format"`

	// form holds a transcription's multipart fields.
	form *transcriptionForm
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type reasoningParam struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

// toolDef is a tool offered in a chat request ({"type": "function",
// "function": {"name"}}) or a responses request ({"type": "function",
// "name"}).
type toolDef struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Function *struct {
		Name string `json:"name"`
	} `json:"function"`
}

func (t toolDef) name() string {
	if t.Function != nil && t.Function.Name != "" {
		return t.Function.Name
	}
	return t.Name
}

type transcriptionForm struct {
	model, responseFormat, fileName string
	fileSize                        int
	hasFile                         bool
}

// maxOutput is the request's completion limit, 0 when unset.
func (r *apiRequest) maxOutput() int {
	for _, p := range []*int{r.MaxCompletionTokens, r.MaxTokens, r.MaxOutputTokens} {
		if p != nil {
			return *p
		}
	}
	return 0
}

// parse reads the body into c.req, answering 400 when it is not a valid
// request for the endpoint.
func (c *call) parse() bool {
	switch c.ep {
	case epModels:
		return true
	case epTranscriptions:
		return c.parseForm()
	}
	if err := json.Unmarshal(c.body, &c.req); err != nil {
		c.badRequest("", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
		return false
	}
	c.model, c.stream = c.req.Model, c.req.Stream
	if c.model == "" && c.deployment == "" {
		c.badRequest("model", "you must provide a model parameter")
		return false
	}
	if n := c.req.maxOutput(); (c.req.MaxTokens != nil || c.req.MaxCompletionTokens != nil || c.req.MaxOutputTokens != nil) && n < 1 {
		c.badRequest("max_tokens", "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got "+strconv.Itoa(n)+" instead.")
		return false
	}
	switch c.ep {
	case epChat:
		if len(c.req.Messages) == 0 {
			c.badRequest("messages", "[] is too short - 'messages'")
			return false
		}
	case epCompletions:
		if len(c.req.Prompt) == 0 || string(c.req.Prompt) == "null" {
			c.badRequest("prompt", "you must provide a prompt parameter")
			return false
		}
	case epEmbeddings:
		c.stream = false
	}
	c.promptTokens = max(c.h.estimate(c.body), 0)
	return true
}

func (c *call) badRequest(param, msg string) {
	c.fail(http.StatusBadRequest, apiError{Message: msg, Type: "invalid_request_error", Param: nullString(param)})
}

// parseForm reads a transcription's multipart/form-data body, without
// temporary files.
func (c *call) parseForm() bool {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		c.badRequest("", "Invalid Content-Type header ("+c.r.Header.Get("Content-Type")+"), expected multipart/form-data.")
		return false
	}
	f := &transcriptionForm{}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.badRequest("", "Could not parse multipart form: "+err.Error())
			return false
		}
		switch p.FormName() {
		case "file":
			n, err := io.Copy(io.Discard, p)
			if err != nil {
				c.badRequest("file", "Could not parse multipart form: "+err.Error())
				return false
			}
			f.hasFile, f.fileName, f.fileSize = true, p.FileName(), int(n)
		case "model", "response_format":
			v, err := io.ReadAll(io.LimitReader(p, 1<<10))
			if err != nil {
				c.badRequest(p.FormName(), "Could not parse multipart form: "+err.Error())
				return false
			}
			switch p.FormName() {
			case "model":
				f.model = string(v)
			case "response_format":
				f.responseFormat = string(v)
			}
		}
	}
	c.req.form, c.model = f, f.model
	if !f.hasFile {
		c.badRequest("file", "You must provide a file.")
		return false
	}
	if f.model == "" && c.deployment == "" {
		c.badRequest("model", "you must provide a model parameter")
		return false
	}
	return true
}

// textOf returns the text of a message content: a string, or the text
// parts of a list of parts joined with spaces.
func textOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		// Fast path: a string without escapes is its own text (the body
		// was validated as JSON already).
		if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			return string(raw[1 : len(raw)-1])
		}
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		_ = json.Unmarshal(raw, &parts)
		var texts []string
		for _, p := range parts {
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
		}
		return strings.Join(texts, " ")
	}
	return ""
}

// lastUserText returns the text of the last user message.
func lastUserText(msgs []chatMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return textOf(msgs[i].Content)
		}
	}
	return ""
}

// tokensOf estimates the tokens of generated text: len/4 rounded up.
func tokensOf(s string) int { return (len(s) + 3) / 4 }
