package openaitest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func chatBody(model, user string, extra map[string]any) string {
	m := map[string]any{
		"model":    model,
		"messages": []any{map[string]any{"role": "system", "content": "be brief"}, map[string]any{"role": "user", "content": user}},
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

var twoTools = []any{
	map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object"}}},
	map[string]any{"type": "function", "function": map[string]any{"name": "get_time"}},
}

func TestChat(t *testing.T) {
	tests := []struct {
		name       string
		opts       []openaitest.Option
		body       string
		wantText   any // string, or nil for a null content
		wantFinish string
		wantTools  []string
	}{
		{name: "echo", body: chatBody("gpt-4o", "hello there", nil), wantText: "echo: hello there", wantFinish: "stop"},
		{name: "configured reply", opts: []openaitest.Option{openaitest.WithReply("fixed")}, body: chatBody("gpt-4o", "x", nil), wantText: "fixed", wantFinish: "stop"},
		{name: "content parts", body: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"b"}]}]}`, wantText: "echo: a b", wantFinish: "stop"},
		{name: "escaped content", body: `{"model":"m","messages":[{"role":"user","content":"tab\tand \u00e9 \"q\""}]}`, wantText: "echo: tab\tand é \"q\"", wantFinish: "stop"},
		{name: "last user message", body: `{"model":"m","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":"second"},{"role":"tool","content":"t"}]}`, wantText: "echo: second", wantFinish: "stop"},
		{name: "max_tokens truncates", body: chatBody("m", "a long prompt that will be cut", map[string]any{"max_tokens": 2}), wantText: "echo: a ", wantFinish: "length"},
		{name: "max_completion_tokens truncates", body: chatBody("m", "a long prompt that will be cut", map[string]any{"max_completion_tokens": 1}), wantText: "echo", wantFinish: "length"},
		{name: "tools without trigger", body: chatBody("m", "hi", map[string]any{"tools": twoTools}), wantText: "echo: hi", wantFinish: "stop"},
		{name: "parallel tool calls", body: chatBody("m", "please Call Tool now", map[string]any{"tools": twoTools}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_weather", "get_time"}},
		{name: "parallel_tool_calls false", body: chatBody("m", "call tool", map[string]any{"tools": twoTools, "parallel_tool_calls": false}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_weather"}},
		{name: "one tool", body: chatBody("m", "call tool", map[string]any{"tools": twoTools[:1]}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_weather"}},
		{name: "tool_choice none", body: chatBody("m", "call tool", map[string]any{"tools": twoTools, "tool_choice": "none"}), wantText: "echo: call tool", wantFinish: "stop"},
		{name: "tool_choice required", body: chatBody("m", "hi", map[string]any{"tools": twoTools, "tool_choice": "required"}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_weather", "get_time"}},
		{name: "tool_choice named", body: chatBody("m", "hi", map[string]any{"tools": twoTools, "tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_time"}}}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_time"}},
		{name: "WithToolCalls", opts: []openaitest.Option{openaitest.WithToolCalls()}, body: chatBody("m", "hi", map[string]any{"tools": twoTools}), wantText: nil, wantFinish: "tool_calls", wantTools: []string{"get_weather", "get_time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(tt.opts...)
			defer srv.Close()
			r := post(t, srv, "/chat/completions", "sk-test", tt.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if got := path(m, "choices", 0, "message", "content"); got != tt.wantText {
				t.Errorf("content = %#v, want %#v", got, tt.wantText)
			}
			if got := path(m, "choices", 0, "finish_reason"); got != tt.wantFinish {
				t.Errorf("finish_reason = %v, want %v", got, tt.wantFinish)
			}
			calls, _ := path(m, "choices", 0, "message", "tool_calls").([]any)
			if len(calls) != len(tt.wantTools) {
				t.Fatalf("tool_calls = %v, want %v", calls, tt.wantTools)
			}
			for i, name := range tt.wantTools {
				if got := path(calls[i], "function", "name"); got != name {
					t.Errorf("tool call %d name = %v, want %v", i, got, name)
				}
				args, _ := path(calls[i], "function", "arguments").(string)
				if !json.Valid([]byte(args)) {
					t.Errorf("tool call %d arguments are not JSON: %q", i, args)
				}
				if id, _ := path(calls[i], "id").(string); !strings.HasPrefix(id, "call_") {
					t.Errorf("tool call %d id = %q", i, id)
				}
			}
		})
	}
}

func TestChatFields(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithReasoning("let me think"))
	defer srv.Close()
	body := chatBody("my-model", "hi", nil)
	r := post(t, srv, "/chat/completions", "sk-any", body)
	m := r.json(t)
	checks := map[string]struct{ got, want any }{
		"object":             {m["object"], "chat.completion"},
		"model":              {m["model"], "my-model"},
		"id":                 {m["id"], "chatcmpl-1"},
		"system_fingerprint": {m["system_fingerprint"], openaitest.SystemFingerprint},
		"role":               {path(m, "choices", 0, "message", "role"), "assistant"},
		"reasoning_content":  {path(m, "choices", 0, "message", "reasoning_content"), "let me think"},
		"provider_specific":  {path(m, "choices", 0, "message", "provider_specific_fields", "openaitest"), true},
		"prompt_tokens":      {path(m, "usage", "prompt_tokens"), float64(len(body) / 4)},
		"completion_tokens":  {path(m, "usage", "completion_tokens"), float64(2 + 3)}, // "echo: hi" + "let me think"
		"total_tokens":       {path(m, "usage", "total_tokens"), float64(len(body)/4 + 5)},
		"reasoning_tokens":   {path(m, "usage", "completion_tokens_details", "reasoning_tokens"), float64(3)},
		"x-request-id":       {r.header.Get("X-Request-Id"), "req_1"},
		"openai-model":       {r.header.Get("Openai-Model"), "my-model"},
		"openai-version":     {r.header.Get("Openai-Version"), "2020-10-01"},
		"content-type":       {r.header.Get("Content-Type"), "application/json"},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", name, c.got, c.want)
		}
	}
	if r.header.Get("Openai-Processing-Ms") == "" {
		t.Error("no openai-processing-ms header")
	}
	// Without limits configured, no rate-limit headers are sent.
	if v := r.header.Get("X-Ratelimit-Limit-Requests"); v != "" {
		t.Errorf("x-ratelimit-limit-requests = %q without limits", v)
	}
	// Ids count up per request.
	if got := post(t, srv, "/chat/completions", "sk-any", body).json(t)["id"]; got != "chatcmpl-2" {
		t.Errorf("second id = %v, want chatcmpl-2", got)
	}
}

func TestChatBadRequests(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	tests := []struct{ name, body, param string }{
		{"not JSON", `{"model":`, ""},
		{"not an object", `[1,2]`, ""},
		{"no model", `{"messages":[{"role":"user","content":"x"}]}`, "model"},
		{"no messages", `{"model":"m"}`, "messages"},
		{"wrong type", `{"model":"m","messages":"x"}`, ""},
		{"max_tokens zero", `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}`, "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv, "/chat/completions", "sk", tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			e := r.errorOf(t)
			if e["type"] != "invalid_request_error" {
				t.Errorf("type = %v", e["type"])
			}
			if tt.param != "" && e["param"] != tt.param {
				t.Errorf("param = %v, want %v", e["param"], tt.param)
			}
		})
	}
}

// chunkContent concatenates the content deltas of chat chunks and checks
// their shape.
func chunkContent(t *testing.T, chunks []map[string]any) (content, finish string, usage map[string]any, calls map[int]map[string]string) {
	t.Helper()
	calls = map[int]map[string]string{}
	for i, ch := range chunks {
		if ch["object"] != "chat.completion.chunk" {
			t.Fatalf("chunk %d object = %v", i, ch["object"])
		}
		choices, ok := ch["choices"].([]any)
		if !ok {
			t.Fatalf("chunk %d has no choices array", i)
		}
		if u, ok := ch["usage"].(map[string]any); ok {
			if len(choices) != 0 {
				t.Fatalf("usage chunk %d has choices", i)
			}
			if i != len(chunks)-1 {
				t.Fatalf("usage chunk %d is not last", i)
			}
			usage = u
		}
		for _, c := range choices {
			if s, ok := path(c, "delta", "content").(string); ok {
				content += s
			}
			if f, ok := path(c, "finish_reason").(string); ok {
				finish = f
			}
			tcs, _ := path(c, "delta", "tool_calls").([]any)
			for _, tc := range tcs {
				idx := int(path(tc, "index").(float64))
				if calls[idx] == nil {
					calls[idx] = map[string]string{}
				}
				if id, ok := path(tc, "id").(string); ok {
					calls[idx]["id"] = id
				}
				if name, ok := path(tc, "function", "name").(string); ok {
					calls[idx]["name"] += name
				}
				if args, ok := path(tc, "function", "arguments").(string); ok {
					calls[idx]["arguments"] += args
				}
			}
		}
	}
	return content, finish, usage, calls
}

func TestChatStream(t *testing.T) {
	tests := []struct {
		name         string
		opts         []openaitest.Option
		extra        map[string]any
		user         string
		wantContent  string
		wantFinish   string
		wantUsage    bool
		wantCalls    []string
		wantMinCount int // content events at least
	}{
		{name: "words", user: "one two three", wantContent: "echo: one two three", wantFinish: "stop", wantMinCount: 4},
		{name: "include_usage", user: "hi", extra: map[string]any{"stream_options": map[string]any{"include_usage": true}}, wantContent: "echo: hi", wantFinish: "stop", wantUsage: true},
		{name: "fixed chunks", opts: []openaitest.Option{openaitest.WithStreamTiming(0, 0, 3)}, user: "abcdefghijkl", wantContent: "echo: abcdefghijkl", wantFinish: "stop", wantMinCount: 3},
		{name: "max_tokens", user: "a long prompt that will be cut", extra: map[string]any{"max_tokens": 2}, wantContent: "echo: a ", wantFinish: "length"},
		{name: "tool calls", user: "call tool", extra: map[string]any{"tools": twoTools, "stream_options": map[string]any{"include_usage": true}}, wantFinish: "tool_calls", wantUsage: true, wantCalls: []string{"get_weather", "get_time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(tt.opts...)
			defer srv.Close()
			extra := map[string]any{"stream": true}
			for k, v := range tt.extra {
				extra[k] = v
			}
			s := stream(t, srv, chatURL(srv), chatBody("gpt-4o", tt.user, extra), header("Authorization", "Bearer k"))
			if s.status != http.StatusOK || s.readErr != nil {
				t.Fatalf("status %d, read error %v", s.status, s.readErr)
			}
			if ct := s.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Errorf("content-type %q", ct)
			}
			if s.header.Get("X-Request-Id") == "" {
				t.Error("no x-request-id on the stream")
			}
			if last := s.events[len(s.events)-1]; last.data != "[DONE]" {
				t.Fatalf("last event %q, want [DONE]", last.data)
			}
			chunks := s.objects(t)
			if got := path(chunks[0], "choices", 0, "delta", "role"); got != "assistant" {
				t.Errorf("first delta role = %v", got)
			}
			content, finish, usage, calls := chunkContent(t, chunks)
			if content != tt.wantContent || finish != tt.wantFinish {
				t.Errorf("content %q finish %q, want %q %q", content, finish, tt.wantContent, tt.wantFinish)
			}
			if (usage != nil) != tt.wantUsage {
				t.Errorf("usage chunk present = %v, want %v", usage != nil, tt.wantUsage)
			}
			if tt.wantUsage {
				// Every chunk carries "usage": null until the last.
				if _, ok := chunks[0]["usage"]; !ok {
					t.Error("first chunk lacks usage: null under include_usage")
				}
				if usage["total_tokens"].(float64) <= 0 {
					t.Errorf("usage %v", usage)
				}
			}
			if len(calls) != len(tt.wantCalls) {
				t.Fatalf("calls %v, want %v", calls, tt.wantCalls)
			}
			for i, name := range tt.wantCalls {
				if calls[i]["name"] != name || calls[i]["id"] == "" || !json.Valid([]byte(calls[i]["arguments"])) {
					t.Errorf("call %d = %v", i, calls[i])
				}
			}
			if tt.wantMinCount > 0 && len(chunks) < tt.wantMinCount+2 {
				t.Errorf("%d chunks, want at least %d content chunks", len(chunks), tt.wantMinCount)
			}
		})
	}
}

func TestChatStreamReasoning(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithReasoning("deep thought"))
	defer srv.Close()
	s := stream(t, srv, chatURL(srv), chatBody("m", "q", map[string]any{"stream": true}), header("Authorization", "Bearer k"))
	var reasoning string
	for _, ch := range s.objects(t) {
		if r, ok := path(ch, "choices", 0, "delta", "reasoning_content").(string); ok {
			reasoning += r
		}
	}
	if reasoning != "deep thought" {
		t.Errorf("reasoning %q", reasoning)
	}
}
