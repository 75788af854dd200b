package typed

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// step is one scripted answer of a fakeClient: a body for Do, or a
// stream's data payloads.
type step struct {
	body   string
	events []string
}

// fakeClient is a provider.Client that answers every call with its
// script, for answers no HTTP upstream can send (the OpenAI client
// refuses a body that is not a JSON object).
type fakeClient struct {
	mu     sync.Mutex
	script step
}

func (f *fakeClient) setScript(st step) {
	f.mu.Lock()
	f.script = st
	f.mu.Unlock()
}

func (f *fakeClient) step() step {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.script
}

func (f *fakeClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	return &provider.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: []byte(f.step().body)}, nil
}

func (f *fakeClient) Stream(ctx context.Context, req *provider.Request) (provider.Stream, error) {
	return &fakeStream{ctx: ctx, header: http.Header{}, events: f.step().events}, nil
}

// fakeStream is a scripted provider.Stream that honours its context.
type fakeStream struct {
	ctx    context.Context
	header http.Header
	events []string
	i      int
	cur    provider.Event
	err    error
	done   bool
}

func (s *fakeStream) Header() http.Header   { return s.header }
func (s *fakeStream) Event() provider.Event { return s.cur }
func (s *fakeStream) Usage() provider.Usage { return provider.Usage{} }
func (s *fakeStream) Err() error            { return s.err }
func (s *fakeStream) Close() error          { s.done = true; return nil }
func (s *fakeStream) Next() bool {
	if s.done {
		return false
	}
	if err := s.ctx.Err(); err != nil {
		s.done, s.err = true, &provider.Error{Class: provider.ClassOf(err), Err: err}
		return false
	}
	if s.i == len(s.events) {
		s.done = true
		return false
	}
	s.cur = provider.Event{Data: []byte(s.events[s.i])}
	s.i++
	return true
}

// harness is a router with one deployment "a" in group "g", served by a
// fakeClient.
type harness struct {
	r *router.Router
	c *fakeClient
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{c: new(fakeClient)}
	r, err := router.New(router.Config{Deployments: []deployment.Config{{ID: "a", ModelName: "g", Model: "openai/g"}}},
		router.WithClientFactory(func(deployment.Config) (provider.Client, error) { return h.c, nil }),
		router.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	h.r = r
	return h
}

// An answer that does not decode as the SDK's type is an error naming the
// deployment, with the Result. (Over HTTP the client already refuses a
// body that is not a JSON object, and the SDK's decoder is lenient.)
func TestTypedDecodeError(t *testing.T) {
	h := newHarness(t)
	h.c.setScript(step{body: `[1, 2]`})
	resp, res, err := Chat(t.Context(), h.r, openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err == nil || resp != nil || res == nil || res.Deployment != "a" || !strings.Contains(err.Error(), "typed: chat: decode answer from a: ") {
		t.Fatalf("resp %v, result %v, err %v", resp, res, err)
	}
}

// A chunk that does not decode, or that the accumulator refuses, is
// reported by Chunk and Err; the stream goes on, and Completion holds the
// rest.
func TestTypedChatStreamBadChunks(t *testing.T) {
	h := newHarness(t)
	h.c.setScript(step{events: []string{
		`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`,
		`[1]`,
		`{"id":"c","choices":[{"index":200,"delta":{"content":"far"}}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
	}})
	s, err := ChatStream(t.Context(), h.r, openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var texts []string
	var chunkErrs int
	for s.Next() {
		if _, err := s.Chunk(); err != nil {
			chunkErrs++
			if !strings.Contains(err.Error(), "typed: chat stream: decode chunk from a: ") {
				t.Errorf("chunk error %v", err)
			}
		}
		texts = append(texts, s.Text())
	}
	if got := strings.Join(texts, "|"); got != "Hel||far|lo" || chunkErrs != 1 {
		t.Errorf("texts %q, %d chunk errors", got, chunkErrs)
	}
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "decode chunk from a") {
		t.Errorf("Err = %v, want the first bad chunk", err)
	}
	if c := s.Completion(); len(c.Choices) != 1 || c.Choices[0].Message.Content != "Hello" || c.Choices[0].FinishReason != "stop" {
		t.Errorf("accumulated %+v", c.Choices)
	}

	// Only the accumulator's refusal.
	h.c.setScript(step{events: []string{`{"id":"c","choices":[{"index":200,"delta":{"content":"far"}}]}`}})
	s2, err := ChatStream(t.Context(), h.r, openai.ChatCompletionNewParams{Model: "g", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for s2.Next() {
		if _, err := s2.Chunk(); err != nil {
			t.Errorf("chunk error %v for a chunk that decodes", err)
		}
	}
	if err := s2.Err(); err == nil || !strings.Contains(err.Error(), "does not fit the answer so far") {
		t.Errorf("Err = %v, want the refused chunk", err)
	}
}

func TestWithStreamTrue(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{}`, `{"stream":true}`},
		{`{ }`, `{"stream":true}`},
		{`{"model":"g"}`, `{"stream":true,"model":"g"}`},
		{"{\n \"model\": \"g\"}", `{"stream":true,"model": "g"}`},
	} {
		if got := string(withStreamTrue([]byte(tt.in))); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzJSONRequest sends arbitrary raw params (param.SetJSON) through
// jsonRequest: it never panics, and a request it builds is a JSON object
// with a model and "stream": true.
func FuzzJSONRequest(f *testing.F) {
	for _, s := range []string{`{}`, `{"model":"g"}`, `{"model":"g","stream":true}`, `{"model":"g","stream":false}`, ` {"model":1}`, `[1]`, `null`, `"x"`, `{"model":"g","stream":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p openai.ChatCompletionNewParams
		param.SetJSON(raw, &p)
		pr, err := jsonRequest("chat stream", provider.EndpointChat, p, p.Model, streamForced)
		if err != nil {
			return
		}
		var probe struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		if err := json.Unmarshal(pr.Body, &probe); err != nil || !json.Valid(pr.Body) {
			t.Fatalf("body %s: %v", pr.Body, err)
		}
		if !probe.Stream || probe.Model == "" || probe.Model != pr.Model || !pr.Stream {
			t.Fatalf("request %+v from %s", pr, raw)
		}
	})
}
