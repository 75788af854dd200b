package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// bridgeFakeStream is a provider.Stream over a slice of events.
type bridgeFakeStream struct {
	events []provider.Event
	i      int
	err    error // returned by Err after the events run out
	header http.Header
	closed int
}

func (f *bridgeFakeStream) Header() http.Header { return f.header }
func (f *bridgeFakeStream) Next() bool {
	if f.i >= len(f.events) {
		return false
	}
	f.i++
	return true
}
func (f *bridgeFakeStream) Event() provider.Event { return f.events[f.i-1] }
func (f *bridgeFakeStream) Usage() provider.Usage { return provider.Usage{} }
func (f *bridgeFakeStream) Err() error {
	if f.i >= len(f.events) {
		return f.err
	}
	return nil
}
func (f *bridgeFakeStream) Close() error { f.closed++; return nil }

// ev builds a named event whose data carries the type too, as OpenAI sends.
func bridgeEv(name, fields string) provider.Event {
	data := `{"type":"` + name + `"`
	if fields != "" {
		data += "," + fields
	}
	return provider.Event{Name: name, Data: []byte(data + "}")}
}

// bridgeChatAssembly is what a chat client rebuilds from the chunks.
type bridgeChatAssembly struct {
	chunks    int
	role      string
	content   string
	refusal   string
	reasoning string
	tools     map[int]*bridgeChatToolOut
	finish    string
	usage     *bridgeChatUsage
	ids       map[string]bool
}

// assemble drains s, checking that every chunk is a well-formed chat chunk.
func bridgeAssemble(t *testing.T, s provider.Stream) *bridgeChatAssembly {
	t.Helper()
	a := &bridgeChatAssembly{tools: map[int]*bridgeChatToolOut{}, ids: map[string]bool{}}
	for s.Next() {
		e := s.Event()
		if e.Name != "" {
			t.Fatalf("chunk has event name %q", e.Name)
		}
		var c struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created *int64 `json:"created"`
			Model   *string
			Choices []struct {
				Index int `json:"index"`
				Delta struct {
					Role             string  `json:"role"`
					Content          *string `json:"content"`
					Refusal          *string `json:"refusal"`
					ReasoningContent *string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    *int   `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *bridgeChatUsage `json:"usage"`
		}
		dec := json.NewDecoder(bytes.NewReader(e.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("chunk %d is not a chat chunk: %v\n%s", a.chunks, err, e.Data)
		}
		if c.Object != "chat.completion.chunk" || c.Created == nil || c.Model == nil || c.Choices == nil {
			t.Fatalf("chunk %d lacks object/created/model/choices: %s", a.chunks, e.Data)
		}
		a.chunks++
		a.ids[c.ID] = true
		if c.Usage != nil {
			if len(c.Choices) != 0 {
				t.Fatalf("usage chunk has choices: %s", e.Data)
			}
			a.usage = c.Usage
			continue
		}
		if len(c.Choices) != 1 || c.Choices[0].Index != 0 {
			t.Fatalf("chunk %d: want one choice at index 0: %s", a.chunks, e.Data)
		}
		ch := c.Choices[0]
		if a.finish != "" {
			t.Fatalf("chunk after finish_reason: %s", e.Data)
		}
		if a.chunks == 1 && ch.Delta.Role != "assistant" {
			t.Fatalf("first chunk lacks role assistant: %s", e.Data)
		}
		if a.chunks > 1 && ch.Delta.Role != "" {
			t.Fatalf("role repeated: %s", e.Data)
		}
		a.role += ch.Delta.Role
		if ch.Delta.Content != nil {
			a.content += *ch.Delta.Content
		}
		if ch.Delta.Refusal != nil {
			a.refusal += *ch.Delta.Refusal
		}
		if ch.Delta.ReasoningContent != nil {
			a.reasoning += *ch.Delta.ReasoningContent
		}
		for _, tc := range ch.Delta.ToolCalls {
			if tc.Index == nil {
				t.Fatalf("tool call delta without index: %s", e.Data)
			}
			cur, ok := a.tools[*tc.Index]
			if !ok {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
					t.Fatalf("first delta of tool %d lacks id/type/name: %s", *tc.Index, e.Data)
				}
				cur = &bridgeChatToolOut{ID: tc.ID, Type: tc.Type}
				cur.Function.Name = tc.Function.Name
				a.tools[*tc.Index] = cur
			} else if tc.ID != "" || tc.Function.Name != "" {
				t.Fatalf("tool %d: id/name repeated: %s", *tc.Index, e.Data)
			}
			cur.Function.Arguments += tc.Function.Arguments
		}
		if ch.FinishReason != nil {
			a.finish = *ch.FinishReason
		}
	}
	return a
}

const bridgeCompletedText = `"response":{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"completed",
	"output":[{"type":"message","content":[{"type":"output_text","text":"Hi \"there\"\n\u00e9😀"}]}],
	"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":1},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":12}}`

func bridgeTextStreamEvents() []provider.Event {
	return []provider.Event{
		bridgeEv("response.created", `"sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"in_progress","output":[]}`),
		bridgeEv("response.in_progress", `"response":{"id":"resp_1","created_at":1700000000,"model":"gpt-5","status":"in_progress"}`),
		bridgeEv("response.output_item.added", `"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}`),
		bridgeEv("response.content_part.added", `"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}`),
		bridgeEv("response.output_text.delta", `"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi \"there\""`),
		bridgeEv("response.output_text.delta", `"item_id":"msg_1","output_index":0,"content_index":0,"delta":"\n\u00e9😀"`),
		bridgeEv("response.output_text.done", `"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hi \"there\"\n\u00e9😀"`),
		bridgeEv("response.output_item.done", `"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Hi"}]}`),
		bridgeEv("response.completed", bridgeCompletedText),
	}
}

func TestBridgeStreamText(t *testing.T) {
	inner := &bridgeFakeStream{events: bridgeTextStreamEvents(), header: http.Header{"X-Request-Id": {"req_1"}}}
	s := newBridgeStream(inner)
	a := bridgeAssemble(t, s)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if a.role != "assistant" || a.content != "Hi \"there\"\né😀" {
		t.Errorf("role %q content %q", a.role, a.content)
	}
	if a.finish != "stop" {
		t.Errorf("finish = %q", a.finish)
	}
	// role, 2 deltas, finish, usage
	if a.chunks != 5 {
		t.Errorf("chunks = %d, want 5", a.chunks)
	}
	if len(a.ids) != 1 || !a.ids["resp_1"] {
		t.Errorf("chunk ids = %v", a.ids)
	}
	want := provider.Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12, CachedTokens: 1, ReasoningTokens: 2}
	if s.Usage() != want {
		t.Errorf("Usage() = %+v, want %+v", s.Usage(), want)
	}
	if a.usage == nil || a.usage.PromptTokens != 5 || a.usage.CompletionTokensDetails == nil || a.usage.CompletionTokensDetails.ReasoningTokens != 2 {
		t.Errorf("usage chunk = %+v", a.usage)
	}
	if s.Header().Get("X-Request-Id") != "req_1" {
		t.Error("Header not delegated")
	}
	if s.Next() {
		t.Error("Next true after end")
	}
	_ = s.Close()
	if inner.closed != 1 {
		t.Error("Close not delegated")
	}
}

// TestBridgeStreamMatchesNonStreaming checks that the chunks of a stream add
// up to the message responsesToChat makes of the final response.
func TestBridgeStreamMatchesNonStreaming(t *testing.T) {
	final := `{"id":"resp_9","object":"response","created_at":5,"model":"gpt-5","status":"completed","output":[
		{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Plan A."},{"type":"summary_text","text":"Plan B."}]},
		{"type":"message","id":"msg_1","content":[{"type":"output_text","text":"Calling."}]},
		{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"{\"q\":\"go\"}"},
		{"type":"function_call","id":"fc_2","call_id":"call_2","name":"other","arguments":"{}"}],
		"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}`
	events := []provider.Event{
		bridgeEv("response.created", `"response":{"id":"resp_9","created_at":5,"model":"gpt-5","status":"in_progress"}`),
		bridgeEv("response.output_item.added", `"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}`),
		bridgeEv("response.reasoning_summary_part.added", `"item_id":"rs_1","output_index":0,"summary_index":0`),
		bridgeEv("response.reasoning_summary_text.delta", `"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Plan "`),
		bridgeEv("response.reasoning_summary_text.delta", `"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"A."`),
		bridgeEv("response.reasoning_summary_text.delta", `"item_id":"rs_1","output_index":0,"summary_index":1,"delta":"Plan B."`),
		bridgeEv("response.output_text.delta", `"item_id":"msg_1","output_index":1,"delta":"Calling."`),
		bridgeEv("response.output_item.added", `"output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":""}`),
		bridgeEv("response.function_call_arguments.delta", `"item_id":"fc_1","output_index":2,"delta":"{\"q\":"`),
		bridgeEv("response.function_call_arguments.delta", `"item_id":"fc_1","output_index":2,"delta":"\"go\"}"`),
		bridgeEv("response.function_call_arguments.done", `"item_id":"fc_1","output_index":2,"arguments":"{\"q\":\"go\"}"`),
		bridgeEv("response.output_item.done", `"output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"{\"q\":\"go\"}"}`),
		// The second call arrives whole, with no added event or deltas.
		bridgeEv("response.output_item.done", `"output_index":3,"item":{"type":"function_call","id":"fc_2","call_id":"call_2","name":"other","arguments":"{}"}`),
		bridgeEv("response.completed", `"response":`+final),
	}
	s := newBridgeStream(&bridgeFakeStream{events: events})
	a := bridgeAssemble(t, s)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	body, usage, err := responsesToChat([]byte(final))
	if err != nil {
		t.Fatal(err)
	}
	var cc bridgeChatCompletion
	if err := json.Unmarshal(body, &cc); err != nil {
		t.Fatal(err)
	}
	m := cc.Choices[0].Message
	if a.content != *m.Content || a.reasoning != m.ReasoningContent || a.finish != cc.Choices[0].FinishReason {
		t.Errorf("stream (%q, %q, %q) != non-stream (%q, %q, %q)",
			a.content, a.reasoning, a.finish, *m.Content, m.ReasoningContent, cc.Choices[0].FinishReason)
	}
	if len(a.tools) != len(m.ToolCalls) {
		t.Fatalf("stream tools %d, non-stream %d", len(a.tools), len(m.ToolCalls))
	}
	for i, want := range m.ToolCalls {
		if got := a.tools[i]; got == nil || *got != want {
			t.Errorf("tool %d = %+v, want %+v", i, got, want)
		}
	}
	if s.Usage() != usage {
		t.Errorf("stream usage %+v != %+v", s.Usage(), usage)
	}
}

func TestBridgeStreamVariants(t *testing.T) {
	noName := func(e provider.Event) provider.Event { e.Name = ""; return e }
	tests := []struct {
		name      string
		events    []provider.Event
		content   string
		refusal   string
		reasoning string
		finish    string
		tools     int
	}{
		{
			name: "events named only by type",
			events: []provider.Event{
				noName(bridgeEv("response.created", `"response":{"id":"r","created_at":1,"model":"m"}`)),
				noName(bridgeEv("response.output_text.delta", `"delta":"ok"`)),
				noName(bridgeEv("response.completed", `"response":{"id":"r","status":"completed"}`)),
			},
			content: "ok", finish: "stop",
		},
		{
			name: "no created event",
			events: []provider.Event{
				bridgeEv("response.output_text.delta", `"delta":"a"`),
				bridgeEv("response.completed", `"response":{"status":"completed"}`),
			},
			content: "a", finish: "stop",
		},
		{
			name: "incomplete event",
			events: []provider.Event{
				bridgeEv("response.output_text.delta", `"delta":"a"`),
				bridgeEv("response.incomplete", `"response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}`),
			},
			content: "a", finish: "length",
		},
		{
			name: "content filter",
			events: []provider.Event{
				bridgeEv("response.completed", `"response":{"status":"incomplete","incomplete_details":{"reason":"content_filter"}}`),
			},
			finish: "content_filter",
		},
		{
			name: "refusal and raw reasoning",
			events: []provider.Event{
				bridgeEv("response.reasoning_text.delta", `"item_id":"rs","content_index":0,"delta":"r1"`),
				bridgeEv("response.reasoning_text.delta", `"item_id":"rs","content_index":0,"delta":"r2"`),
				bridgeEv("response.refusal.delta", `"delta":"no"`),
				bridgeEv("response.completed", `"response":{"status":"completed"}`),
			},
			refusal: "no", reasoning: "r1r2", finish: "stop",
		},
		{
			name: "arguments only in done event",
			events: []provider.Event{
				bridgeEv("response.output_item.added", `"output_index":0,"item":{"type":"function_call","id":"fc","call_id":"c","name":"f"}`),
				bridgeEv("response.function_call_arguments.done", `"item_id":"fc","output_index":0,"arguments":"{}"`),
				bridgeEv("response.output_item.done", `"output_index":0,"item":{"type":"function_call","id":"fc","call_id":"c","name":"f","arguments":"{}"}`),
				bridgeEv("response.completed", `"response":{"status":"completed"}`),
			},
			finish: "tool_calls", tools: 1,
		},
		{
			name: "unknown events ignored",
			events: []provider.Event{
				bridgeEv("response.web_search_call.in_progress", `"item_id":"ws"`),
				bridgeEv("response.output_text.annotation.added", `"annotation":{}`),
				bridgeEv("response.output_text.delta", `"delta":"x"`),
				bridgeEv("response.completed", `"response":{"status":"completed"}`),
			},
			content: "x", finish: "stop",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBridgeStream(&bridgeFakeStream{events: tt.events})
			a := bridgeAssemble(t, s)
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if a.content != tt.content || a.refusal != tt.refusal || a.reasoning != tt.reasoning || a.finish != tt.finish || len(a.tools) != tt.tools {
				t.Errorf("got content %q refusal %q reasoning %q finish %q tools %d",
					a.content, a.refusal, a.reasoning, a.finish, len(a.tools))
			}
			if tt.tools == 1 && a.tools[0].Function.Arguments != "{}" {
				t.Errorf("arguments = %q", a.tools[0].Function.Arguments)
			}
		})
	}
}

func TestBridgeStreamErrors(t *testing.T) {
	innerErr := &provider.Error{Class: provider.ClassTimeout, Message: "slow"}
	plain := errors.New("read: connection reset")
	tests := []struct {
		name     string
		events   []provider.Event
		innerErr error
		class    provider.Class
		code     string
		same     error // when set, Err must be this very error
		content  string
	}{
		{
			name: "response.failed",
			events: []provider.Event{
				bridgeEv("response.output_text.delta", `"delta":"par"`),
				bridgeEv("response.failed", `"response":{"id":"r","status":"failed","error":{"code":"server_error","message":"boom"}}`),
				bridgeEv("response.output_text.delta", `"delta":"never"`),
			},
			class: provider.ClassServer, code: "server_error", content: "par",
		},
		{
			name:   "response.failed rate limited",
			events: []provider.Event{bridgeEv("response.failed", `"response":{"error":{"code":"rate_limit_exceeded","message":"x"}}`)},
			class:  provider.ClassRateLimited, code: "rate_limit_exceeded",
		},
		{
			name:   "error event",
			events: []provider.Event{bridgeEv("error", `"code":"insufficient_quota","message":"pay","param":null`)},
			class:  provider.ClassQuotaExhausted, code: "insufficient_quota",
		},
		{
			name:   "error event with nested error",
			events: []provider.Event{bridgeEv("error", `"error":{"type":"invalid_request_error","code":"context_length_exceeded","message":"long"}`)},
			class:  provider.ClassContextWindow, code: "context_length_exceeded",
		},
		{
			name:   "chat-style error frame",
			events: []provider.Event{{Data: []byte(`{"error":{"message":"bad","type":"server_error"}}`)}},
			class:  provider.ClassServer,
		},
		{
			name:    "truncated",
			events:  []provider.Event{bridgeEv("response.output_text.delta", `"delta":"half"`)},
			class:   provider.ClassConnection,
			content: "half",
		},
		{
			name:     "inner provider error kept",
			events:   []provider.Event{bridgeEv("response.output_text.delta", `"delta":"half"`)},
			innerErr: innerErr, same: innerErr, class: provider.ClassTimeout, content: "half",
		},
		{
			name:     "inner plain error wrapped",
			innerErr: plain, class: provider.ClassConnection,
		},
		{
			name:     "inner cancellation",
			innerErr: fmt.Errorf("read: %w", context.Canceled), class: provider.ClassCanceled,
		},
		{
			name:   "malformed event",
			events: []provider.Event{{Name: "response.output_text.delta", Data: []byte(`{"delta":`)}},
			class:  provider.ClassConnection,
		},
		{
			name:   "non-string delta",
			events: []provider.Event{bridgeEv("response.output_text.delta", `"delta":5`)},
			class:  provider.ClassConnection,
		},
		{
			name:   "non-string arguments delta",
			events: []provider.Event{bridgeEv("response.function_call_arguments.delta", `"item_id":"x","delta":{}`)},
			class:  provider.ClassConnection,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBridgeStream(&bridgeFakeStream{events: tt.events, err: tt.innerErr})
			a := bridgeAssemble(t, s)
			err := s.Err()
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Err() = %T %v, want *provider.Error", err, err)
			}
			if pe.Class != tt.class || pe.Code != tt.code {
				t.Errorf("class %v code %q, want %v %q (%v)", pe.Class, pe.Code, tt.class, tt.code, err)
			}
			if tt.same != nil && err != tt.same {
				t.Errorf("Err() = %v, want the inner error itself", err)
			}
			if tt.innerErr != nil && !errors.Is(err, tt.innerErr) {
				t.Errorf("Err() does not wrap the inner error: %v", err)
			}
			if a.content != tt.content {
				t.Errorf("content before the error = %q, want %q", a.content, tt.content)
			}
			if a.finish != "" {
				t.Errorf("a failed stream sent finish_reason %q", a.finish)
			}
			if s.Next() {
				t.Error("Next true after error")
			}
		})
	}
}

// FuzzBridgeStream feeds arbitrary event data; each line of the input is
// one event, "name|data".
func FuzzBridgeStream(f *testing.F) {
	var seed strings.Builder
	for _, e := range bridgeTextStreamEvents() {
		seed.WriteString(e.Name + "|" + strings.ReplaceAll(string(e.Data), "\n", " ") + "\n")
	}
	f.Add(seed.String())
	f.Add("response.output_item.added|{\"item\":{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\"}}\nresponse.function_call_arguments.delta|{\"delta\":\"{\\\"\"}\nresponse.completed|{\"response\":{\"usage\":{}}}")
	f.Add("error|{\"code\":1}")
	f.Fuzz(func(t *testing.T, in string) {
		var events []provider.Event
		for line := range strings.SplitSeq(in, "\n") {
			name, data, _ := strings.Cut(line, "|")
			events = append(events, provider.Event{Name: name, Data: []byte(data)})
		}
		s := newBridgeStream(&bridgeFakeStream{events: events})
		n := 0
		for s.Next() {
			if d := s.Event().Data; !json.Valid(d) {
				t.Fatalf("invalid chunk: %s", d)
			}
			n++
			if n > 4*len(events)+4 {
				t.Fatal("too many chunks")
			}
		}
		if s.Err() != nil {
			var pe *provider.Error
			if !errors.As(s.Err(), &pe) {
				t.Fatalf("Err is not a *provider.Error: %v", s.Err())
			}
		}
	})
}

// BenchmarkBridgeStreamDelta measures the per-token cost: one
// response.output_text.delta event in, one chat chunk out.
func BenchmarkBridgeStreamDelta(b *testing.B) {
	delta := bridgeEv("response.output_text.delta",
		`"sequence_number":5,"item_id":"msg_68af0c1e2d9c8190b3c4a7","output_index":1,"content_index":0,"delta":" weather","logprobs":[],"obfuscation":"x1y2"`)
	inner := &bridgeLoopStream{e: delta}
	s := newBridgeStream(inner)
	s.Next() // role chunk
	b.ReportAllocs()
	for b.Loop() {
		if !s.Next() {
			b.Fatal(s.Err())
		}
	}
}

// bridgeLoopStream repeats one event forever.
type bridgeLoopStream struct{ e provider.Event }

func (l *bridgeLoopStream) Header() http.Header   { return nil }
func (l *bridgeLoopStream) Next() bool            { return true }
func (l *bridgeLoopStream) Event() provider.Event { return l.e }
func (l *bridgeLoopStream) Usage() provider.Usage { return provider.Usage{} }
func (l *bridgeLoopStream) Err() error            { return nil }
func (l *bridgeLoopStream) Close() error          { return nil }
