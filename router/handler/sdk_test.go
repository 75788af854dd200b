package handler

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"github.com/switchyard-go/switchyard/provider/openaitest"
)

// sdkClient is the official OpenAI Go SDK pointed at the gateway.
func (st *stack) sdkClient(key string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(st.srv.URL+"/v1/"),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(st.srv.Client()),
	)
}

func TestSDKChat(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithKeys("sk-gateway")}})
	c := st.sdkClient("sk-gateway")
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
	})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "echo: hello there" {
		t.Errorf("content = %q, want the fake's echo", got)
	}
	if resp.Usage.TotalTokens == 0 {
		t.Error("usage not passed through")
	}
	rr, ok := st.fake.LastRequest()
	if !ok {
		t.Fatal("the fake saw no request")
	}
	if rr.Key != "sk-upstream-a" || rr.Model != "gpt-4o" {
		t.Errorf("upstream got key %q model %q, want the deployment's key and model", rr.Key, rr.Model)
	}
}

func TestSDKChatStream(t *testing.T) {
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithStreamTiming(0, 0, 4)}})
	c := st.sdkClient("any")
	s := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream me please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for s.Next() {
		acc.AddChunk(s.Current())
		chunks++
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if chunks < 4 {
		t.Errorf("got %d chunks, want the fake's chunks relayed one by one", chunks)
	}
	if got := acc.Choices[0].Message.Content; got != "echo: stream me please" {
		t.Errorf("content = %q", got)
	}
	if acc.Usage.TotalTokens == 0 {
		t.Error("usage chunk not relayed")
	}
}

func TestSDKTools(t *testing.T) {
	st := newStack(t, stackConfig{})
	c := st.sdkClient("any")
	tools := []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:       "get_time",
			Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{}},
		}),
	}
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("please call tool for Paris")},
		Tools:    tools,
	}
	resp, err := c.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatalf("chat with tools: %v", err)
	}
	calls := resp.Choices[0].Message.ToolCalls
	if len(calls) != 2 || resp.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("tool calls = %+v finish %q, want two parallel calls", calls, resp.Choices[0].FinishReason)
	}
	names := []string{calls[0].Function.Name, calls[1].Function.Name}
	slices.Sort(names)
	if !slices.Equal(names, []string{"get_time", "get_weather"}) {
		t.Errorf("tool names = %v", names)
	}

	// The same through a stream.
	s := c.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatalf("tool stream: %v", err)
	}
	if n := len(acc.Choices[0].Message.ToolCalls); n != 2 {
		t.Errorf("streamed tool calls = %d, want 2", n)
	}
}

func TestSDKEmbeddings(t *testing.T) {
	st := newStack(t, stackConfig{})
	c := st.sdkClient("any")
	resp, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"alpha", "beta"}},
	})
	if err != nil {
		t.Fatalf("embeddings: %v", err)
	}
	if len(resp.Data) != 2 {
		t.Fatalf("got %d embeddings, want 2", len(resp.Data))
	}
	want := openaitest.Vector("beta", len(resp.Data[1].Embedding))
	for i, v := range resp.Data[1].Embedding {
		if float32(v) != want[i] {
			t.Fatalf("embedding[1][%d] = %v, want the fake's %v", i, v, want[i])
		}
	}
}

func TestSDKResponses(t *testing.T) {
	st := newStack(t, stackConfig{})
	c := st.sdkClient("any")
	params := responses.ResponseNewParams{
		Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("what is up")},
	}
	resp, err := c.Responses.New(context.Background(), params)
	if err != nil {
		t.Fatalf("responses: %v", err)
	}
	if got := resp.OutputText(); got != "echo: what is up" {
		t.Errorf("output text = %q", got)
	}

	s := c.Responses.NewStreaming(context.Background(), params)
	var (
		text      strings.Builder
		completed bool
		types     []string
	)
	for s.Next() {
		ev := s.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			completed = true
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("responses stream: %v", err)
	}
	if !completed || text.String() != "echo: what is up" {
		t.Errorf("stream events %v gave text %q, completed %v", types, text.String(), completed)
	}
	if types[0] != "response.created" {
		t.Errorf("first event %q, want response.created (event names kept)", types[0])
	}
}

func TestSDKTranscription(t *testing.T) {
	st := newStack(t, stackConfig{fake: []openaitest.Option{openaitest.WithReply("hello from audio")}})
	c := st.sdkClient("any")
	audio := bytes.Repeat([]byte{0x49, 0x44, 0x33}, 1000)
	resp, err := c.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{
		File:     openai.File(bytes.NewReader(audio), "speech.mp3", "audio/mpeg"),
		Model:    "whisper-1",
		Language: openai.String("en"),
	})
	if err != nil {
		t.Fatalf("transcription: %v", err)
	}
	if resp.Text != "hello from audio" {
		t.Errorf("text = %q", resp.Text)
	}
	rr, _ := st.fake.LastRequest()
	if rr.Endpoint != "transcriptions" || rr.Model != "whisper-1" {
		t.Errorf("upstream saw endpoint %q model %q", rr.Endpoint, rr.Model)
	}
	if !bytes.Contains(rr.Body, audio[:300]) || !bytes.Contains(rr.Body, []byte(`name="language"`)) {
		t.Error("the file and the language field did not reach the upstream")
	}
}

func TestSDKModels(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithAliases("gpt-4"), WithKeys("sk-gateway")}})
	c := st.sdkClient("sk-gateway")
	page, err := c.Models.List(context.Background())
	if err != nil {
		t.Fatalf("models: %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" || m.OwnedBy == "" {
			t.Errorf("model %+v lacks object or owned_by", m)
		}
	}
	want := []string{"gpt-4", "gpt-4o", "text-embedding-3-small", "whisper-1"}
	if !slices.Equal(ids, want) {
		t.Errorf("models = %v, want %v", ids, want)
	}
	m, err := c.Models.Get(context.Background(), "gpt-4o")
	if err != nil || m.ID != "gpt-4o" {
		t.Errorf("get model = %+v, %v", m, err)
	}
	_, err = c.Models.Get(context.Background(), "nope")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("get unknown model: %v, want a 404", err)
	}
}

// TestSDKErrors checks that the SDK reads the gateway's errors as OpenAI
// errors, with status and code.
func TestSDKErrors(t *testing.T) {
	st := newStack(t, stackConfig{handler: []Option{WithKeys("sk-gateway")}})
	wrong, good := st.sdkClient("sk-wrong"), st.sdkClient("sk-gateway")
	_, err := wrong.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
		t.Fatalf("wrong key: %v, want 401 invalid_api_key", err)
	}
	_, err = good.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5-nope", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
		t.Fatalf("unknown model: %v, want 404 model_not_found", err)
	}
}
