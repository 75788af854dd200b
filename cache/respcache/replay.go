package respcache

import (
	"encoding/json"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
)

// errNotReplayable says a cached body is not a chat completion that
// Replay can turn into a stream.
var errNotReplayable = errors.New("respcache: cached response is not a chat completion")

// ReplayOptions shapes a replayed stream.
type ReplayOptions struct {
	// IncludeUsage adds the final usage chunk (choices: []), as
	// stream_options.include_usage asks.
	IncludeUsage bool
	// ChunkRunes splits each message's content into chunks of at most this
	// many characters; zero sends each content in one chunk.
	ChunkRunes int
}

// chat completion, as much of it as a replay needs. Unknown fields of the
// message are dropped; the choice's logprobs are not replayed.
type cachedCompletion struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint *string         `json:"system_fingerprint,omitempty"`
	ServiceTier       *string         `json:"service_tier,omitempty"`
	Usage             json.RawMessage `json:"usage,omitempty"`
	Choices           []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string            `json:"role"`
			Content   *string           `json:"content"`
			Refusal   *string           `json:"refusal"`
			ToolCalls []json.RawMessage `json:"tool_calls"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

type chunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint *string         `json:"system_fingerprint,omitempty"`
	ServiceTier       *string         `json:"service_tier,omitempty"`
	Choices           []chunkChoice   `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role      string            `json:"role,omitempty"`
	Content   *string           `json:"content,omitempty"`
	Refusal   *string           `json:"refusal,omitempty"`
	ToolCalls []json.RawMessage `json:"tool_calls,omitempty"`
}

// replayEvents turns a chat completion body into the chat.completion.chunk
// events an upstream would have streamed: per choice, a first chunk with
// the role, the content (in pieces of ChunkRunes), the refusal, the tool
// calls (each with an index and its whole arguments), and a last chunk with
// the finish reason; then the usage chunk if asked.
func replayEvents(body []byte, o ReplayOptions) ([]provider.Event, error) {
	var c cachedCompletion
	if err := json.Unmarshal(body, &c); err != nil || c.Object != "chat.completion" {
		return nil, errNotReplayable
	}
	var events []provider.Event
	emit := func(ch chunkChoice) error {
		b, err := json.Marshal(chunk{ID: c.ID, Object: "chat.completion.chunk", Created: c.Created, Model: c.Model,
			SystemFingerprint: c.SystemFingerprint, ServiceTier: c.ServiceTier, Choices: []chunkChoice{ch}})
		events = append(events, provider.Event{Data: b})
		return err
	}
	empty := ""
	for _, ch := range c.Choices {
		m := ch.Message
		role := m.Role
		if role == "" {
			role = "assistant"
		}
		if err := emit(chunkChoice{Index: ch.Index, Delta: chunkDelta{Role: role, Content: &empty}}); err != nil {
			return nil, err
		}
		if m.Content != nil {
			for _, piece := range splitRunes(*m.Content, o.ChunkRunes) {
				if err := emit(chunkChoice{Index: ch.Index, Delta: chunkDelta{Content: &piece}}); err != nil {
					return nil, err
				}
			}
		}
		if m.Refusal != nil {
			if err := emit(chunkChoice{Index: ch.Index, Delta: chunkDelta{Refusal: m.Refusal}}); err != nil {
				return nil, err
			}
		}
		for i, tc := range m.ToolCalls {
			indexed, err := withIndex(tc, i)
			if err != nil {
				return nil, errNotReplayable
			}
			if err := emit(chunkChoice{Index: ch.Index, Delta: chunkDelta{ToolCalls: []json.RawMessage{indexed}}}); err != nil {
				return nil, err
			}
		}
		if err := emit(chunkChoice{Index: ch.Index, FinishReason: ch.FinishReason}); err != nil {
			return nil, err
		}
	}
	if o.IncludeUsage && len(c.Usage) > 0 && string(c.Usage) != "null" {
		b, err := json.Marshal(chunk{ID: c.ID, Object: "chat.completion.chunk", Created: c.Created, Model: c.Model,
			SystemFingerprint: c.SystemFingerprint, ServiceTier: c.ServiceTier, Choices: []chunkChoice{}, Usage: c.Usage})
		if err != nil {
			return nil, err
		}
		events = append(events, provider.Event{Data: b})
	}
	return events, nil
}

// withIndex adds "index": i to a tool call object, as stream deltas carry.
func withIndex(tc json.RawMessage, i int) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(tc, &m); err != nil {
		return nil, err
	}
	m["index"], _ = json.Marshal(i)
	return json.Marshal(m)
}

func splitRunes(s string, n int) []string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return []string{s}
	}
	var out []string
	for len(s) > 0 {
		end, count := 0, 0
		for end < len(s) && count < n {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
			count++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

// Replay returns a cached chat completion as a [provider.Stream] of
// chat.completion.chunk events, so that a streaming request can be served
// from the cache: per choice, a first chunk with the role, the content (in
// pieces of ChunkRunes), the refusal, the tool calls (each with an index
// and its whole arguments), and a last chunk with the finish reason; then
// the usage chunk if asked. The stream's header is the entry's with
// Content-Type text/event-stream; its Usage is the completion's usage. It
// fails when the entry is not a chat completion.
func Replay(e *Entry, o ReplayOptions) (provider.Stream, error) {
	events, err := replayEvents(e.Body, o)
	if err != nil {
		return nil, err
	}
	h := e.Header.Clone()
	if h == nil {
		h = make(http.Header, 1)
	}
	h.Set("Content-Type", "text/event-stream")
	return &replayStream{header: h, events: events, usage: usage.FromBody(e.Body), i: -1}, nil
}

// replayStream is a provider.Stream over events held in memory. It is not
// safe for concurrent use, like every provider.Stream.
type replayStream struct {
	header http.Header
	events []provider.Event
	usage  provider.Usage
	i      int
	closed bool
}

func (s *replayStream) Header() http.Header { return s.header }

func (s *replayStream) Next() bool {
	if s.closed || s.i+1 >= len(s.events) {
		s.i = len(s.events)
		return false
	}
	s.i++
	return true
}

func (s *replayStream) Event() provider.Event {
	if s.i < 0 || s.i >= len(s.events) {
		return provider.Event{}
	}
	return s.events[s.i]
}

func (s *replayStream) Usage() provider.Usage { return s.usage }

func (s *replayStream) Err() error { return nil }

func (s *replayStream) Close() error {
	s.closed = true
	return nil
}

var _ provider.Stream = (*replayStream)(nil)
