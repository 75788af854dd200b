package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
)

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
			name: "reasoning_effort as an object (LiteLLM's second form)",
			in:   `{"messages":[],"reasoning_effort":{"effort":"high","summary":"auto"}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"high","summary":"auto"}}`,
		},
		{
			name: "reasoning object's fields win over reasoning_effort's object",
			in:   `{"messages":[],"reasoning_effort":{"effort":"low","summary":"auto"},"reasoning":{"summary":"detailed"}}`,
			want: `{"model":"gpt-5","store":false,"input":[],"reasoning":{"effort":"low","summary":"detailed"}}`,
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
		{"reasoning_effort object with an unknown field", `{"messages":[],"reasoning_effort":{"effort":"high","budget":9}}`, "reasoning_effort"},
		{"reasoning_effort object with a number", `{"messages":[],"reasoning_effort":{"effort":3}}`, "reasoning_effort"},
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
