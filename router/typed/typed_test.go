package typed_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

func quiet() router.Option { return router.WithLogger(slog.New(slog.DiscardHandler)) }

func keyDep(srv *openaitest.Server, group, id, key string) deployment.Config {
	return deployment.Config{ID: id, ModelName: group, Model: "openai/gpt-4o-mini", APIKey: key, BaseURL: srv.URL}
}

// typedFixture is a fake upstream behind a router with a chat group
// "mini" of two deployments (tagged "team-a" and "default") and an
// embeddings group "embed".
type typedFixture struct {
	srv *openaitest.Server
	r   *router.Router
}

func newTypedFixture(t *testing.T, opts ...openaitest.Option) *typedFixture {
	t.Helper()
	srv := openaitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	tagged := keyDep(srv, "mini", "tagged", "sk-t")
	tagged.Tags = []string{"team-a"}
	plain := keyDep(srv, "mini", "plain", "sk-p")
	plain.Tags = []string{"default"}
	emb := deployment.Config{ID: "emb", ModelName: "embed", Model: "openai/text-embedding-3-small", APIKey: "sk-e", BaseURL: srv.URL}
	r, err := router.New(router.Config{Deployments: []deployment.Config{tagged, plain, emb}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return &typedFixture{srv: srv, r: r}
}

// lastBody returns the JSON body of the last request the upstream got, by
// top-level key.
func (f *typedFixture) lastBody(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	rr, ok := f.srv.LastRequest()
	if !ok {
		t.Fatal("no upstream request")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rr.Body, &m); err != nil {
		t.Fatalf("upstream body %s: %v", rr.Body, err)
	}
	return m
}

// wantFields checks top-level fields of an upstream body, by their JSON.
func wantFields(t *testing.T, body map[string]json.RawMessage, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := string(body[k]); got != v {
			t.Errorf("upstream %s = %s, want %s", k, got, v)
		}
	}
}

var (
	ping     = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")}
	extraTag = map[string]any{"x_trace": "abc"}
)

func chatParams() openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: "mini", Messages: ping, Temperature: openai.Float(0)}
	p.SetExtraFields(extraTag)
	return p
}

func TestTypedHelpersOverHTTP(t *testing.T) {
	f := newTypedFixture(t)
	ctx := t.Context()

	t.Run("chat", func(t *testing.T) {
		resp, res, err := typed.Chat(ctx, f.r, chatParams())
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "echo: ping" || res.Deployment != "plain" {
			t.Fatalf("%+v from %s", resp.Choices, res.Deployment)
		}
		if resp.RawJSON() != string(res.Body) {
			t.Errorf("RawJSON is not the upstream body:\n%s\n%s", resp.RawJSON(), res.Body)
		}
		if resp.Usage.TotalTokens == 0 || resp.Usage.TotalTokens != int64(res.Usage.TotalTokens) || resp.Model != "gpt-4o-mini" || !strings.HasPrefix(resp.ID, "chatcmpl-") {
			t.Errorf("usage %+v (result %+v), model %q, id %q", resp.Usage, res.Usage, resp.Model, resp.ID)
		}
		// A field the SDK does not model is kept.
		if _, ok := resp.Choices[0].Message.JSON.ExtraFields["provider_specific_fields"]; !ok {
			t.Errorf("unknown message field lost: %v", resp.Choices[0].Message.JSON.ExtraFields)
		}
		wantFields(t, f.lastBody(t), map[string]string{
			"model": `"gpt-4o-mini"`, "x_trace": `"abc"`, "temperature": "0", "stream": "",
			"messages": `[{"content":"ping","role":"user"}]`,
		})
	})
	t.Run("tags route with WithTags", func(t *testing.T) {
		p := chatParams()
		p.Metadata = shared.Metadata{"tenant": "acme"}
		for range 5 {
			_, res, err := typed.Chat(ctx, f.r, p, router.WithTags("team-a"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Deployment != "tagged" {
				t.Fatalf("served by %s, want the team-a deployment", res.Deployment)
			}
		}
		// Metadata is the caller's, sent upstream as given.
		wantFields(t, f.lastBody(t), map[string]string{"metadata": `{"tenant":"acme"}`})
	})
	t.Run("completions", func(t *testing.T) {
		p := openai.CompletionNewParams{Model: "mini", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("say hi")}, MaxTokens: openai.Int(16)}
		p.SetExtraFields(extraTag)
		resp, res, err := typed.Completions(ctx, f.r, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Text == "" || resp.RawJSON() != string(res.Body) {
			t.Errorf("completion %+v, raw %q", resp.Choices, resp.RawJSON())
		}
		wantFields(t, f.lastBody(t), map[string]string{"model": `"gpt-4o-mini"`, "x_trace": `"abc"`, "prompt": `"say hi"`, "max_tokens": "16"})
	})
	t.Run("embeddings", func(t *testing.T) {
		for _, format := range []openai.EmbeddingNewParamsEncodingFormat{"", openai.EmbeddingNewParamsEncodingFormatBase64} {
			p := openai.EmbeddingNewParams{Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}, EncodingFormat: format}
			p.SetExtraFields(extraTag)
			resp, res, err := typed.Embeddings(ctx, f.r, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != 2 || resp.RawJSON() != string(res.Body) {
				t.Fatalf("format %q: %d embeddings", format, len(resp.Data))
			}
			// Both encodings decode to the fake's vector for the input.
			want := openaitest.Vector("b", len(resp.Data[1].Embedding))
			if len(want) == 0 || float32(resp.Data[1].Embedding[0]) != want[0] {
				t.Errorf("format %q: vector %v, want %v", format, resp.Data[1].Embedding[:min(3, len(resp.Data[1].Embedding))], want[:min(3, len(want))])
			}
			wantFields(t, f.lastBody(t), map[string]string{"model": `"text-embedding-3-small"`, "x_trace": `"abc"`, "input": `["a","b"]`})
		}
	})
	t.Run("responses", func(t *testing.T) {
		p := responses.ResponseNewParams{Model: "mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("ping")},
			Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortLow}}
		p.SetExtraFields(extraTag)
		resp, res, err := typed.Responses(ctx, f.r, p)
		if err != nil {
			t.Fatal(err)
		}
		if resp.OutputText() != "echo: ping" || resp.RawJSON() != string(res.Body) || resp.Usage.TotalTokens == 0 {
			t.Errorf("output %q, usage %+v", resp.OutputText(), resp.Usage)
		}
		wantFields(t, f.lastBody(t), map[string]string{"model": `"gpt-4o-mini"`, "x_trace": `"abc"`, "input": `"ping"`, "reasoning": `{"effort":"low"}`})
	})
	t.Run("responses streamed through Stream, as documented", func(t *testing.T) {
		p := responses.ResponseNewParams{Model: "mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("ping")}}
		p.SetExtraFields(map[string]any{"stream": true})
		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.r.Stream(ctx, &provider.Request{Endpoint: provider.EndpointResponses, Model: p.Model, Body: body, Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var text strings.Builder
		for s.Next() {
			var ev responses.ResponseStreamEventUnion
			if err := ev.UnmarshalJSON(s.Event().Data); err != nil {
				t.Fatal(err)
			}
			if ev.Type == "response.output_text.delta" {
				text.WriteString(ev.Delta)
			}
		}
		if s.Err() != nil || text.String() != "echo: ping" {
			t.Errorf("streamed %q, err %v", text.String(), s.Err())
		}
	})
	t.Run("transcription", func(t *testing.T) {
		for _, tt := range []struct {
			format openai.AudioResponseFormat
			want   func(text string) bool
			json   bool
		}{
			{"", func(s string) bool { return s == "transcript of a.wav (8 bytes)" }, true},
			{openai.AudioResponseFormatVerboseJSON, func(s string) bool { return s == "transcript of a.wav (8 bytes)" }, true},
			{openai.AudioResponseFormatText, func(s string) bool { return s == "transcript of a.wav (8 bytes)\n" }, false},
			{openai.AudioResponseFormatSRT, func(s string) bool { return strings.HasPrefix(s, "1\n00:00:00,000 --> ") }, false},
		} {
			p := openai.AudioTranscriptionNewParams{Model: "mini", File: openai.File(strings.NewReader("RIFF...."), "a.wav", "audio/wav"), ResponseFormat: tt.format}
			resp, res, err := typed.Transcription(ctx, f.r, p)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(resp.Text) {
				t.Errorf("format %q: text %q", tt.format, resp.Text)
			}
			if tt.json != (resp.RawJSON() == string(res.Body)) {
				t.Errorf("format %q: RawJSON %q, body %q", tt.format, resp.RawJSON(), res.Body)
			}
		}
	})
}

// formOf parses the multipart body of a recorded request.
func formOf(t *testing.T, rr openaitest.RecordedRequest) (fields [][2]string, file []byte, name, ctype string) {
	t.Helper()
	_, mp, err := mime.ParseMediaType(rr.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(rr.Body), mp["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		v, _ := io.ReadAll(p)
		if p.FormName() == "file" {
			file, name, ctype = v, p.FileName(), p.Header.Get("Content-Type")
			continue
		}
		fields = append(fields, [2]string{p.FormName(), string(v)})
	}
}

// The audio is read into memory once, so that a retry on another
// deployment sends every field and the whole file again.
func TestTypedTranscriptionForm(t *testing.T) {
	f := newTypedFixture(t)
	f.srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Endpoint: "transcriptions", Count: 1})
	p := openai.AudioTranscriptionNewParams{
		Model: "mini", File: openai.File(strings.NewReader("RIFF-audio"), "a.wav", "audio/wav"),
		Language: openai.String("en"), Temperature: openai.Float(0.2), ResponseFormat: openai.AudioResponseFormatVerboseJSON,
		TimestampGranularities: []string{"word", "segment"},
	}
	p.SetExtraFields(map[string]any{"x_trace": "abc"})
	resp, res, err := typed.Transcription(t.Context(), f.r, p, router.WithTags("team-a", "default"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 2 || res.Attempts[0].Err == nil || resp.Text != "transcript of a.wav (10 bytes)" {
		t.Fatalf("attempts %+v, text %q", res.Attempts, resp.Text)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	want := [][2]string{
		{"model", "gpt-4o-mini"}, {"language", "en"}, {"response_format", "verbose_json"}, {"temperature", "0.2"},
		{"timestamp_granularities[]", "word"}, {"timestamp_granularities[]", "segment"}, {"x_trace", "abc"},
	}
	for i, rr := range reqs {
		fields, file, name, ctype := formOf(t, rr)
		slices.SortStableFunc(fields, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		w := slices.Clone(want)
		slices.SortStableFunc(w, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		if !slices.Equal(fields, w) {
			t.Errorf("request %d: fields %v, want %v", i, fields, w)
		}
		if string(file) != "RIFF-audio" || name != "a.wav" || ctype != "audio/wav" {
			t.Errorf("request %d: file %q %q %q", i, file, name, ctype)
		}
	}
}

func TestTypedChatStream(t *testing.T) {
	f := newTypedFixture(t, openaitest.WithStreamTiming(0, 0, 4))
	ctx := t.Context()
	read := func(t *testing.T, s *typed.ChatStreamResult) (text string, chunks int) {
		t.Helper()
		var b strings.Builder
		for s.Next() {
			c, err := s.Chunk()
			if err != nil {
				t.Fatal(err)
			}
			chunks++
			if s.Text() != "" && s.Text() != c.Choices[0].Delta.Content {
				t.Errorf("Text %q, chunk %q", s.Text(), c.Choices[0].Delta.Content)
			}
			b.WriteString(s.Text())
		}
		return b.String(), chunks
	}

	t.Run("text and accumulated answer with usage", func(t *testing.T) {
		p := chatParams()
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s, err := typed.ChatStream(ctx, f.r, p)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		text, chunks := read(t, s)
		if s.Err() != nil || text != "echo: ping" {
			t.Fatalf("streamed %q, err %v", text, s.Err())
		}
		if chunks < 4 {
			t.Errorf("%d chunks: the reply was not split", chunks)
		}
		c := s.Completion()
		if len(c.Choices) != 1 || c.Choices[0].Message.Content != "echo: ping" || c.Choices[0].FinishReason != "stop" || c.Choices[0].Message.Role != "assistant" {
			t.Errorf("accumulated %+v", c.Choices)
		}
		if c.Usage.TotalTokens == 0 || c.Usage.TotalTokens != int64(s.Usage().TotalTokens) || c.ID == "" || c.Model != "gpt-4o-mini" {
			t.Errorf("accumulated usage %+v (stream %+v), id %q, model %q", c.Usage, s.Usage(), c.ID, c.Model)
		}
		wantFields(t, f.lastBody(t), map[string]string{
			"model": `"gpt-4o-mini"`, "stream": "true", "stream_options": `{"include_usage":true}`, "x_trace": `"abc"`,
		})
	})
	t.Run("no usage unless asked", func(t *testing.T) {
		s, err := typed.ChatStream(ctx, f.r, openai.ChatCompletionNewParams{Model: "mini", Messages: ping})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if text, _ := read(t, s); text != "echo: ping" || s.Err() != nil {
			t.Fatalf("streamed %q, err %v", text, s.Err())
		}
		if u := s.Completion().Usage; u.TotalTokens != 0 {
			t.Errorf("usage %+v without include_usage", u)
		}
		wantFields(t, f.lastBody(t), map[string]string{"stream": "true", "stream_options": ""})
	})
	t.Run("early close keeps what was read", func(t *testing.T) {
		s, err := typed.ChatStream(ctx, f.r, openai.ChatCompletionNewParams{Model: "mini", Messages: ping})
		if err != nil {
			t.Fatal(err)
		}
		var read strings.Builder
		for read.Len() < 3 && s.Next() {
			read.WriteString(s.Text())
		}
		_ = s.Close()
		if s.Next() {
			t.Error("Next after Close")
		}
		c := s.Completion()
		if read.Len() == 0 || read.String() == "echo: ping" || len(c.Choices) != 1 || c.Choices[0].Message.Content != read.String() || c.Choices[0].FinishReason != "" {
			t.Errorf("read %q, accumulated %+v", read.String(), c.Choices)
		}
	})
}

func TestTypedChatStreamToolCalls(t *testing.T) {
	f := newTypedFixture(t, openaitest.WithToolCalls())
	tools := []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Parameters: shared.FunctionParameters{"type": "object"}}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time", Parameters: shared.FunctionParameters{"type": "object"}}),
	}
	s, err := typed.ChatStream(t.Context(), f.r, openai.ChatCompletionNewParams{Model: "mini", Messages: ping, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var chunks, toolChunks int
	for s.Next() {
		c, err := s.Chunk()
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		if len(c.Choices) > 0 && len(c.Choices[0].Delta.ToolCalls) > 0 {
			toolChunks++
		}
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	calls := s.Completion().Choices[0].Message.ToolCalls
	if toolChunks != 6 || len(calls) != 2 {
		t.Fatalf("%d tool-call chunks, accumulated %+v", toolChunks, calls)
	}
	for i, name := range []string{"get_weather", "get_time"} {
		c := calls[i]
		if c.ID == "" || c.Type != "function" || c.Function.Name != name || c.Function.Arguments != `{"text":"ping"}` {
			t.Errorf("call %d = %+v", i, c)
		}
	}
	if fr := s.Completion().Choices[0].FinishReason; fr != "tool_calls" {
		t.Errorf("finish reason %q", fr)
	}
}

// Params that cannot make a request fail before any deployment is tried,
// naming the field, with a *provider.Error of class bad request.
func TestTypedBadParams(t *testing.T) {
	f := newTypedFixture(t)
	ctx := t.Context()
	streaming := chatParams()
	streaming.SetExtraFields(map[string]any{"stream": true})
	notStreaming := chatParams()
	notStreaming.SetExtraFields(map[string]any{"stream": false})
	omitted := chatParams()
	omitted.SetExtraFields(map[string]any{"model": param.Omit})
	var raw openai.ChatCompletionNewParams
	param.SetJSON([]byte(`{"messages":[]}`), &raw)
	var rawArray openai.ChatCompletionNewParams
	param.SetJSON([]byte(`[1]`), &rawArray)
	streamingResp := responses.ResponseNewParams{Model: "mini"}
	streamingResp.SetExtraFields(map[string]any{"stream": true})
	wav := func() io.Reader { return openai.File(strings.NewReader("RIFF"), "a.wav", "audio/wav") }

	for _, tt := range []struct {
		name, param, msg string
		call             func() error
	}{
		{"chat without model", "model", "typed: chat: ", func() error {
			_, _, err := typed.Chat(ctx, f.r, openai.ChatCompletionNewParams{Messages: ping})
			return err
		}},
		{"chat asking to stream", "stream", "use ChatStream", func() error { _, _, err := typed.Chat(ctx, f.r, streaming); return err }},
		{"model omitted by an extra field", "model", "params.Model is empty", func() error { _, _, err := typed.Chat(ctx, f.r, omitted); return err }},
		{"raw JSON without model", "model", "params.Model is empty", func() error { _, _, err := typed.Chat(ctx, f.r, raw); return err }},
		{"raw JSON not an object", "params", "JSON object", func() error { _, _, err := typed.Chat(ctx, f.r, rawArray); return err }},
		{"stream set to false", "stream", `"stream" to false`, func() error { _, err := typed.ChatStream(ctx, f.r, notStreaming); return err }},
		{"stream without model", "model", "typed: chat stream: ", func() error {
			_, err := typed.ChatStream(ctx, f.r, openai.ChatCompletionNewParams{Messages: ping})
			return err
		}},
		{"completions without model", "model", "typed: completions: ", func() error {
			_, _, err := typed.Completions(ctx, f.r, openai.CompletionNewParams{})
			return err
		}},
		{"embeddings without model", "model", "typed: embeddings: ", func() error {
			_, _, err := typed.Embeddings(ctx, f.r, openai.EmbeddingNewParams{})
			return err
		}},
		{"responses without model", "model", "typed: responses: ", func() error {
			_, _, err := typed.Responses(ctx, f.r, responses.ResponseNewParams{})
			return err
		}},
		{"responses asking to stream", "stream", "use Stream", func() error { _, _, err := typed.Responses(ctx, f.r, streamingResp); return err }},
		{"transcription without model", "model", "typed: transcription: ", func() error {
			_, _, err := typed.Transcription(ctx, f.r, openai.AudioTranscriptionNewParams{File: wav()})
			return err
		}},
		{"transcription without file", "file", "params.File is nil", func() error {
			_, _, err := typed.Transcription(ctx, f.r, openai.AudioTranscriptionNewParams{Model: "mini"})
			return err
		}},
		{"transcription of an empty file", "file", "params.File is empty", func() error {
			_, _, err := typed.Transcription(ctx, f.r, openai.AudioTranscriptionNewParams{Model: "mini", File: openai.File(strings.NewReader(""), "a.wav", "audio/wav")})
			return err
		}},
		{"transcription file without a name", "file", "no file name", func() error {
			_, _, err := typed.Transcription(ctx, f.r, openai.AudioTranscriptionNewParams{Model: "mini", File: strings.NewReader("RIFF")})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := f.srv.Stats().Requests
			err := tt.call()
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Param != tt.param || !errors.Is(err, provider.ErrBadRequest) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v (param %q), want a bad request naming %q and saying %q", err, paramOf(pe), tt.param, tt.msg)
			}
			var re *router.RequestError
			if !errors.As(err, &re) || re.Field != tt.param {
				t.Errorf("err = %v, want a *router.RequestError for %q", err, tt.param)
			}
			if n := f.srv.Stats().Requests - before; n != 0 {
				t.Errorf("%d upstream requests for bad params", n)
			}
		})
	}
}

func paramOf(pe *provider.Error) string {
	if pe == nil {
		return "<none>"
	}
	return pe.Param
}
