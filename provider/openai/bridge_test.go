package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

// bridgeJSONEqual fails t unless got and want are equal as JSON values.
func bridgeJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("JSON mismatch\n got: %s\nwant: %s", gi, wi)
	}
}

func TestChatToResponsesRequest(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "messages of every kind",
			in: `{"model":"alias","messages":[
				{"role":"system","content":"Be brief."},
				{"role":"developer","content":[{"type":"text","text":"Use metric."}]},
				{"role":"user","content":"Hi <there> & you"},
				{"role":"assistant","content":"Hello."},
				{"role":"user","content":[
					{"type":"text","text":"What is this?"},
					{"type":"image_url","image_url":{"url":"https://x/img.png","detail":"high"}},
					{"type":"image_url","image_url":"data:image/png;base64,AAAA"},
					{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}},
					{"type":"file","file":{"file_id":"file-1"}},
					{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},
					{"type":"input_text","text":"already responses-shaped"}
				]},
				{"role":"developer","content":"Late rule."}
			]}`,
			want: `{"model":"gpt-5","store":false,"instructions":"Be brief.\n\nUse metric.","input":[
				{"type":"message","role":"user","content":[{"type":"input_text","text":"Hi <there> & you"}]},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello."}]},
				{"type":"message","role":"user","content":[
					{"type":"input_text","text":"What is this?"},
					{"type":"input_image","image_url":"https://x/img.png","detail":"high"},
					{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"auto"},
					{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"},
					{"type":"input_file","file_id":"file-1"},
					{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},
					{"type":"input_text","text":"already responses-shaped"}
				]},
				{"type":"message","role":"developer","content":[{"type":"input_text","text":"Late rule."}]}
			]}`,
		},
		{
			name: "tool round trip",
			in: `{"model":"m","messages":[
				{"role":"user","content":"weather?"},
				{"role":"assistant","content":null,"tool_calls":[
					{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},
					{"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
				{"role":"tool","tool_call_id":"call_1","content":"12C"},
				{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"noon"}]},
				{"role":"assistant","content":"Done.","tool_calls":[{"id":"call_3","function":{"name":"f","arguments":""}}]}
			]}`,
			want: `{"model":"gpt-5","store":false,"input":[
				{"type":"message","role":"user","content":[{"type":"input_text","text":"weather?"}]},
				{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},
				{"type":"function_call","call_id":"call_2","name":"get_time","arguments":"{}"},
				{"type":"function_call_output","call_id":"call_1","output":"12C"},
				{"type":"function_call_output","call_id":"call_2","output":"noon"},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Done."}]},
				{"type":"function_call","call_id":"call_3","name":"f","arguments":""}
			]}`,
		},
		{
			name: "tools, tool_choice and pass-through",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],
				"tools":[
					{"type":"function","function":{"name":"a","description":"A","parameters":{"type":"object","properties":{"q":{"type":"string"}}},"strict":true}},
					{"type":"function","function":{"name":"b"}},
					{"type":"web_search_preview"}
				],
				"tool_choice":{"type":"function","function":{"name":"a"}},
				"parallel_tool_calls":false,"temperature":0.2,"top_p":0.9,"user":"u1",
				"metadata":{"k":"v"},"store":true,"previous_response_id":"resp_0",
				"stream":true,"stream_options":{"include_usage":true},"n":1,
				"x_unknown":{"nested":[1,2.50,"s"]}}`,
			want: `{"model":"gpt-5","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"x"}]}],
				"tools":[
					{"type":"function","name":"a","description":"A","parameters":{"type":"object","properties":{"q":{"type":"string"}}},"strict":true},
					{"type":"function","name":"b","parameters":{"type":"object","properties":{}},"strict":false},
					{"type":"web_search_preview"}
				],
				"tool_choice":{"type":"function","name":"a"},
				"parallel_tool_calls":false,"temperature":0.2,"top_p":0.9,"user":"u1",
				"metadata":{"k":"v"},"store":true,"previous_response_id":"resp_0",
				"stream":true,"x_unknown":{"nested":[1,2.50,"s"]}}`,
		},
		{
			name: "string tool_choice and allowed_tools",
			in:   `{"messages":[],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"a"}}]}}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"a"}]}}`,
		},
		{
			name: "tool_choice string",
			in:   `{"messages":[],"tool_choice":"required"}`,
			want: `{"model":"gpt-5","store":false,"input":[],"tool_choice":"required"}`,
		},
		{
			name: "reasoning_effort alone",
			in:   `{"messages":[],"reasoning_effort":"high"}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"high"}}`,
		},
		{
			name: "reasoning_effort merged into reasoning object",
			in:   `{"messages":[],"reasoning_effort":"low","reasoning":{"summary":"auto"}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"low","summary":"auto"}}`,
		},
		{
			name: "reasoning object's effort wins",
			in:   `{"messages":[],"reasoning_effort":"low","reasoning":{"effort":"high","summary":"detailed"}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"high","summary":"detailed"}}`,
		},
		{
			name: "reasoning as an effort string",
			in:   `{"messages":[],"reasoning":"medium"}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"medium"}}`,
		},
		{
			name: "max_tokens",
			in:   `{"messages":[],"max_tokens":100}`,
			want: `{"model":"gpt-5","store":false,"input":[],"max_output_tokens":100}`,
		},
		{
			name: "max_completion_tokens wins over max_tokens",
			in:   `{"messages":[],"max_tokens":100,"max_completion_tokens":200}`,
			want: `{"model":"gpt-5","store":false,"input":[],"max_output_tokens":200}`,
		},
		{
			name: "explicit max_output_tokens wins",
			in:   `{"messages":[],"max_tokens":100,"max_output_tokens":300}`,
			want: `{"model":"gpt-5","store":false,"input":[],"max_output_tokens":300}`,
		},
		{
			name: "json_schema response_format and verbosity",
			in: `{"messages":[],"verbosity":"low","response_format":{"type":"json_schema","json_schema":
				{"name":"person","description":"A person","schema":{"type":"object","properties":{"name":{"type":"string"}}},"strict":true}}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"text":{"verbosity":"low","format":{"type":"json_schema","name":"person",
				"description":"A person","schema":{"type":"object","properties":{"name":{"type":"string"}}},"strict":true}}}`,
		},
		{
			name: "json_object response_format",
			in:   `{"messages":[],"response_format":{"type":"json_object"}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"text":{"format":{"type":"json_object"}}}`,
		},
		{
			name: "caller instructions come first",
			in:   `{"instructions":"From caller.","messages":[{"role":"system","content":"From system."},{"role":"user","content":"q"},{"role":"system","content":"mid"}]}`,
			want: `{"model":"gpt-5","store":false,"instructions":"From caller.\n\nFrom system.","input":[
				{"type":"message","role":"user","content":[{"type":"input_text","text":"q"}]},
				{"type":"message","role":"system","content":[{"type":"input_text","text":"mid"}]}]}`,
		},
		{
			name: "system message with an image stays an input item",
			in:   `{"messages":[{"role":"system","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"u"}}]}]}`,
			want: `{"model":"gpt-5","store":false,"input":[{"type":"message","role":"system","content":[
				{"type":"input_text","text":"see"},{"type":"input_image","image_url":"u","detail":"auto"}]}]}`,
		},
		{
			name: "assistant refusal and nulls",
			in:   `{"messages":[{"role":"assistant","content":"","refusal":"no"}],"max_tokens":null,"reasoning_effort":null,"response_format":null,"tools":null,"tool_choice":null,"n":null}`,
			// Nulls of renamed fields vanish; others pass through as they are.
			want: `{"model":"gpt-5","store":false,"input":[{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"no"}]}],"tools":null,"tool_choice":null}`,
		},
		{
			name: "stream_options keeps include_obfuscation only",
			in:   `{"messages":[],"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"stream":true,"stream_options":{"include_obfuscation":false}}`,
		},
		{
			name: "previous_response_id leaves store to the upstream",
			in:   `{"messages":[],"previous_response_id":"resp_1"}`,
			want: `{"model":"gpt-5","input":[],"previous_response_id":"resp_1"}`,
		},
		{
			name: "explicit store kept",
			in:   `{"messages":[],"store":true}`,
			want: `{"model":"gpt-5","input":[],"store":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chatToResponsesRequest([]byte(tt.in), "gpt-5")
			if err != nil {
				t.Fatal(err)
			}
			bridgeJSONEqual(t, got, tt.want)
		})
	}
}

func TestChatToResponsesRequestDeterministic(t *testing.T) {
	in := []byte(`{"model":"m","z":1,"a":2,"messages":[{"role":"user","content":"x"}],"metadata":{"k":"v"},"temperature":1}`)
	first, err := chatToResponsesRequest(in, "up")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte(`{"model":"up","input":`)) {
		t.Errorf("model and input should lead: %s", first)
	}
	for range 20 {
		again, _ := chatToResponsesRequest(in, "up")
		if !bytes.Equal(first, again) {
			t.Fatalf("output not deterministic:\n%s\n%s", first, again)
		}
	}
}

func TestChatToResponsesRequestErrors(t *testing.T) {
	tests := []struct {
		name, in, param string
	}{
		{"not JSON", `{`, ""},
		{"null body", `null`, ""},
		{"array body", `[]`, ""},
		{"no messages", `{"model":"m"}`, "messages"},
		{"messages not array", `{"messages":{}}`, "messages"},
		{"messages and input", `{"messages":[],"input":"x"}`, "input"},
		{"message not object", `{"messages":[1]}`, "messages[0]"},
		{"null message", `{"messages":[null]}`, "messages[0]"},
		{"role missing", `{"messages":[{"content":"x"}]}`, "messages[0].role"},
		{"legacy function role", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, "messages[0].role"},
		{"tool without id", `{"messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"tool call without id", `{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}`, "messages[0].tool_calls[0]"},
		{"custom tool call", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{}}]}]}`, "messages[0].tool_calls[0].type"},
		{"content number", `{"messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{"text part without text", `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text"},
		{"part without type", `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type"},
		{"empty file part", `{"messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}`, "messages[0].content[0].file"},
		{"empty image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""}}]}]}`, "messages[0].content[0].image_url.url"},
		{"image not object", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":3}]}]}`, "messages[0].content[0].image_url"},
		{"max_tokens string", `{"messages":[],"max_tokens":"100"}`, "max_tokens"},
		{"reasoning_effort number", `{"messages":[],"reasoning_effort":3}`, "reasoning_effort"},
		{"reasoning number", `{"messages":[],"reasoning":3}`, "reasoning"},
		{"response_format without type", `{"messages":[],"response_format":{}}`, "response_format.type"},
		{"json_schema missing", `{"messages":[],"response_format":{"type":"json_schema"}}`, "response_format.json_schema"},
		{"n two", `{"messages":[],"n":2}`, "n"},
		{"tools not array", `{"messages":[],"tools":{}}`, "tools"},
		{"tool without name", `{"messages":[],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name"},
		{"instructions not string", `{"messages":[],"instructions":1}`, "instructions"},
		{"tool_choice function without name", `{"messages":[],"tool_choice":{"type":"function","function":{}}}`, "tool_choice.function.name"},
		{"text not object", `{"messages":[],"text":1}`, "text"},
		{"stream_options not object", `{"messages":[],"stream_options":true}`, "stream_options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := chatToResponsesRequest([]byte(tt.in), "m")
			if err == nil {
				t.Fatalf("no error; output %s", out)
			}
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Class != provider.ClassBadRequest {
				t.Fatalf("want *provider.Error bad_request, got %T %v", err, err)
			}
			if pe.Param != tt.param {
				t.Errorf("Param = %q, want %q (%v)", pe.Param, tt.param, err)
			}
			if !strings.Contains(err.Error(), "responses bridge") {
				t.Errorf("message does not name the bridge: %v", err)
			}
		})
	}
}

func TestResponsesToChat(t *testing.T) {
	tests := []struct {
		name, in, want string
		usage          provider.Usage
	}{
		{
			name: "text with reasoning and usage",
			in: `{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"completed","error":null,
				"incomplete_details":null,"service_tier":"default",
				"output":[
					{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Thinking A."},{"type":"summary_text","text":"Thinking B."}]},
					{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[
						{"type":"output_text","text":"Hello ","annotations":[]},{"type":"output_text","text":"<world>","annotations":[]}]}],
				"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":20,
					"output_tokens_details":{"reasoning_tokens":12},"total_tokens":30}}`,
			want: `{"id":"resp_1","object":"chat.completion","created":1700000000,"model":"gpt-5","service_tier":"default",
				"choices":[{"index":0,"message":{"role":"assistant","content":"Hello <world>","reasoning_content":"Thinking A.\n\nThinking B."},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,
					"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":12}}}`,
			usage: provider.Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30, CachedTokens: 4, ReasoningTokens: 12},
		},
		{
			name: "function calls",
			in: `{"id":"resp_2","created_at":1,"model":"m","status":"completed","output":[
				{"type":"function_call","id":"fc_1","call_id":"call_1","name":"a","arguments":"{\"x\":1}","status":"completed"},
				{"type":"web_search_call","id":"ws_1","status":"completed"},
				{"type":"function_call","id":"fc_2","call_id":"call_2","name":"b","arguments":"{}"}],
				"usage":{"input_tokens":1,"output_tokens":2}}`,
			want: `{"id":"resp_2","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
				"tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},
					{"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
				"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
			usage: provider.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
		},
		{
			name: "incomplete at max_output_tokens",
			in: `{"id":"r","created_at":2.0,"model":"m","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},
				"output":[{"type":"message","content":[{"type":"output_text","text":"cut"}]}]}`,
			want: `{"id":"r","object":"chat.completion","created":2,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"cut"},"finish_reason":"length"}]}`,
		},
		{
			name: "incomplete by content filter",
			in:   `{"id":"r","created_at":3,"model":"m","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}`,
			want: `{"id":"r","object":"chat.completion","created":3,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}]}`,
		},
		{
			name: "refusal, and reasoning_text when there is no summary",
			in: `{"id":"r","created_at":3,"model":"m","status":"completed","output":[
				{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"raw thought"}]},
				{"type":"message","content":[{"type":"refusal","refusal":"I can't."}]}]}`,
			want: `{"id":"r","object":"chat.completion","created":3,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"",
				"refusal":"I can't.","reasoning_content":"raw thought"},"finish_reason":"stop"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, usage, err := responsesToChat([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			bridgeJSONEqual(t, got, tt.want)
			if usage != tt.usage {
				t.Errorf("usage = %+v, want %+v", usage, tt.usage)
			}
		})
	}
}

func TestResponsesToChatErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		class     provider.Class
		code, msg string
	}{
		{"failed rate limited", `{"id":"r","status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"},"output":[]}`,
			provider.ClassRateLimited, "rate_limit_exceeded", "slow down"},
		{"failed server", `{"status":"failed","error":{"code":"server_error","message":"oops"}}`, provider.ClassServer, "server_error", "oops"},
		{"failed bad prompt", `{"status":"failed","error":{"code":"invalid_prompt","message":"no"}}`, provider.ClassBadRequest, "invalid_prompt", "no"},
		{"failed unknown code", `{"status":"failed","error":{"code":"weird","message":"?"}}`, provider.ClassServer, "weird", "?"},
		{"failed without error", `{"status":"failed"}`, provider.ClassServer, "", "openai: responses bridge: response failed"},
		{"error body", `{"error":{"message":"ctx","type":"invalid_request_error","code":"context_length_exceeded","param":"input"}}`,
			provider.ClassContextWindow, "context_length_exceeded", "ctx"},
		// A numeric code is a status, as for an HTTP error's body.
		{"error body numeric code", `{"error":{"message":"x","code":429}}`, provider.ClassRateLimited, "429", "x"},
		{"background", `{"status":"queued","output":[]}`, provider.ClassBadRequest, "", ""},
		{"cancelled", `{"status":"cancelled"}`, provider.ClassServer, "", ""},
		{"garbage", `<html>`, provider.ClassConnection, "", ""},
		{"null", `null`, provider.ClassConnection, "", ""},
		{"wrong types", `{"output":"x"}`, provider.ClassConnection, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := responsesToChat([]byte(tt.in))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *provider.Error, got %T %v (out %s)", err, err, out)
			}
			if pe.Class != tt.class {
				t.Errorf("class = %v, want %v", pe.Class, tt.class)
			}
			if pe.Code != tt.code {
				t.Errorf("code = %q, want %q", pe.Code, tt.code)
			}
			if tt.msg != "" && pe.Message != tt.msg {
				t.Errorf("message = %q, want %q", pe.Message, tt.msg)
			}
		})
	}
}

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

func FuzzChatToResponsesRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"t"},{"type":"image_url","image_url":{"url":"u"}}]}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"a"}},"reasoning_effort":"low","max_tokens":5,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}]}`,
		`{"messages":[],"reasoning":{"summary":"auto"},"text":{"verbosity":"low"},"verbosity":"high"}`,
		`{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"x"}}]}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"tools":[{"type":"function","function":{"name":"a"}}]}}}`,
		`{}`, `null`, `[]`, `{"messages":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := chatToResponsesRequest(body, "m")
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Class != provider.ClassBadRequest {
				t.Fatalf("error is not a bad-request *provider.Error: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of %q: %s", body, out)
		}
	})
}

func FuzzResponsesToChat(f *testing.F) {
	for _, s := range []string{
		`{"id":"r","created_at":1,"model":"m","status":"completed","output":[{"type":"reasoning","summary":[{"text":"t"}]},{"type":"message","content":[{"type":"output_text","text":"x"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}],"usage":{"input_tokens":1,"output_tokens":2,"input_tokens_details":{"cached_tokens":0}}}`,
		`{"status":"failed","error":{"code":"server_error","message":"x"}}`,
		`{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}`,
		`{"created_at":1e30}`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, _, err := responsesToChat(body)
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *provider.Error: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
	})
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

var bridgeBenchChatBody = []byte(`{"model":"gpt-5","messages":[
	{"role":"system","content":"You are a helpful assistant. Answer briefly."},
	{"role":"user","content":"What is the weather in Oslo and in Bergen today?"},
	{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
	{"role":"tool","tool_call_id":"call_1","content":"{\"temp\":12,\"sky\":\"cloudy\"}"},
	{"role":"user","content":[{"type":"text","text":"And this picture?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}],
	"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
	"tool_choice":"auto","reasoning_effort":"low","max_completion_tokens":512,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},"metadata":{"team":"a"}}`)

func BenchmarkChatToResponsesRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bridgeBenchChatBody)))
	for b.Loop() {
		if _, err := chatToResponsesRequest(bridgeBenchChatBody, "gpt-5-2025-08-07"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesToChat(b *testing.B) {
	body := []byte(`{"id":"resp_1","object":"response","created_at":1700000000,"model":"gpt-5","status":"completed",` +
		`"output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Looking up the weather."}]},` +
		`{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"It is 12C and cloudy in Oslo.","annotations":[]}]},` +
		`{"type":"function_call","id":"fc_1","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Bergen\"}"}],` +
		`"usage":{"input_tokens":120,"input_tokens_details":{"cached_tokens":64},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":16},"total_tokens":160}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := responsesToChat(body); err != nil {
			b.Fatal(err)
		}
	}
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
