package openai

// Chat over a legacy completions model (LiteLLM's
// "text-completion-openai/<model>"): the chat request is sent to
// /completions with its messages joined into a prompt, and the answer, or
// each streamed chunk, is given back in chat-completion shape. These are
// the only conversions besides the Responses bridge; they go through
// encoding/json maps, which keeps unknown fields but not their order.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
)

func textBadRequest(param, msg string, err error) error {
	return &provider.Error{Class: provider.ClassBadRequest, Param: param, Message: "openai: text completion: " + msg, Err: err}
}

// chatToCompletionRequest turns a chat request body into a /completions
// body for the model modelJSON: "messages" becomes "prompt" (each
// message's text, text parts concatenated, joined with "\n"; a "prompt"
// already in the body wins), and every other field is kept.
func chatToCompletionRequest(body, modelJSON []byte, stream bool) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		if err == nil {
			err = errNotObject
		}
		return nil, textBadRequest("", "request body is not a JSON object", err)
	}
	if s := strings.TrimSpace(string(m["stream"])); s == "true" && !stream {
		return nil, textBadRequest("stream", `the body asks for "stream": true; use Stream`, nil)
	}
	if _, ok := m["prompt"]; !ok {
		raw, ok := m["messages"]
		if !ok {
			return nil, textBadRequest("messages", "'messages' is required", nil)
		}
		var msgs []struct {
			Content json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, textBadRequest("messages", "'messages' must be a list of messages", err)
		}
		var prompt strings.Builder
		for i, msg := range msgs {
			text, err := contentText(msg.Content)
			if err != nil {
				return nil, textBadRequest("messages", "message content must be a string or a list of parts", err)
			}
			if i > 0 {
				prompt.WriteByte('\n')
			}
			prompt.WriteString(text)
		}
		m["prompt"] = quoteJSON(prompt.String())
	}
	delete(m, "messages")
	m["model"] = modelJSON
	if stream {
		m["stream"] = litTrue
	}
	return json.Marshal(m)
}

// contentText returns a chat message content's text: the string itself, or
// the text parts of a list, concatenated.
func contentText(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// completionChoice is one choice of a text_completion (chunk).
type completionChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	FinishReason json.RawMessage `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

type chatMessageOut struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type chatChoiceOut struct {
	Index        int             `json:"index"`
	Message      *chatMessageOut `json:"message,omitempty"`
	Delta        *chatMessageOut `json:"delta,omitempty"`
	FinishReason json.RawMessage `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

// convertCompletion rewrites a text_completion object (or chunk) in m into
// its chat shape. first marks the first chunk of a stream, whose delta
// carries the assistant role.
func convertCompletion(m map[string]json.RawMessage, chunk, first bool) error {
	var choices []completionChoice
	if raw, ok := m["choices"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &choices); err != nil {
			return err
		}
	}
	out := make([]chatChoiceOut, len(choices))
	for i, c := range choices {
		msg := &chatMessageOut{Role: "assistant", Content: c.Text}
		out[i] = chatChoiceOut{Index: c.Index, FinishReason: c.FinishReason, Logprobs: c.Logprobs}
		if chunk {
			if !first {
				msg.Role = ""
			}
			out[i].Delta = msg
		} else {
			out[i].Message = msg
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	m["choices"] = b
	if chunk {
		m["object"] = json.RawMessage(`"chat.completion.chunk"`)
	} else {
		m["object"] = json.RawMessage(`"chat.completion"`)
	}
	return nil
}

// completionToChat converts a /completions answer into a chat completion.
func completionToChat(body []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotObject
	}
	if err := convertCompletion(m, false, false); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// completionChatStream converts a stream of text_completion chunks into
// chat.completion.chunk events.
type completionChatStream struct {
	in    provider.Stream
	cur   []byte
	first bool
	err   error
}

func newCompletionChatStream(in provider.Stream) provider.Stream {
	return &completionChatStream{in: in, first: true}
}

func (s *completionChatStream) Header() http.Header   { return s.in.Header() }
func (s *completionChatStream) Usage() provider.Usage { return s.in.Usage() }
func (s *completionChatStream) Close() error          { return s.in.Close() }
func (s *completionChatStream) Event() provider.Event { return provider.Event{Data: s.cur} }

func (s *completionChatStream) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.in.Err()
}

func (s *completionChatStream) Next() bool {
	if s.err != nil || !s.in.Next() {
		return false
	}
	var m map[string]json.RawMessage
	err := json.Unmarshal(s.in.Event().Data, &m)
	if err == nil {
		err = convertCompletion(m, true, s.first)
	}
	if err == nil {
		s.cur, err = json.Marshal(m)
	}
	if err != nil {
		var pe *provider.Error
		if !errors.As(err, &pe) {
			pe = &provider.Error{Class: provider.ClassConnection, Message: "openai: text completion: malformed chunk", Err: err}
		}
		s.err = pe
		s.in.Close()
		return false
	}
	s.first = false
	return true
}
