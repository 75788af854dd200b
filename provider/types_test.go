package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// typesJSONEqual fails t unless got and want are equal as JSON values.
func typesJSONEqual(t testing.TB, got []byte, want string) {
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

const chatRequestBody = `{
	"model": "gpt-4o",
	"messages": [
		{"role": "system", "content": "Be brief.", "name": "sys"},
		{"role": "user", "content": [
			{"type": "text", "text": "Look:", "cache_control": {"type": "ephemeral"}},
			{"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low", "x_img": 1}},
			{"type": "image_url", "image_url": "https://x/bare.png"},
			{"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
			{"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
			{"type": "text", "text": ""}
		]},
		{"role": "assistant", "content": null, "refusal": null, "tool_calls": [
			{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}", "x_fn": true}, "x_call": "k"}
		]},
		{"role": "tool", "tool_call_id": "call_1", "content": "ok"},
		{"role": "assistant", "content": "", "x_msg": [1, 2]},
		{"role": "user", "content": []}
	],
	"stream": false,
	"stream_options": {"include_usage": true, "x_so": 1},
	"max_tokens": null,
	"max_completion_tokens": 100,
	"temperature": 0,
	"top_p": 0.95,
	"n": 1,
	"stop": ["END", "STOP"],
	"tools": [
		{"type": "function", "function": {"name": "f", "description": "F", "parameters": {"type": "object", "properties": {}}, "strict": false}},
		{"type": "custom", "custom": {"name": "grammar", "format": {"type": "text"}}}
	],
	"tool_choice": {"type": "function", "function": {"name": "f"}},
	"parallel_tool_calls": true,
	"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true, "x_js": "y"}},
	"reasoning_effort": "low",
	"user": "u-1",
	"metadata": {"tags": ["team-a"], "cost": 1.50, "big": 12345678901234567890},
	"seed": 42,
	"logit_bias": {"50256": -100},
	"x_vendor": {"nested": [1, 2.5e3, null, true, "s"], "empty": {}},
	"Model": "case-differs"
}`

func TestChatRequestDecode(t *testing.T) {
	var r ChatRequest
	if err := json.Unmarshal([]byte(chatRequestBody), &r); err != nil {
		t.Fatal(err)
	}
	if r.Model != "gpt-4o" || len(r.Messages) != 6 || r.MaxCompletionTokens != 100 || r.ReasoningEffort != "low" {
		t.Fatalf("modelled fields: %+v", r)
	}
	if r.Temperature == nil || *r.Temperature != 0 || r.TopP == nil || *r.TopP != 0.95 {
		t.Errorf("temperature/top_p: %v %v", r.Temperature, r.TopP)
	}
	if !reflect.DeepEqual(r.Stop, []string{"END", "STOP"}) {
		t.Errorf("Stop = %#v, want []string", r.Stop)
	}
	tc, ok := r.ToolChoice.(map[string]any)
	if !ok || tc["type"] != "function" {
		t.Errorf("ToolChoice = %#v", r.ToolChoice)
	}
	if r.Metadata["big"] != json.Number("12345678901234567890") {
		t.Errorf("metadata number lost precision: %#v", r.Metadata["big"])
	}
	// Unknown keys are in Extra, exactly (not case-folded into Model).
	for k, want := range map[string]string{
		"seed": `42`, "logit_bias": `{"50256": -100}`, "Model": `"case-differs"`,
		// modelled but would vanish on encode: kept as sent
		"stream": `false`, "max_tokens": `null`, "n": ``,
	} {
		got, ok := r.Extra[k]
		if want == "" {
			if ok {
				t.Errorf("Extra[%q] = %s, want absent (n=1 is modelled)", k, got)
			}
			continue
		}
		if !ok || string(got) != want {
			t.Errorf("Extra[%q] = %q, want %q", k, got, want)
		}
	}
	user := r.Messages[1]
	if !user.Content.IsParts() || len(user.Content.Parts) != 6 {
		t.Fatalf("user content: %+v", user.Content)
	}
	if p := user.Content.Parts[0]; p.Text != "Look:" || string(p.Extra["cache_control"]) != `{"type": "ephemeral"}` {
		t.Errorf("text part: %+v", p)
	}
	if p := user.Content.Parts[2]; p.ImageURL == nil || p.ImageURL.URL != "https://x/bare.png" {
		t.Errorf("bare image_url: %+v", p)
	}
	if r.Messages[0].Content.IsParts() || r.Messages[0].Content.Text != "Be brief." {
		t.Errorf("string content: %+v", r.Messages[0].Content)
	}
	if tcs := r.Messages[2].ToolCalls; len(tcs) != 1 || tcs[0].Function.Name != "f" || string(tcs[0].Extra["x_call"]) != `"k"` {
		t.Errorf("tool calls: %+v", tcs)
	}
}

// TestTypesRoundTrip decodes bodies with unknown fields at every level and
// encodes them again: the result must equal the input as a JSON value.
func TestTypesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		new  func() any
		body string
	}{
		{"ChatRequest", func() any { return new(ChatRequest) }, chatRequestBody},
		{"ChatRequest minimal", func() any { return new(ChatRequest) }, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"ChatResponse", func() any { return new(ChatResponse) }, `{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-2024-08-06",
			"system_fingerprint": "fp_1", "service_tier": "default",
			"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": null, "annotations": [],
				"tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
				"logprobs": null, "finish_reason": "stop", "content_filter_results": {"hate": {"filtered": false}}}],
			"usage": {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10,
				"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
				"completion_tokens_details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0, "x": 1}},
			"prompt_filter_results": [{"prompt_index": 0}]}`},
		{"ChatChunk", func() any { return new(ChatChunk) }, `{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
			"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": [{"index": 0, "id": "x", "function": {"arguments": ""}}]},
				"logprobs": null, "finish_reason": null}], "usage": null, "obfuscation": "abc"}`},
		{"ChatChunk usage", func() any { return new(ChatChunk) }, `{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
			"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}`},
		{"EmbeddingRequest", func() any { return new(EmbeddingRequest) }, `{"model": "e", "input": ["a", "b"], "encoding_format": "base64", "dimensions": 256, "x": {"y": 1}}`},
		{"EmbeddingRequest tokens", func() any { return new(EmbeddingRequest) }, `{"model": "e", "input": [[1, 2, 3], [4]]}`},
		{"EmbeddingResponse", func() any { return new(EmbeddingResponse) }, `{"object": "list", "model": "e",
			"data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.25]}, {"object": "embedding", "index": 1, "embedding": "AACAPw=="}],
			"usage": {"prompt_tokens": 3, "total_tokens": 3}}`},
		{"CompletionRequest", func() any { return new(CompletionRequest) }, `{"model": "m", "prompt": "Say", "max_tokens": 5, "echo": false, "logprobs": 2, "stop": "\n", "best_of": 2}`},
		{"CompletionResponse", func() any { return new(CompletionResponse) }, `{"id": "cmpl", "object": "text_completion", "created": 1, "model": "m",
			"choices": [{"text": "hi", "index": 0, "logprobs": null, "finish_reason": "length"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}`},
		{"ResponsesRequest", func() any { return new(ResponsesRequest) }, `{"model": "gpt-5", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
			"instructions": "Be brief.", "reasoning": {"effort": "low", "summary": "auto"}, "tools": [
				{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true},
				{"type": "web_search", "search_context_size": "low"}],
			"tool_choice": "auto", "stream": true, "max_output_tokens": 100, "previous_response_id": "resp_0", "store": false,
			"include": ["reasoning.encrypted_content"], "text": {"verbosity": "low"}, "truncation": "auto"}`},
		{"ResponsesRequest bare reasoning", func() any { return new(ResponsesRequest) }, `{"model": "gpt-5", "input": "hi", "reasoning": "high"}`},
		{"ResponsesResponse", func() any { return new(ResponsesResponse) }, `{"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
			"model": "gpt-5", "error": null, "incomplete_details": null, "instructions": null, "parallel_tool_calls": true,
			"output": [
				{"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": "enc"},
				{"type": "message", "id": "m", "status": "completed", "role": "assistant",
					"content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]},
				{"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}", "status": "completed"},
				{"type": "web_search_call", "id": "ws", "status": "completed", "action": {"type": "search", "query": "q"}}],
			"usage": {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
				"output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 12}}`},
		{"ResponsesResponse failed", func() any { return new(ResponsesResponse) }, `{"id": "r", "status": "failed",
			"error": {"code": "server_error", "message": "boom"}, "incomplete_details": {"reason": "max_output_tokens"}, "output": []}`},
		{"TranscriptionResponse", func() any { return new(TranscriptionResponse) }, `{"text": "hello", "language": "en", "duration": 1.5,
			"usage": {"type": "duration", "seconds": 2}}`},
		{"TranscriptionResponse empty text", func() any { return new(TranscriptionResponse) }, `{"text": ""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.new()
			if err := json.Unmarshal([]byte(tt.body), v); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			typesJSONEqual(t, out, tt.body)
			// And the encoding is stable.
			w := tt.new()
			if err := json.Unmarshal(out, w); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, again) {
				t.Errorf("second round differs:\n%s\n%s", out, again)
			}
		})
	}
}

func TestContentForms(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"string", Message{Role: "user", Content: TextContent("hi")}, `{"role":"user","content":"hi"}`},
		{"empty parts stay a list", Message{Role: "user", Content: PartsContent()}, `{"role":"user","content":[]}`},
		{"no content", Message{Role: "assistant", ToolCalls: []ToolCall{{ID: "c", Type: "function", Function: &FunctionCall{Name: "f", Arguments: "{}"}}}},
			`{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}`},
		{"parts", Message{Role: "user", Content: PartsContent(TextPart("see"), ImagePart("https://x/a.png"), PDFPart("a.pdf", []byte("%PDF-1.7")))},
			`{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://x/a.png"}},
				{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjc="}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := json.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			typesJSONEqual(t, out, tt.want)
		})
	}

	for _, body := range []string{`"x"`, `""`, `[]`, `[{"type":"text","text":"a"}]`} {
		var c MessageContent
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatal(err)
		}
		if c.IsParts() != (body[0] == '[') {
			t.Errorf("%s: IsParts = %v", body, c.IsParts())
		}
		out, _ := json.Marshal(c)
		typesJSONEqual(t, out, body)
	}
	c := PartsContent(TextPart("a"), ImagePart("u"), TextPart("b"))
	if c.String() != "ab" || TextContent("x").String() != "x" {
		t.Errorf("String() = %q", c.String())
	}
	// null content: zero, left out of the struct, kept as null in Extra.
	var m Message
	if err := json.Unmarshal([]byte(`{"role":"assistant","content":null}`), &m); err != nil {
		t.Fatal(err)
	}
	if !m.Content.IsZero() || string(m.Extra["content"]) != "null" {
		t.Errorf("null content: %+v extra %s", m.Content, m.Extra["content"])
	}
}

func TestBareForms(t *testing.T) {
	var p ContentPart
	if err := json.Unmarshal([]byte(`{"type":"image_url","image_url":"https://x"}`), &p); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(p)
	typesJSONEqual(t, out, `{"type":"image_url","image_url":"https://x"}`)
	p.ImageURL.Detail = "high" // no longer expressible as a string
	out, _ = json.Marshal(p)
	typesJSONEqual(t, out, `{"type":"image_url","image_url":{"url":"https://x","detail":"high"}}`)

	var r ResponsesRequest
	if err := json.Unmarshal([]byte(`{"model":"m","reasoning":"high"}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Reasoning == nil || r.Reasoning.Effort != "high" {
		t.Fatalf("reasoning = %+v", r.Reasoning)
	}
	r.Reasoning.Summary = "auto"
	out, _ = json.Marshal(r)
	typesJSONEqual(t, out, `{"model":"m","reasoning":{"effort":"high","summary":"auto"}}`)
	out, _ = json.Marshal(ResponsesRequest{Model: "m", Reasoning: &Reasoning{Effort: "low"}})
	typesJSONEqual(t, out, `{"model":"m","reasoning":{"effort":"low"}}`)
}

func TestExtraRules(t *testing.T) {
	temp := 0.5
	tests := []struct {
		name string
		req  ChatRequest
		want string
	}{
		{"extra never overrides a modelled field",
			ChatRequest{Model: "a", Extra: map[string]json.RawMessage{"model": json.RawMessage(`"b"`), "seed": json.RawMessage(`7`)}},
			`{"model":"a","seed":7}`},
		{"extra fills an omitted modelled field",
			ChatRequest{Model: "a", Extra: map[string]json.RawMessage{"temperature": json.RawMessage(`null`)}},
			`{"model":"a","temperature":null}`},
		{"a set field wins over extra",
			ChatRequest{Model: "a", Temperature: &temp, Extra: map[string]json.RawMessage{"temperature": json.RawMessage(`null`)}},
			`{"model":"a","temperature":0.5}`},
		{"zero value", ChatRequest{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := json.Marshal(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			typesJSONEqual(t, out, tt.want)
		})
	}
	// Extra keys come out sorted, after the modelled fields: deterministic.
	r := ChatRequest{Model: "m", Extra: map[string]json.RawMessage{"z": json.RawMessage(`1`), "a": json.RawMessage(`2`), "m": json.RawMessage(`3`)}}
	out, _ := json.Marshal(r)
	if string(out) != `{"model":"m","a":2,"m":3,"z":1}` {
		t.Errorf("order: %s", out)
	}
	// Invalid Extra is an error, not broken JSON.
	r.Extra["bad"] = json.RawMessage(`{`)
	if _, err := json.Marshal(r); err == nil || !strings.Contains(err.Error(), `Extra["bad"]`) {
		t.Errorf("invalid Extra: err = %v", err)
	}
}

func TestTypesDecodeErrors(t *testing.T) {
	tests := []struct {
		body string
		want string // substring of the error
	}{
		{`[1]`, "ChatRequest: expected a JSON object"},
		{`"x"`, "ChatRequest: expected a JSON object"},
		{`{"messages":5}`, `ChatRequest field "messages"`},
		{`{"temperature":"hot"}`, `ChatRequest field "temperature"`},
		{`{"messages":[{"role":"user","content":5}]}`, "want a string or a list of parts"},
		{`{"messages":[{"role":"user","content":{}}]}`, "want a string or a list of parts"},
		{`{"messages":[{"role":7}]}`, `Message field "role"`},
		{`{"max_tokens":1.5}`, `field "max_tokens"`},
		{`{"model":"m"`, "unexpected end"},
	}
	for _, tt := range tests {
		var r ChatRequest
		err := json.Unmarshal([]byte(tt.body), &r)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.body, err, tt.want)
		}
	}
	// JSON null leaves the value unchanged, as encoding/json does.
	r := ChatRequest{Model: "keep"}
	if err := json.Unmarshal([]byte(`null`), &r); err != nil || r.Model != "keep" {
		t.Errorf("null: %v %+v", err, r)
	}
	// Decoding resets: nothing of the previous value survives.
	r = ChatRequest{Model: "old", User: "old", Extra: map[string]json.RawMessage{"x": json.RawMessage(`1`)}}
	if err := json.Unmarshal([]byte(`{"model":"new"}`), &r); err != nil || r.User != "" || r.Extra != nil {
		t.Errorf("reset: %v %+v", err, r)
	}
}

func TestToRequest(t *testing.T) {
	temp := 0.0
	tests := []struct {
		name     string
		build    func() (*Request, error)
		endpoint Endpoint
		stream   bool
		body     string
	}{
		{"chat", (&ChatRequest{Model: "g", Stream: true, Temperature: &temp, Messages: []Message{{Role: "user", Content: TextContent("hi")}},
			StreamOptions: &StreamOptions{IncludeUsage: true}}).ToRequest,
			EndpointChat, true, `{"model":"g","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0}`},
		{"embeddings", (&EmbeddingRequest{Model: "g", Input: []string{"a"}}).ToRequest, EndpointEmbeddings, false, `{"model":"g","input":["a"]}`},
		{"completions", (&CompletionRequest{Model: "g", Prompt: "p", Stream: true}).ToRequest, EndpointCompletions, true, `{"model":"g","prompt":"p","stream":true}`},
		{"responses", (&ResponsesRequest{Model: "g", Input: "hi", Reasoning: &Reasoning{Effort: "low"}}).ToRequest, EndpointResponses, false,
			`{"model":"g","input":"hi","reasoning":{"effort":"low"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if req.Endpoint != tt.endpoint || req.Stream != tt.stream || req.Model != "g" {
				t.Errorf("request = %+v", req)
			}
			typesJSONEqual(t, req.Body, tt.body)
		})
	}
	for _, f := range []func() (*Request, error){
		(&ChatRequest{}).ToRequest, (&EmbeddingRequest{}).ToRequest, (&CompletionRequest{}).ToRequest,
		(&ResponsesRequest{}).ToRequest, (&TranscriptionRequest{}).ToRequest,
	} {
		if _, err := f(); err == nil || !strings.Contains(err.Error(), "Model is empty") {
			t.Errorf("empty model: err = %v", err)
		}
	}
}

func TestTranscriptionToRequest(t *testing.T) {
	temp := 0.2
	r := &TranscriptionRequest{
		Model: "whisper-1", File: []byte("RIFF"), FileName: "a.wav", FileContentType: "audio/wav",
		Language: "en", ResponseFormat: "verbose_json", Temperature: &temp,
		TimestampGranularities: []string{"word", "segment"},
		Extra:                  []FormField{{Name: "chunking_strategy", Value: "auto"}},
	}
	req, err := r.ToRequest()
	if err != nil {
		t.Fatal(err)
	}
	if req.Endpoint != EndpointTranscriptions || req.Model != "whisper-1" || req.Form == nil || req.Body != nil {
		t.Fatalf("request = %+v", req)
	}
	want := []FormField{
		{"language", "en"}, {"response_format", "verbose_json"}, {"temperature", "0.2"},
		{"timestamp_granularities[]", "word"}, {"timestamp_granularities[]", "segment"}, {"chunking_strategy", "auto"},
	}
	if !reflect.DeepEqual(req.Form.Fields, want) {
		t.Errorf("fields = %v", req.Form.Fields)
	}
	if string(req.Form.File) != "RIFF" || req.Form.FileName != "a.wav" || req.Form.FileContentType != "audio/wav" {
		t.Errorf("file = %+v", req.Form)
	}
	for _, bad := range []TranscriptionRequest{{Model: "m", FileName: "a"}, {Model: "m", File: []byte("x")}} {
		if _, err := bad.ToRequest(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestEmbeddingVector(t *testing.T) {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, math.Float32bits(1))
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(-0.5))
	b64 := `"` + base64.StdEncoding.EncodeToString(b) + `"`
	tests := []struct {
		raw  string
		want []float32
		err  bool
	}{
		{`[1, -0.5]`, []float32{1, -0.5}, false},
		{b64, []float32{1, -0.5}, false},
		{`"AAA="`, nil, true}, // 2 bytes
		{`"!!"`, nil, true},   // not base64
		{`{}`, nil, true},     // neither form
		{``, nil, true},       // absent
		{`[]`, []float32{}, false},
	}
	for _, tt := range tests {
		e := Embedding{Embedding: json.RawMessage(tt.raw)}
		got, err := e.Vector()
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("%s: %v, %v", tt.raw, got, err)
		}
	}
}

func TestTypedHelpers(t *testing.T) {
	var rr ResponsesResponse
	if err := json.Unmarshal([]byte(`{"output":[
		{"type":"reasoning","content":[{"type":"reasoning_text","text":"no"}]},
		{"type":"message","content":[{"type":"output_text","text":"Hello, "},{"type":"refusal","refusal":"x"}]},
		{"type":"message","content":[{"type":"output_text","text":"world"}]}],
		"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7,"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":2}}}`), &rr); err != nil {
		t.Fatal(err)
	}
	if rr.OutputText() != "Hello, world" {
		t.Errorf("OutputText = %q", rr.OutputText())
	}
	if u := rr.Usage.Usage(); u != (Usage{3, 4, 7, 1, 2}) {
		t.Errorf("responses usage = %+v", u)
	}
	var cr ChatResponse
	if err := json.Unmarshal([]byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"yes"}}],
		"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}}}`), &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Text() != "yes" || cr.Usage.Usage() != (Usage{1, 2, 3, 1, 1}) {
		t.Errorf("chat helpers: %q %+v", cr.Text(), cr.Usage.Usage())
	}
	var nilUsage *UsageBody
	var nilRU *ResponsesUsage
	if nilUsage.Usage() != (Usage{}) || nilRU.Usage() != (Usage{}) || (&ChatResponse{}).Text() != "" {
		t.Error("nil helpers not zero")
	}
}

// TestAllTypesHaveExtra makes sure every typed view is wired to the Extra
// mechanism (extraInfoOf panics on a type without an Extra field).
func TestAllTypesHaveExtra(t *testing.T) {
	for _, v := range []any{
		&ChatRequest{}, &StreamOptions{}, &Message{}, &ContentPart{}, &ImageURL{}, &InputAudio{}, &File{},
		&ToolCall{}, &FunctionCall{}, &Tool{}, &FunctionDef{}, &ResponseFormat{}, &JSONSchema{},
		&ChatResponse{}, &Choice{}, &ChatChunk{}, &ChunkChoice{}, &UsageBody{}, &PromptTokensDetails{},
		&CompletionTokensDetails{}, &EmbeddingRequest{}, &EmbeddingResponse{}, &Embedding{},
		&CompletionRequest{}, &CompletionResponse{}, &CompletionChoice{}, &ResponsesRequest{}, &Reasoning{},
		&ResponsesTool{}, &ResponsesResponse{}, &OutputItem{}, &OutputContent{}, &SummaryPart{},
		&ResponsesUsage{}, &InputTokensDetails{}, &OutputTokensDetails{}, &ResponseError{},
		&IncompleteDetails{}, &TranscriptionResponse{},
	} {
		name := reflect.TypeOf(v).Elem().Name()
		if err := json.Unmarshal([]byte(`{"x_unknown_field":[1,{"a":null}]}`), v); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Contains(out, []byte(`"x_unknown_field":[1,{"a":null}]`)) {
			t.Errorf("%s lost its unknown field: %s", name, out)
		}
	}
}

func FuzzChatRequestUnmarshal(f *testing.F) {
	f.Add([]byte(chatRequestBody))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"u"}]}],"stop":"x","tool_choice":"auto"}`))
	f.Add([]byte(`{"messages":[null,{"content":null}],"metadata":null,"stop":[1,"a"]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"a\u0062":1, "x" : [ {"}":"]"} ] ,"model":"m","\u006dodel":"n"}`))
	fuzzRoundTrip(f, func(t *testing.T, body []byte, r *ChatRequest) {
		// The member walk agrees with encoding/json on every unknown key.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("ChatRequest decoded what encoding/json rejects: %v", err)
		}
		known := extraInfoOf(reflect.TypeFor[ChatRequest]()).byName
		for k, raw := range m {
			if _, ok := known[k]; ok {
				continue
			}
			if !bytes.Equal(r.Extra[k], raw) {
				t.Fatalf("Extra[%q] = %s, encoding/json sees %s", k, r.Extra[k], raw)
			}
		}
		for k := range r.Extra {
			if _, ok := m[k]; !ok {
				t.Fatalf("Extra has %q, not in the input", k)
			}
		}
	})
}

func FuzzChatResponseUnmarshal(f *testing.F) {
	f.Add([]byte(`{"id":"c","object":"chat.completion","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"x","tool_calls":[{"index":0}]},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}`))
	f.Add([]byte(`{"choices":[{"message":{"content":[]}}],"usage":null}`))
	fuzzRoundTrip[ChatResponse](f, nil)
}

// fuzzRoundTrip checks that decoding never panics and that whatever
// decodes encodes, and encodes the same after another round. check, when
// set, runs on each successfully decoded value.
func fuzzRoundTrip[T any](f *testing.F, check func(t *testing.T, body []byte, v *T)) {
	f.Fuzz(func(t *testing.T, body []byte) {
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return
		}
		if check != nil {
			check(t, body, &v)
		}
		out, err := json.Marshal(&v)
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		var w T
		if err := json.Unmarshal(out, &w); err != nil {
			t.Fatalf("own output does not decode: %v\n%s", err, out)
		}
		again, err := json.Marshal(&w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("unstable encoding:\n%s\n%s", out, again)
		}
	})
}

func ExampleChatRequest_ToRequest() {
	temp := 0.2
	r := ChatRequest{
		Model: "gpt-4o",
		Messages: []Message{
			{Role: "system", Content: TextContent("Answer in one word.")},
			{Role: "user", Content: PartsContent(TextPart("What is this?"), ImagePart("https://example.com/cat.png"))},
		},
		Temperature: &temp,
		// Fields the struct does not model go in Extra.
		Extra: map[string]json.RawMessage{"seed": json.RawMessage(`42`)},
	}
	req, err := r.ToRequest()
	if err != nil {
		panic(err)
	}
	fmt.Println(req.Endpoint, req.Model)
	fmt.Println(string(req.Body))
	// Output:
	// chat gpt-4o
	// {"model":"gpt-4o","messages":[{"role":"system","content":"Answer in one word."},{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}],"temperature":0.2,"seed":42}
}

func ExampleChatResponse() {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",
		"choices":[{"index":0,"message":{"role":"assistant","content":"Cat."},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22},
		"x_vendor_field":{"kept":true}}`)
	var r ChatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		panic(err)
	}
	fmt.Println(r.Text(), r.Usage.Usage().TotalTokens, string(r.Extra["x_vendor_field"]))
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	// Output:
	// Cat. 22 {"kept":true}
	// {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Cat."},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22},"x_vendor_field":{"kept":true}}
}

func BenchmarkChatRequestUnmarshal(b *testing.B) {
	body := []byte(chatRequestBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var r ChatRequest
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatRequestMarshal(b *testing.B) {
	var r ChatRequest
	if err := json.Unmarshal([]byte(chatRequestBody), &r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&r); err != nil {
			b.Fatal(err)
		}
	}
}

var errSink error

func BenchmarkChatResponseUnmarshal(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp",
		"choices":[{"index":0,"message":{"role":"assistant","content":"It is 12C and cloudy in Oslo.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
		"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160,"prompt_tokens_details":{"cached_tokens":64}}}`)
	b.ReportAllocs()
	for b.Loop() {
		var r ChatResponse
		errSink = json.Unmarshal(body, &r)
	}
	if errSink != nil {
		b.Fatal(errSink)
	}
}

// FuzzDecodeScalar checks the scalar fast path against encoding/json: same
// value whenever the fast path takes the input.
func FuzzDecodeScalar(f *testing.F) {
	for _, s := range []string{`"abc"`, `"é"`, `"a\"b"`, `"\u00e9"`, `12`, `-3`, `01`, `-0`, `1e3`, `99999999999999999999`, `true`, `false`, `null`, `"` + "\xff" + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check := func(fast, slow reflect.Value) {
			if !decodeScalar(raw, fast) {
				return
			}
			if err := json.Unmarshal(raw, slow.Addr().Interface()); err != nil {
				t.Fatalf("fast path took %q, encoding/json rejects it: %v", raw, err)
			}
			if fast.Interface() != slow.Interface() {
				t.Fatalf("%q: fast %v, encoding/json %v", raw, fast, slow)
			}
		}
		var s1, s2 string
		check(reflect.ValueOf(&s1).Elem(), reflect.ValueOf(&s2).Elem())
		var i1, i2 int
		check(reflect.ValueOf(&i1).Elem(), reflect.ValueOf(&i2).Elem())
		var j1, j2 int32
		check(reflect.ValueOf(&j1).Elem(), reflect.ValueOf(&j2).Elem())
		var b1, b2 bool
		check(reflect.ValueOf(&b1).Elem(), reflect.ValueOf(&b2).Elem())
	})
}
