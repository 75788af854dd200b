package respcache

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const chatBody = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",` +
	`"system_fingerprint":"fp_1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello, wörld!","refusal":null},` +
	`"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,` +
	`"prompt_tokens_details":{"cached_tokens":2}}}`

const toolBody = `{"id":"c2","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant",` +
	`"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},` +
	`{"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`

// reassemble rebuilds what a streaming client would see.
func reassemble(t *testing.T, events [][]byte) (content, finish string, tools []string, usage string, ids map[string]bool) {
	t.Helper()
	ids = map[string]bool{}
	for _, ev := range events {
		var c struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Choices []struct {
				Index int `json:"index"`
				Delta struct {
					Role      string `json:"role"`
					Content   string `json:"content"`
					ToolCalls []struct {
						Index    int `json:"index"`
						ID       string
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage json.RawMessage `json:"usage"`
		}
		if err := json.Unmarshal(ev, &c); err != nil {
			t.Fatalf("chunk %s: %v", ev, err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Errorf("object %q", c.Object)
		}
		ids[c.ID] = true
		for _, ch := range c.Choices {
			content += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				tools = append(tools, strings.Join([]string{string(rune('0' + tc.Index)), tc.ID, tc.Function.Name, tc.Function.Arguments}, " "))
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if len(c.Usage) > 0 {
			usage = string(c.Usage)
		}
	}
	return content, finish, tools, usage, ids
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		opts       ReplayOptions
		wantEvents int
		content    string
		finish     string
		tools      []string
		usage      bool
	}{
		{"one chunk", chatBody, ReplayOptions{}, 3, "Hello, wörld!", "stop", nil, false},
		{"runes", chatBody, ReplayOptions{ChunkRunes: 5, IncludeUsage: true}, 6, "Hello, wörld!", "stop", nil, true},
		{"tool calls", toolBody, ReplayOptions{IncludeUsage: true}, 4, "", "tool_calls",
			[]string{`0 call_1 f {"a":1}`, `1 call_2 g {}`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Replay(&Entry{Body: []byte(tt.body)}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var events [][]byte
			for s.Next() {
				events = append(events, append([]byte(nil), s.Event().Data...))
			}
			if s.Err() != nil || s.Header().Get("Content-Type") != "text/event-stream" {
				t.Errorf("err %v header %v", s.Err(), s.Header())
			}
			content, finish, tools, usage, ids := reassemble(t, events)
			if len(events) != tt.wantEvents || content != tt.content || finish != tt.finish ||
				strings.Join(tools, "|") != strings.Join(tt.tools, "|") || (usage != "") != tt.usage || len(ids) != 1 {
				t.Errorf("%d events, content %q, finish %q, tools %q, usage %q, ids %v", len(events), content, finish, tools, usage, ids)
			}
		})
	}
	s, _ := Replay(&Entry{Body: []byte(chatBody)}, ReplayOptions{})
	if u := s.Usage(); u.PromptTokens != 9 || u.CompletionTokens != 4 || u.TotalTokens != 13 || u.CachedTokens != 2 {
		t.Errorf("usage %+v", u)
	}
	_ = s.Close()
	if s.Next() {
		t.Error("Next after Close")
	}
}

func TestReplayRejects(t *testing.T) {
	for _, body := range []string{`{"object":"text_completion","choices":[]}`, `{"data":[]}`, `nope`,
		`{"object":"chat.completion","choices":[{"message":{"tool_calls":[1]}}]}`} {
		if _, err := Replay(&Entry{Body: []byte(body)}, ReplayOptions{}); !errors.Is(err, errNotReplayable) {
			t.Errorf("%s: %v", body, err)
		}
	}
}
