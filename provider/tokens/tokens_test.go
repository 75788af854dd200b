package tokens

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestEncodingFor(t *testing.T) {
	tests := map[string]Encoding{
		"gpt-4o":                        O200kBase,
		"gpt-4o-mini-2024-07-18":        O200kBase,
		"chatgpt-4o-latest":             O200kBase,
		"gpt-4.1-nano":                  O200kBase,
		"gpt-4.5-preview":               O200kBase,
		"gpt-5":                         O200kBase,
		"gpt-5.2-codex":                 O200kBase,
		"o1":                            O200kBase,
		"o1-mini":                       O200kBase,
		"o3-pro":                        O200kBase,
		"o4-mini-deep-research":         O200kBase,
		"gpt-4o-transcribe":             O200kBase,
		"gpt-4o-mini-transcribe":        O200kBase,
		"openai/gpt-4o":                 O200kBase,
		"azure/my-deployment":           O200kBase, // unknown
		"":                              O200kBase,
		"ft:gpt-4o-2024-08-06:org::x":   O200kBase,
		"gpt-4":                         Cl100kBase,
		"gpt-4-0613":                    Cl100kBase,
		"gpt-4-turbo":                   Cl100kBase,
		"gpt-4-32k":                     Cl100kBase,
		"GPT-4-Turbo":                   Cl100kBase,
		"gpt-3.5-turbo":                 Cl100kBase,
		"gpt-3.5-turbo-instruct":        Cl100kBase,
		"azure/gpt-35-turbo-16k":        Cl100kBase,
		"text-embedding-3-small":        Cl100kBase,
		"text-embedding-ada-002":        Cl100kBase,
		"openai/text-embedding-3-large": Cl100kBase,
		"ft:gpt-4-0613:org::x":          Cl100kBase,
		"ft:gpt-3.5-turbo:org:s:id":     Cl100kBase,
		"davinci-002":                   Cl100kBase,
		"ft:babbage-002":                Cl100kBase,
	}
	for model, want := range tests {
		if got := EncodingFor(model); got != want {
			t.Errorf("EncodingFor(%q) = %s, want %s", model, got, want)
		}
	}
}

// Known counts, checked against the token IDs tiktoken gives (the
// tiktoken README shows "tiktoken is great!" as the six cl100k_base tokens
// [83, 1609, 5963, 374, 2294, 0]).
func TestCount(t *testing.T) {
	tests := []struct {
		enc  Encoding
		text string
		want int
	}{
		{O200kBase, "", 0},
		{Cl100kBase, "", 0},
		{O200kBase, "hello world", 2},
		{Cl100kBase, "hello world", 2},
		{Cl100kBase, "tiktoken is great!", 6},
		{O200kBase, "tiktoken is great!", 6},
		{O200kBase, "user", 1},
		{Cl100kBase, "assistant", 1},
		{Cl100kBase, "example_user", 2},
		{O200kBase, " ", 1},
		{O200kBase, "\xff", 1},          // invalid UTF-8 counts as U+FFFD
		{O200kBase, "<|endoftext|>", 7}, // special tokens are plain text
	}
	for _, tt := range tests {
		if got := tt.enc.Count(tt.text); got != tt.want {
			t.Errorf("%s.Count(%q) = %d, want %d", tt.enc, tt.text, got, tt.want)
		}
	}
	if got := Count("gpt-4", "tiktoken is great!"); got != 6 {
		t.Errorf("Count(gpt-4) = %d", got)
	}
	// The encodings differ: o200k_base packs this in fewer tokens.
	text := "Switchyard routes OpenAI-style calls across many deployments, 日本語のテキストも。"
	if o, c := O200kBase.Count(text), Cl100kBase.Count(text); o >= c {
		t.Errorf("o200k_base %d tokens, cl100k_base %d: want fewer in o200k_base", o, c)
	}
}

// The OpenAI cookbook's example conversation, which OpenAI's API counts as
// 129 prompt tokens for gpt-3.5-turbo and gpt-4 and 124 for gpt-4o and
// gpt-4o-mini ("How to count tokens with tiktoken").
const cookbookBody = `{"model": "gpt-4o", "messages": [
  {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
  {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
  {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
  {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
  {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
  {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}
]}`

func TestCountChatBodyCookbook(t *testing.T) {
	for model, want := range map[string]int{
		"gpt-3.5-turbo": 129, "gpt-4-0613": 129, "gpt-4o": 124, "gpt-4o-mini": 124,
		"": 124, // the body's own model
	} {
		got, err := CountChatBody(model, []byte(cookbookBody))
		if err != nil || got != want {
			t.Errorf("CountChatBody(%q, cookbook) = %d, %v; want %d", model, got, err, want)
		}
	}
}

func TestCountChatBody(t *testing.T) {
	enc := O200kBase
	n := enc.Count
	msg := func(role, text string) int { return tokensPerMessage + n(role) + n(text) }
	const tools = `[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`

	tests := []struct {
		name string
		body string
		want int
	}{
		{
			name: "single user message",
			body: `{"messages":[{"role":"user","content":"hello world"}]}`,
			want: tokensPerMessage + 1 + 2 + replyPriming, // 8
		},
		{
			name: "null content and text parts",
			body: `{"messages":[{"role":"assistant","content":null},
				{"role":"user","content":[{"type":"text","text":"hello world"},{"type":"text","text":"tiktoken is great!"}]}]}`,
			want: msg("assistant", "") + msg("user", "hello world") + n("tiktoken is great!") + replyPriming,
		},
		{
			name: "images: low detail and conservative default",
			body: `{"messages":[{"role":"user","content":[
				{"type":"text","text":"compare"},
				{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}},
				{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
				{"type":"image_url","image_url":{"url":"https://example.com/b.png","detail":"high"}}]}]}`,
			want: msg("user", "compare") + imageLowDetailTokens + 2*imageTokens + replyPriming,
		},
		{
			name: "audio and file parts from data length",
			body: `{"messages":[{"role":"user","content":[
				{"type":"input_audio","input_audio":{"data":"` + strings.Repeat("A", 1000) + `","format":"wav"}},
				{"type":"file","file":{"file_data":"data:application/pdf;base64,` + strings.Repeat("B", 1171) + `","filename":"a.pdf"}}]}]}`,
			want: msg("user", "") + 2 + (1200+FileBase64BytesPerToken-1)/FileBase64BytesPerToken + n("a.pdf") + replyPriming,
		},
		{
			name: "tool calls, tool results and tool definitions",
			body: `{"messages":[
				{"role":"user","content":"weather in Paris?"},
				{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
				{"role":"tool","tool_call_id":"call_1","content":"sunny"}],
				"tools":` + tools + `}`,
			want: msg("user", "weather in Paris?") +
				msg("assistant", "") + tokensPerMessage + n("get_weather") + n(`{"city":"Paris"}`) +
				msg("tool", "sunny") + n("call_1") +
				replyPriming + n(tools),
		},
		{
			name: "tool definitions are counted compact",
			body: `{"messages":[{"role":"user","content":"hi"}], "tools": [ {"type": "function",
				"function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}} ]}`,
			want: msg("user", "hi") + replyPriming + n(tools),
		},
		{
			name: "json schema response format",
			body: `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`,
			want: msg("user", "hi") + replyPriming + n(`{"name":"x","schema":{"type":"object"}}`),
		},
		{
			name: "responses: string input and instructions",
			body: `{"model":"gpt-5","instructions":"Be brief.","input":"hello world"}`,
			want: msg("system", "Be brief.") + msg("user", "hello world") + replyPriming,
		},
		{
			name: "responses: instructions alone",
			body: `{"instructions":"Be brief."}`,
			want: msg("system", "Be brief.") + replyPriming,
		},
		{
			name: "responses: items",
			body: `{"input":[
				{"role":"user","content":"hello world"},
				{"type":"message","role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://x/y.png","detail":"low"},{"type":"input_file","file_data":"` + strings.Repeat("C", 24) + `","filename":"f.pdf"}]},
				{"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{}"},
				{"type":"function_call_output","call_id":"c1","output":"sunny"},
				{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thinking"}]},
				{"type":"item_reference","id":"msg_1"}],
				"tools":` + tools + `}`,
			want: msg("user", "hello world") +
				msg("user", "look") + imageLowDetailTokens + 2 + n("f.pdf") +
				tokensPerMessage + n("get_weather") + n("{}") +
				tokensPerMessage + n("sunny") +
				n("thinking") +
				replyPriming + n(tools),
		},
		{
			name: "embeddings: string with an embedding model",
			body: `{"model":"text-embedding-3-small","input":"tiktoken is great!"}`,
			want: 6,
		},
		{
			name: "embeddings: list of strings and token arrays",
			body: `{"model":"x","input":["hello world","tiktoken is great!"]}`,
			want: 2 + 6,
		},
		{
			name: "embeddings: token arrays",
			body: `{"input":[[1,2,3],[4,5]],"encoding_format":"float"}`,
			want: 5,
		},
		{
			name: "embeddings: single token array",
			body: `{"input":[1,2,3,4]}`,
			want: 4,
		},
		{
			name: "embeddings: string with dimensions",
			body: `{"input":"hello world","dimensions":256}`,
			want: 2,
		},
		{
			name: "completions: prompt string",
			body: `{"model":"gpt-3.5-turbo-instruct","prompt":"tiktoken is great!"}`,
			want: 6,
		},
		{
			name: "completions: prompt list",
			body: `{"prompt":["hello world","hello world"]}`,
			want: 4,
		},
		{
			name: "empty messages",
			body: `{"messages":[]}`,
			want: replyPriming,
		},
	}
	for _, tt := range tests {
		got, err := CountChatBody("", []byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: CountChatBody = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCountChatBodyErrors(t *testing.T) {
	tests := []struct {
		body  string
		field string // want BodyError.Field
		msg   string // want in Error()
	}{
		{``, "", "unexpected end of JSON input"},
		{`{"messages":[`, "", "unexpected end"},
		{`null`, "", "null, want an object"},
		{`[1,2]`, "", "cannot unmarshal array"},
		{`{}`, "", "no messages, input, instructions or prompt"},
		{`{"model":"gpt-4o","messages":null}`, "", "no messages"},
		{`{"messages":{"role":"user"}}`, "messages", "cannot unmarshal object"},
		{`{"messages":[42]}`, "messages[0]", "cannot unmarshal number"},
		{`{"messages":[null]}`, "messages[0]", "want an object"},
		{`{"messages":[{"role":"user","content":42}]}`, "messages[0].content", "want a string, an array of parts or null"},
		{`{"messages":[{"role":"user","content":["hi"]}]}`, "messages[0].content[0]", "cannot unmarshal string"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":7}]}]}`, "messages[0].content[0]", "cannot unmarshal number"},
		{`{"messages":[{"role":"user","name":3,"content":"x"}]}`, "messages[0].name", "cannot unmarshal number"},
		{`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":7}]}]}`, "messages[0].content[0].image_url", "want an object or a URL string"},
		{`{"messages":[{"role":"assistant","tool_calls":{"id":1}}]}`, "messages[0].tool_calls", "cannot unmarshal object"},
		{`{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":1}}]}]}`, "messages[0].tool_calls[0]", "cannot unmarshal number"},
		{`{"messages":[],"tools":{}}`, "tools", "want an array"},
		{`{"input":42}`, "input", "want a string or an array of items"},
		{`{"input":[{"role":"user","content":5}]}`, "input[0].content", "want a string"},
		{`{"input":["x", {"a":1}]}`, "input[1]", "want a string, a token or a token array"},
		{`{"instructions":5}`, "instructions", "cannot unmarshal number"},
		{`{"prompt":{"a":1}}`, "prompt", "want a string or an array"},
		{`{"prompt":[[1,"x"]]}`, "prompt[0]", "cannot unmarshal string"},
	}
	for _, tt := range tests {
		n, err := CountChatBody("gpt-4o", []byte(tt.body))
		var be *BodyError
		if !errors.As(err, &be) {
			t.Errorf("CountChatBody(%s) = %d, %v; want a *BodyError", tt.body, n, err)
			continue
		}
		if n != 0 || be.Field != tt.field || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "tokens: body: ") {
			t.Errorf("CountChatBody(%s) = %d, %q (field %q); want field %q and %q", tt.body, n, err, be.Field, tt.field, tt.msg)
		}
	}
	_, err := CountChatBody("", []byte(`{"model":"gpt-4o"}`))
	if !errors.Is(err, ErrNoPrompt) {
		t.Errorf("body without prompt: err = %v, want ErrNoPrompt", err)
	}
}

func TestCountConcurrent(t *testing.T) {
	texts := []string{"hello world", strings.Repeat("Concurrency is not parallelism. ", 40), "日本語のテキスト", cookbookBody}
	want := make([][2]int, len(texts))
	for i, s := range texts {
		want[i] = [2]int{O200kBase.Count(s), Cl100kBase.Count(s)}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(texts)
				if got := (O200kBase.Count(texts[k])); got != want[k][0] {
					t.Errorf("concurrent o200k count %d, want %d", got, want[k][0])
				}
				if got := (Cl100kBase.Count(texts[k])); got != want[k][1] {
					t.Errorf("concurrent cl100k count %d, want %d", got, want[k][1])
				}
			}
		})
	}
	wg.Wait()
}

func FuzzCountChatBody(f *testing.F) {
	for _, s := range []string{
		cookbookBody,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x","detail":"low"}}]}],"tools":[]}`,
		`{"input":[{"type":"function_call","name":"f","arguments":"{}"},{"type":"function_call_output","output":[{"type":"input_text","text":"x"}]}]}`,
		`{"input":[[1,2],[3]]}`, `{"prompt":"x"}`, `{"instructions":"x","input":"y"}`, `{}`, `null`, `[`, `{"messages":[null]}`,
		`{"messages":[{"role":"user","content":"\ud800"}]}`,
	} {
		f.Add("gpt-4o", []byte(s))
	}
	f.Add("gpt-4", []byte(`{"messages":[{"role":"user","content":"hello"}]}`))
	f.Fuzz(func(t *testing.T, model string, body []byte) {
		n, err := CountChatBody(model, body)
		if err != nil {
			var be *BodyError
			if !errors.As(err, &be) || n != 0 {
				t.Fatalf("CountChatBody = %d, %v: want 0 and a *BodyError", n, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("CountChatBody = %d", n)
		}
	})
}

// prompt1KB is about 1 KB of ordinary English prose.
var prompt1KB = strings.Repeat("The router picks a deployment for each call, sends it, and records how long it took. ", 12)

func BenchmarkCount1KB(b *testing.B) {
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		b.Run(string(enc), func(b *testing.B) {
			enc.Count("warm up")
			b.SetBytes(int64(len(prompt1KB)))
			b.ReportAllocs()
			for b.Loop() {
				enc.Count(prompt1KB)
			}
		})
	}
}

func BenchmarkCountChatBody(b *testing.B) {
	body := []byte(cookbookBody)
	O200kBase.Count("warm up") // load the vocabulary outside the timing
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CountChatBody("gpt-4o", body); err != nil {
			b.Fatal(err)
		}
	}
}
