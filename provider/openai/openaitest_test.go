package openai_test

// Round trips against the fake upstream of package openaitest: every
// endpoint, Azure, limits and every fault kind, as a router would see them.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
)

func fakeClient(t *testing.T, srv *openaitest.Server, cfg openai.Config) *openai.Client {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	cfg.HTTPClient = srv.Client()
	if cfg.APIKey == "" {
		cfg.APIKey = "sk-test"
	}
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakeEndpoints(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithKey("sk-a", openaitest.KeyConfig{RPM: 1000, TPM: 1_000_000}))
	defer srv.Close()
	c := fakeClient(t, srv, openai.Config{Model: "openai/gpt-4o-mini", APIKey: "sk-a"})
	ctx := context.Background()

	tests := []struct {
		endpoint provider.Endpoint
		body     string
		want     string // a substring of the answer
	}{
		{provider.EndpointChat, `{"model":"group","messages":[{"role":"user","content":"ping"}],"x_unknown":{"a":[1]}}`, `echo: ping`},
		{provider.EndpointCompletions, `{"model":"group","prompt":"hello"}`, `"text_completion"`},
		{provider.EndpointEmbeddings, `{"model":"group","input":["a","b"]}`, `"embedding"`},
		{provider.EndpointResponses, `{"model":"group","input":"hi"}`, `"response"`},
	}
	for i, tt := range tests {
		resp, err := c.Do(ctx, &provider.Request{Endpoint: tt.endpoint, Body: []byte(tt.body)})
		if err != nil {
			t.Fatalf("%v: %v", tt.endpoint, err)
		}
		if !strings.Contains(string(resp.Body), tt.want) || resp.Usage.TotalTokens == 0 {
			t.Errorf("%v: answer %s usage %+v", tt.endpoint, resp.Body, resp.Usage)
		}
		if resp.Header.Get("X-Ratelimit-Remaining-Requests") == "" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%v: rate-limit or request-id headers missing: %v", tt.endpoint, resp.Header)
		}
		rr := nthRequest(t, srv, i+1)
		if rr.Model != "gpt-4o-mini" || rr.Key != "sk-a" {
			t.Errorf("%v: the fake saw model %q key %q", tt.endpoint, rr.Model, rr.Key)
		}
		if tt.endpoint == provider.EndpointChat && !strings.Contains(string(rr.Body), `"x_unknown":{"a":[1]}`) {
			t.Errorf("unknown field lost: %s", rr.Body)
		}
	}

	tr, err := c.Do(ctx, &provider.Request{Endpoint: provider.EndpointTranscriptions, Form: &provider.Form{
		Fields: []provider.FormField{{Name: "language", Value: "en"}}, FileName: "a.wav", File: []byte("RIFF....WAVEfmt "),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var text struct{ Text string }
	if json.Unmarshal(tr.Body, &text) != nil || text.Text == "" {
		t.Errorf("transcription %s", tr.Body)
	}
}

func TestFakeStreams(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithReply("one two three four"), openaitest.WithReasoning("hmm"))
	defer srv.Close()
	ctx := context.Background()

	chat := fakeClient(t, srv, openai.Config{Model: "gpt-4o"})
	s, err := chat.Stream(ctx, &provider.Request{Endpoint: provider.EndpointChat, Stream: true,
		Body: []byte(`{"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}`)})
	if err != nil {
		t.Fatal(err)
	}
	text := collectChat(t, s)
	if s.Err() != nil || text != "one two three four" || s.Usage().CompletionTokens == 0 {
		t.Fatalf("chat stream %q usage %+v err %v", text, s.Usage(), s.Err())
	}
	s.Close()

	s, err = chat.Stream(ctx, &provider.Request{Endpoint: provider.EndpointResponses, Stream: true, Body: []byte(`{"input":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for s.Next() {
		last = s.Event().Name
	}
	if s.Err() != nil || last != "response.completed" || s.Usage().TotalTokens == 0 {
		t.Fatalf("responses stream ended with %q, usage %+v, err %v", last, s.Usage(), s.Err())
	}
	s.Close()

	bridge := fakeClient(t, srv, openai.Config{Model: "openai/responses/o4-mini"})
	s, err = bridge.Stream(ctx, &provider.Request{Endpoint: provider.EndpointChat, Stream: true,
		Body: []byte(`{"messages":[{"role":"user","content":"x"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	text = collectChat(t, s)
	if s.Err() != nil || text != "one two three four" {
		t.Fatalf("bridged stream %q err %v", text, s.Err())
	}
	s.Close()
	// The fake records a request when its handler returns, which may be
	// after the client saw response.completed, and after later requests.
	if !waitFor(func() bool {
		for _, rr := range srv.Requests() {
			if rr.Endpoint == "responses" && rr.Model == "o4-mini" {
				return true
			}
		}
		return false
	}) {
		t.Errorf("the bridge's request to /responses with model o4-mini was not seen")
	}

	resp, err := bridge.Do(ctx, &provider.Request{Endpoint: provider.EndpointChat,
		Body: []byte(`{"messages":[{"role":"user","content":"x"}],"reasoning":{"effort":"low","summary":"auto"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"reasoning_content":"hmm"`) || !strings.Contains(string(resp.Body), `"chat.completion"`) {
		t.Errorf("bridged answer %s", resp.Body)
	}
}

// waitFor polls cond until it holds, for up to 10 seconds.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// nthRequest returns the n-th request the fake recorded (from 1), waiting
// for it: the fake records a request when its handler returns, which may
// be just after the client has read the answer.
func nthRequest(t *testing.T, srv *openaitest.Server, n int) openaitest.RecordedRequest {
	t.Helper()
	if !waitFor(func() bool { return len(srv.Requests()) >= n }) {
		t.Fatalf("the fake recorded %d requests, want %d", len(srv.Requests()), n)
	}
	return srv.Requests()[n-1]
}

// collectChat reads a chat chunk stream and returns its content.
func collectChat(t *testing.T, s provider.Stream) string {
	t.Helper()
	var b strings.Builder
	for s.Next() {
		var ch struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(s.Event().Data, &ch); err != nil {
			t.Fatalf("chunk %s: %v", s.Event().Data, err)
		}
		for _, c := range ch.Choices {
			b.WriteString(c.Delta.Content)
		}
	}
	return b.String()
}

func TestFakeAzure(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	c := fakeClient(t, srv, openai.Config{Model: "azure/gpt4o-east", BaseURL: srv.RootURL, APIVersion: "2024-10-21", APIKey: "az-key"})
	for i, ep := range []provider.Endpoint{provider.EndpointChat, provider.EndpointEmbeddings} {
		body := `{"messages":[{"role":"user","content":"hi"}]}`
		if ep == provider.EndpointEmbeddings {
			body = `{"input":"hi"}`
		}
		if _, err := c.Do(context.Background(), &provider.Request{Endpoint: ep, Body: []byte(body)}); err != nil {
			t.Fatalf("%v: %v", ep, err)
		}
		rr := nthRequest(t, srv, i+1)
		if !rr.Azure || rr.Deployment != "gpt4o-east" || rr.Key != "az-key" || rr.Header.Get("Authorization") != "" {
			t.Errorf("%v: the fake saw azure=%v deployment %q key %q", ep, rr.Azure, rr.Deployment, rr.Key)
		}
	}
}

// TestFakeFaults injects every fault the fake knows and checks the class
// the client reports.
func TestFakeFaults(t *testing.T) {
	tests := []struct {
		fault  openaitest.Fault
		stream bool
		want   error
	}{
		{openaitest.Fault{Kind: openaitest.FaultServerError, Status: 503}, false, provider.ErrServer},
		{openaitest.Fault{Kind: openaitest.FaultInvalidKey}, false, provider.ErrAuth},
		{openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 2 * time.Second}, false, provider.ErrRateLimited},
		{openaitest.Fault{Kind: openaitest.FaultInsufficientQuota}, false, provider.ErrQuotaExhausted},
		{openaitest.Fault{Kind: openaitest.FaultContextLength, Window: 1}, false, provider.ErrContextWindow},
		{openaitest.Fault{Kind: openaitest.FaultContentPolicy}, false, provider.ErrContentPolicy},
		{openaitest.Fault{Kind: openaitest.FaultNotFound}, false, provider.ErrNotFound},
		{openaitest.Fault{Kind: openaitest.FaultGarbage}, false, provider.ErrConnection},
		{openaitest.Fault{Kind: openaitest.FaultTruncatedJSON}, false, provider.ErrConnection},
		{openaitest.Fault{Kind: openaitest.FaultGarbage}, true, provider.ErrConnection},
		{openaitest.Fault{Kind: openaitest.FaultTruncatedJSON}, true, provider.ErrConnection},
		{openaitest.Fault{Kind: openaitest.FaultStreamCut, AfterChunks: 2}, true, provider.ErrConnection},
		{openaitest.Fault{Kind: openaitest.FaultStreamError, AfterChunks: 2}, true, provider.ErrServer},
		{openaitest.Fault{Kind: openaitest.FaultRateLimit}, true, provider.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Kind.String()+map[bool]string{true: "/stream"}[tt.stream], func(t *testing.T) {
			srv := openaitest.NewServer()
			defer srv.Close()
			srv.SetFault(tt.fault)
			c := fakeClient(t, srv, openai.Config{Model: "gpt-4o", DeploymentID: "fake-1"})
			req := &provider.Request{Endpoint: provider.EndpointChat, Stream: tt.stream,
				Body: []byte(`{"messages":[{"role":"user","content":"a prompt long enough for a one-token window"}]}`)}
			var err error
			if tt.stream {
				var s provider.Stream
				s, err = c.Stream(context.Background(), req)
				if err == nil {
					for s.Next() {
					}
					err = s.Err()
					s.Close()
				}
			} else {
				_, err = c.Do(context.Background(), req)
			}
			var pe *provider.Error
			if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Deployment != "fake-1" {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.fault.RetryAfter > 0 && pe.RetryAfter != tt.fault.RetryAfter {
				t.Errorf("RetryAfter %v, want %v", pe.RetryAfter, tt.fault.RetryAfter)
			}
		})
	}
}

func TestFakeHang(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultHang})
	c := fakeClient(t, srv, openai.Config{Model: "gpt-4o", Timeout: 20 * time.Millisecond})
	_, err := c.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)})
	if !errors.Is(err, provider.ErrTimeout) {
		t.Fatalf("error %v", err)
	}
	_, err = c.Stream(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Stream: true, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)})
	if !errors.Is(err, provider.ErrTimeout) {
		t.Fatalf("stream error %v", err)
	}
}

func TestFakeOrgProjectHeaders(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithKey("sk-o", openaitest.KeyConfig{Organization: "org-1", Project: "proj-1"}))
	defer srv.Close()
	ok := fakeClient(t, srv, openai.Config{Model: "gpt-4o", APIKey: "sk-o", Organization: "org-1", Project: "proj-1"})
	if _, err := ok.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)}); err != nil {
		t.Fatal(err)
	}
	bad := fakeClient(t, srv, openai.Config{Model: "gpt-4o", APIKey: "sk-o", Organization: "org-2"})
	_, err := bad.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)})
	if !errors.Is(err, provider.ErrAuth) {
		t.Fatalf("mismatched organization: %v", err)
	}
	// A per-call header overrides the deployment's.
	_, err = bad.Do(context.Background(), &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[{"role":"user","content":"hi"}]}`),
		Header: http.Header{"OpenAI-Organization": {"org-1"}}})
	if err != nil {
		t.Fatalf("per-call organization: %v", err)
	}
}
