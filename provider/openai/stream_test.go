package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/internal/wire"
)

func chunk(content string) string {
	return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp",` +
		`"choices":[{"index":0,"delta":{"content":"` + content + `","reasoning_content":"r"},"finish_reason":null}]}` + "\n\n"
}

const usageChunk = `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}}` + "\n\n"

// drain reads a stream to its end and returns the data of its events.
func drain(s provider.Stream) []string {
	var out []string
	for s.Next() {
		out = append(out, string(s.Event().Data))
	}
	return out
}

func streamReq(body string) *provider.Request {
	return &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(body), Stream: true}
}

func TestStreamChat(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("X-Request-Id", "req_s")
		w.Header().Set("X-Ratelimit-Remaining-Tokens", "1000")
		sse(w, ": keep-alive\n\n", chunk("Hel"), chunk("lo"), usageChunk, "data: [DONE]\n\n")
	})
	c := up.client(t, Config{Model: "openai/gpt-4o"})
	s, err := c.Stream(context.Background(), streamReq(`{"model":"g","messages":[],"stream_options":{"include_usage":true},"x_new":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := drain(s)
	if err := s.Err(); err != nil {
		t.Fatalf("Err after [DONE] = %v", err)
	}
	if len(got) != 3 || got[0] != strings.TrimSuffix(strings.TrimPrefix(chunk("Hel"), "data: "), "\n\n") {
		t.Fatalf("events %q", got)
	}
	if s.Usage() != (provider.Usage{PromptTokens: 8, CompletionTokens: 2, TotalTokens: 10}) {
		t.Errorf("usage %+v", s.Usage())
	}
	if s.Header().Get("X-Request-Id") != "req_s" || s.Header().Get("X-Ratelimit-Remaining-Tokens") != "1000" {
		t.Errorf("header %v", s.Header())
	}
	if body := string(up.last(t).Body); body != `{"stream":true,"model":"gpt-4o","messages":[],"stream_options":{"include_usage":true},"x_new":1}` {
		t.Errorf("upstream body %s", body)
	}
	if s.Next() || s.Close() != nil || s.Close() != nil {
		t.Error("Next after the end, or Close twice, misbehaved")
	}
}

func TestStreamFailures(t *testing.T) {
	tests := []struct {
		name    string
		frames  []string
		events  int
		want    error
		message string
	}{
		{"truncated", []string{chunk("a"), chunk("b")}, 2, provider.ErrConnection, "truncated"},
		{"truncated mid-frame", []string{chunk("a"), `data: {"id":"c1","choi`}, 1, provider.ErrConnection, "garbage"},
		{"error frame", []string{chunk("a"), `data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}` + "\n\n"},
			1, provider.ErrRateLimited, "Rate limit reached"},
		{"error frame server", []string{`data: {"error":{"message":"boom","type":"server_error"}}` + "\n\n"}, 0, provider.ErrServer, "boom"},
		{"event: error frame", []string{"event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n"}, 0, provider.ErrServer, "overloaded"},
		{"garbage chunk", []string{chunk("a"), "data: <html>\n\n"}, 1, provider.ErrConnection, "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { sse(w, tt.frames...) })
			c := up.client(t, Config{Model: "gpt-4o", DeploymentID: "d1"})
			s, err := c.Stream(context.Background(), streamReq(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := drain(s); len(got) != tt.events {
				t.Errorf("%d events before the failure, want %d", len(got), tt.events)
			}
			err = s.Err()
			var pe *provider.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Deployment != "d1" || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("Err = %v, want %v mentioning %q", err, tt.want, tt.message)
			}
		})
	}
}

func TestStreamErrorAnswers(t *testing.T) {
	tests := []struct {
		name string
		h    func(w http.ResponseWriter)
		want error
	}{
		{"429", func(w http.ResponseWriter) {
			answer(w, 429, `{"error":{"message":"slow down","code":"rate_limit_exceeded"}}`, "Retry-After-Ms", "200")
		}, provider.ErrRateLimited},
		{"json error with 200", func(w http.ResponseWriter) {
			answer(w, 200, `{"error":{"message":"bad key","code":"invalid_api_key"}}`)
		}, provider.ErrAuth},
		{"json answer instead of a stream", func(w http.ResponseWriter) { answer(w, 200, chatAnswer) }, provider.ErrConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { tt.h(w) })
			c := up.client(t, Config{Model: "gpt-4o"})
			s, err := c.Stream(context.Background(), streamReq(`{}`))
			if s != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Stream = %v, %v; want %v", s, err, tt.want)
			}
		})
	}
}

func TestStreamCancel(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		sse(w, chunk("first"))
		select { // then hang until the client goes away
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := up.client(t, Config{Model: "gpt-4o"})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Stream(ctx, streamReq(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Next() {
		t.Fatalf("no first event: %v", s.Err())
	}
	cancel()
	if s.Next() {
		t.Fatal("Next = true after cancel")
	}
	if err := s.Err(); !errors.Is(err, provider.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Err = %v, want ClassCanceled", err)
	}
}

func TestStreamClose(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		sse(w, chunk("a"), chunk("b"))
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := up.client(t, Config{Model: "gpt-4o"})
	s, err := c.Stream(context.Background(), streamReq(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	s.Next()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Next() || !errors.Is(s.Err(), provider.ErrCanceled) {
		t.Fatalf("after Close: Err = %v", s.Err())
	}
}

func TestStreamTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	wait := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	t.Run("no first byte", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { wait(r) })
		c := up.client(t, Config{Model: "gpt-4o", StreamTimeout: 20 * time.Millisecond})
		_, err := c.Stream(context.Background(), streamReq(`{}`))
		if !errors.Is(err, provider.ErrTimeout) || !strings.Contains(err.Error(), "no stream data") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("stalls after headers", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w) // headers only
			wait(r)
		})
		c := up.client(t, Config{Model: "gpt-4o", StreamTimeout: 20 * time.Millisecond})
		s, err := c.Stream(context.Background(), streamReq(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Next() || !errors.Is(s.Err(), provider.ErrTimeout) {
			t.Fatalf("Err = %v", s.Err())
		}
	})
	t.Run("stalls mid-stream", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w, chunk("a"))
			wait(r)
		})
		c := up.client(t, Config{Model: "gpt-4o", StreamTimeout: 20 * time.Millisecond})
		s, err := c.Stream(context.Background(), streamReq(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := drain(s); len(got) != 1 || !errors.Is(s.Err(), provider.ErrTimeout) {
			t.Fatalf("%d events, Err = %v", len(got), s.Err())
		}
	})
	t.Run("per-call timeout bounds the whole stream", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sse(w)
			for { // a steady trickle: never idle, never finished
				select {
				case <-r.Context().Done():
					return
				case <-release:
					return
				case <-time.After(time.Millisecond):
					_, _ = w.Write([]byte(chunk("x")))
					w.(http.Flusher).Flush()
				}
			}
		})
		c := up.client(t, Config{Model: "gpt-4o", StreamTimeout: time.Hour})
		r := streamReq(`{}`)
		r.Timeout = 30 * time.Millisecond
		s, err := c.Stream(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		drain(s)
		if !errors.Is(s.Err(), provider.ErrTimeout) || !strings.Contains(s.Err().Error(), "stream not finished") {
			t.Fatalf("Err = %v", s.Err())
		}
	})
}

const responsesStream = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"usage\":null}}\n\n" +
	"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"

const responsesCompleted = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\"," +
	"\"usage\":{\"input_tokens\":5,\"output_tokens\":7,\"total_tokens\":12,\"output_tokens_details\":{\"reasoning_tokens\":3}}}}\n\n"

func TestStreamResponses(t *testing.T) {
	tests := []struct {
		name   string
		frames []string
		names  []string
		want   error // nil: clean end
	}{
		{"completed", []string{responsesStream, responsesCompleted},
			[]string{"response.created", "response.output_text.delta", "response.completed"}, nil},
		{"completed without event names", []string{"data: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n",
			"data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":3}}}}\n\n"},
			[]string{"", ""}, nil},
		{"truncated", []string{responsesStream}, []string{"response.created", "response.output_text.delta"}, provider.ErrConnection},
		{"[DONE] before completed", []string{responsesStream, "data: [DONE]\n\n"}, []string{"response.created", "response.output_text.delta"}, provider.ErrConnection},
		{"failed", []string{responsesStream, "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\"," +
			"\"error\":{\"code\":\"server_error\",\"message\":\"model crashed\"}}}\n\n"},
			[]string{"response.created", "response.output_text.delta", "response.failed"}, provider.ErrServer},
		{"error event", []string{responsesStream, "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow\",\"param\":null}\n\n"},
			[]string{"response.created", "response.output_text.delta"}, provider.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { sse(w, tt.frames...) })
			c := up.client(t, Config{Model: "openai/o3"})
			s, err := c.Stream(context.Background(), &provider.Request{Endpoint: provider.EndpointResponses, Body: []byte(`{"input":"hi"}`), Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var names []string
			for s.Next() {
				names = append(names, s.Event().Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("events %q, want %q", names, tt.names)
			}
			if tt.want == nil {
				if s.Err() != nil {
					t.Fatalf("Err = %v", s.Err())
				}
				if s.Usage() != (provider.Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12, ReasoningTokens: 3}) {
					t.Errorf("usage %+v", s.Usage())
				}
			} else if !errors.Is(s.Err(), tt.want) {
				t.Fatalf("Err = %v, want %v", s.Err(), tt.want)
			}
			if p := up.last(t).Path; p != "/v1/responses" {
				t.Errorf("path %s", p)
			}
		})
	}
}

// TestResponsesBridge checks the client's side of the bridge: a chat
// request to an openai/responses/ model goes to /responses and comes back
// in chat shape (the conversion itself is tested in bridge_test.go).
func TestResponsesBridge(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), `"stream":true`) {
			sse(w, responsesStream, responsesCompleted)
			return
		}
		answer(w, 200, `{"id":"resp_1","object":"response","created_at":1,"model":"o3","status":"completed","output":[`+
			`{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thinking"}]},`+
			`{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Paris","annotations":[]}]}],`+
			`"usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12,"output_tokens_details":{"reasoning_tokens":3}}}`)
	})
	c := up.client(t, Config{Model: "openai/responses/o3"})
	resp, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat,
		Body: []byte(`{"model":"g","messages":[{"role":"user","content":"Capital of France?"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	sent := up.last(t)
	var out map[string]any
	if err := json.Unmarshal(sent.Body, &out); err != nil || sent.Path != "/v1/responses" || out["model"] != "o3" || out["input"] == nil {
		t.Fatalf("upstream got %s %s", sent.Path, sent.Body)
	}
	var chat struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Content          string `json:"content"`
				ReasoningContent string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.Body, &chat); err != nil || chat.Object != "chat.completion" || len(chat.Choices) != 1 ||
		chat.Choices[0].Message.Content != "Paris" || chat.Choices[0].Message.ReasoningContent != "thinking" {
		t.Fatalf("answer %s", resp.Body)
	}
	if resp.Usage.ReasoningTokens != 3 || resp.Usage.TotalTokens != 12 {
		t.Errorf("usage %+v", resp.Usage)
	}

	s, err := c.Stream(context.Background(), streamReq(`{"model":"g","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var content string
	for s.Next() {
		var ch struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(s.Event().Data, &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s", s.Event().Data)
		}
		for _, c := range ch.Choices {
			content += c.Delta.Content
		}
	}
	if s.Err() != nil || content != "Hi" || s.Usage().TotalTokens != 12 {
		t.Fatalf("content %q usage %+v err %v", content, s.Usage(), s.Err())
	}
}

func TestTextCompletionChat(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), `"stream":true`) {
			sse(w, `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"instruct","choices":[{"text":"Pa","index":0,"logprobs":null,"finish_reason":null}]}`+"\n\n",
				`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"instruct","choices":[{"text":"ris","index":0,"logprobs":null,"finish_reason":"stop"}]}`+"\n\n",
				"data: [DONE]\n\n")
			return
		}
		answer(w, 200, `{"id":"cmpl-1","object":"text_completion","created":1,"model":"instruct","choices":[{"text":"Paris","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}`)
	})
	c := up.client(t, Config{Model: "text-completion-openai/gpt-3.5-turbo-instruct"})
	resp, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat,
		Body: []byte(`{"model":"g","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Capital of France?"}]}],"max_tokens":5}`)})
	if err != nil {
		t.Fatal(err)
	}
	sent := up.last(t)
	var out map[string]any
	_ = json.Unmarshal(sent.Body, &out)
	if sent.Path != "/v1/completions" || out["prompt"] != "Be brief.\nCapital of France?" || out["model"] != "gpt-3.5-turbo-instruct" ||
		out["messages"] != nil || out["max_tokens"] != 5.0 {
		t.Fatalf("upstream got %s %s", sent.Path, sent.Body)
	}
	var chat struct {
		Object  string `json:"object"`
		ID      string `json:"id"`
		Choices []struct {
			Message      struct{ Role, Content string } `json:"message"`
			FinishReason string                         `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.Body, &chat); err != nil || chat.Object != "chat.completion" || chat.ID != "cmpl-1" ||
		chat.Choices[0].Message.Content != "Paris" || chat.Choices[0].Message.Role != "assistant" || chat.Choices[0].FinishReason != "stop" {
		t.Fatalf("answer %s", resp.Body)
	}
	if resp.Usage.TotalTokens != 5 {
		t.Errorf("usage %+v", resp.Usage)
	}

	s, err := c.Stream(context.Background(), streamReq(`{"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := drain(s)
	if s.Err() != nil || len(got) != 2 || !strings.Contains(got[0], `"delta":{"role":"assistant","content":"Pa"}`) ||
		!strings.Contains(got[1], `"object":"chat.completion.chunk"`) || strings.Contains(got[1], "role") {
		t.Fatalf("chunks %q, err %v", got, s.Err())
	}
}

// newTestStream runs the stream logic over raw bytes, without HTTP.
func newTestStream(t testing.TB, raw []byte, responses bool) *stream {
	c, err := New(Config{Model: "gpt-4o", BaseURL: "http://127.0.0.1:1", DeploymentID: "f"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(raw))}
	return &stream{
		c: c, ctx: ctx, cancel: cancel, stopTotal: func() {}, idle: time.AfterFunc(time.Hour, func() {}), idleTO: time.Hour,
		resp: resp, sse: wire.NewSSEReader(resp.Body), responses: responses,
	}
}

// FuzzStream feeds arbitrary bytes to the event stream logic: it must never
// panic, and it must end either cleanly after its end marker or with a
// *provider.Error.
func FuzzStream(f *testing.F) {
	f.Add([]byte(chunk("a")+usageChunk+"data: [DONE]\n\n"), false)
	f.Add([]byte(chunk("a")+`data: {"error":{"message":"x","code":429}}`+"\n\n"), false)
	f.Add([]byte(responsesStream+responsesCompleted), true)
	f.Add([]byte("event: response.failed\ndata: {\"response\":{\"error\":{\"code\":\"server_error\"}}}\n\n"), true)
	f.Add([]byte("data: {\"usage\":{\"prompt_tokens\":1e400}}\n\ndata: [DONE]"), false)
	f.Fuzz(func(t *testing.T, raw []byte, responses bool) {
		s := newTestStream(t, raw, responses)
		defer s.Close()
		for s.Next() {
			ev := s.Event()
			// The scanner does not look inside strings (jsonscan.Fast).
			if !json.Valid(ev.Data) && !bytes.ContainsAny(ev.Data, "\\") && !hasControl(ev.Data) && utf8.Valid(ev.Data) {
				t.Fatalf("delivered an event that is not JSON: %q", ev.Data)
			}
		}
		if err := s.Err(); err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Deployment != "f" {
				t.Fatalf("Err = %v, not a *provider.Error naming the deployment", err)
			}
		} else if !responses && !bytes.Contains(raw, []byte("[DONE]")) {
			t.Fatal("clean end without [DONE]")
		}
		u := s.Usage()
		if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalTokens < 0 {
			t.Fatalf("negative usage %+v", u)
		}
	})
}

// TestStreamConnectionReuse checks that a finished stream gives its
// HTTP/1.1 connection back to the pool even when the body's terminator
// arrives a moment after the end marker, as it does over a real network.
func TestStreamConnectionReuse(t *testing.T) {
	for _, tt := range []struct {
		name     string
		model    string
		endpoint provider.Endpoint
		body     string
		frames   []string
	}{
		{"chat", "gpt-4o", provider.EndpointChat, `{}`, []string{chunk("a"), "data: [DONE]\n\n"}},
		{"responses", "gpt-4o", provider.EndpointResponses, `{"input":"x"}`, []string{responsesStream, responsesCompleted}},
		{"bridge", "openai/responses/o3", provider.EndpointChat, `{"messages":[{"role":"user","content":"x"}]}`, []string{responsesStream, responsesCompleted}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sse(w, tt.frames...)
				time.Sleep(time.Millisecond) // the terminator comes a little later
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c, err := New(Config{Model: tt.model, BaseURL: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			const streams = 5
			for range streams {
				s, err := c.Stream(context.Background(), &provider.Request{Endpoint: tt.endpoint, Body: []byte(tt.body), Stream: true})
				if err != nil {
					t.Fatal(err)
				}
				drain(s)
				if s.Err() != nil {
					t.Fatal(s.Err())
				}
				s.Close()
			}
			// Without the drain every stream opens a connection; allow one
			// spare for a scheduler hiccup.
			if n := conns.Load(); n > 2 {
				t.Errorf("%d connections for %d streams", n, streams)
			}
		})
	}
}

// TestStreamServerKeepsBodyOpen: a server that sends [DONE] but never ends
// its body must not hang the client; the stream still ends cleanly.
func TestStreamServerKeepsBodyOpen(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		sse(w, chunk("a"), "data: [DONE]\n\n")
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := up.client(t, Config{Model: "gpt-4o"})
	s, err := c.Stream(context.Background(), streamReq(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := drain(s); len(got) != 1 || s.Err() != nil {
		t.Fatalf("%d events, Err %v", len(got), s.Err())
	}
}

// hasControl reports whether b holds a byte below 0x20 (a conservative
// test for a control character inside a string: any such byte counts).
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}
