package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

// The fake answers "echo: " + the user's text, one chunk per word: a role
// chunk, then "echo:", " the", " quick", ... A cut after 3 chunks leaves
// the caller with "echo: the".
const (
	resumeUser   = "the quick brown fox jumps over the lazy dog"
	resumeAnswer = "echo: " + resumeUser
)

func resumeReq(extra string) *provider.Request {
	return &provider.Request{
		Endpoint: provider.EndpointChat,
		Model:    "mini",
		Body: []byte(`{"model":"mini","messages":[{"role":"user","content":"` + resumeUser + `"}],` +
			`"stream_options":{"include_usage":true}` + extra + `}`),
	}
}

// resumeRecorder keeps what the hooks saw.
type resumeRecorder struct {
	mu       sync.Mutex
	attempts []router.AttemptInfo
	requests []router.RequestInfo
}

func (h *resumeRecorder) hooks() router.Hooks {
	return router.Hooks{
		OnAttempt: func(_ context.Context, a router.AttemptInfo) {
			h.mu.Lock()
			h.attempts = append(h.attempts, a)
			h.mu.Unlock()
		},
		OnRequest: func(_ context.Context, r router.RequestInfo) {
			h.mu.Lock()
			h.requests = append(h.requests, r)
			h.mu.Unlock()
		},
	}
}

// resumeRouter routes group "mini" to deployment a (key sk-a, tried
// first: Order 0) and b (key sk-b, Order 1) on srv. b's Model is bModel.
func resumeRouter(t *testing.T, srv *openaitest.Server, s router.Settings, bModel string, h *resumeRecorder) *router.Router {
	t.Helper()
	a := keyDep(srv, "mini", "a", "sk-a")
	a.StreamTimeout = 200 * time.Millisecond // the stall's timeout between chunks
	b := keyDep(srv, "mini", "b", "sk-b")
	b.Order = 1
	if bModel != "" {
		b.Model = bModel
	}
	r, err := router.New(router.Config{Deployments: []deployment.Config{a, b}, Settings: s}, quiet(), router.WithHooks(h.hooks()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// readResumed reads s to its end: the text, the chunks, how many carry the
// seam marker and where Seam reported it, the chunk ids, the last usage.
type readResult struct {
	text         strings.Builder
	chunks       int
	roles        int
	marked       int
	seams        []int
	ids          map[string]bool
	usage        provider.Usage
	sawUsage     bool
	finishReason string
}

func readResumed(t *testing.T, s *router.StreamResult) *readResult {
	t.Helper()
	out := &readResult{ids: map[string]bool{}}
	for s.Next() {
		out.chunks++
		if n, ok := s.Seam(); ok {
			out.seams = append(out.seams, n)
		}
		var c struct {
			ID      string `json:"id"`
			Resumed bool   `json:"switchyard_resumed"`
			Choices []struct {
				Delta struct {
					Role    string  `json:"role"`
					Content *string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(s.Event().Data, &c); err != nil {
			t.Fatalf("chunk %d: %v: %s", out.chunks, err, s.Event().Data)
		}
		out.ids[c.ID] = true
		if c.Resumed {
			out.marked++
		}
		for _, ch := range c.Choices {
			if ch.Delta.Role != "" {
				out.roles++
			}
			if ch.Delta.Content != nil {
				out.text.WriteString(*ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				out.finishReason = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			out.sawUsage = true
			out.usage = provider.Usage{PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens, TotalTokens: c.Usage.TotalTokens}
		}
	}
	return out
}

func sum(a, b provider.Usage) provider.Usage {
	return provider.Usage{
		PromptTokens: a.PromptTokens + b.PromptTokens, CompletionTokens: a.CompletionTokens + b.CompletionTokens,
		TotalTokens: a.TotalTokens + b.TotalTokens,
	}
}

func TestStreamResumeDeliversTheWholeAnswer(t *testing.T) {
	tests := []struct {
		name  string
		fault openaitest.Fault
		class provider.Class
	}{
		{"connection cut", openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3}, provider.ClassConnection},
		{"error event", openaitest.Fault{Kind: openaitest.FaultStreamError, Key: "sk-a", AfterChunks: 3}, provider.ClassServer},
		{"stream timeout between chunks", openaitest.Fault{Kind: openaitest.FaultStreamStall, Key: "sk-a", AfterChunks: 3}, provider.ClassTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer()
			defer srv.Close()
			srv.SetFault(tt.fault)
			var h resumeRecorder
			r := resumeRouter(t, srv, router.Settings{StreamResume: router.StreamResume{Enabled: true}}, "", &h)
			s, err := r.Stream(t.Context(), resumeReq(""))
			if err != nil {
				t.Fatal(err)
			}
			got := readResumed(t, s)
			_ = s.Close()
			if s.Err() != nil {
				t.Fatalf("Err = %v, want the stream resumed", s.Err())
			}
			if got.text.String() != resumeAnswer || got.finishReason != "stop" {
				t.Errorf("answer %q (finish %q), want %q", got.text.String(), got.finishReason, resumeAnswer)
			}
			if got.marked != 1 || len(got.seams) != 1 || got.seams[0] != 3 {
				t.Errorf("%d chunks marked, seams at %v: want exactly one seam, after 3 chunks", got.marked, got.seams)
			}
			if got.roles != 1 || len(got.ids) != 1 {
				t.Errorf("%d role chunks, chunk ids %v: the caller must see one stream", got.roles, got.ids)
			}
			stats := srv.Stats()
			if stats.Keys["sk-a"].Requests != 1 || stats.Keys["sk-b"].Requests != 1 {
				t.Errorf("upstream requests per key %+v: want one on a, the resume on b", stats.Keys)
			}
			if s.Resumes != 1 || s.Deployment != "b" || len(s.Attempts) != 2 || s.Attempts[0].Deployment != "a" ||
				s.Attempts[0].Class != tt.class || s.Attempts[1].Err != nil {
				t.Errorf("Resumes %d, Deployment %s, Attempts %+v", s.Resumes, s.Deployment, s.Attempts)
			}
			// The continuation carried the partial answer.
			var cont struct {
				Messages []struct{ Role, Content string } `json:"messages"`
			}
			for _, rr := range srv.Requests() {
				if rr.Key == "sk-b" {
					_ = json.Unmarshal(rr.Body, &cont)
				}
			}
			if n := len(cont.Messages); n != 2 || cont.Messages[1].Role != "assistant" || cont.Messages[1].Content != "echo: the" {
				t.Errorf("continuation messages %+v, want the user's and the partial answer", cont.Messages)
			}

			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.attempts) != 2 {
				t.Fatalf("attempt hooks %+v, want the cut and the resume", h.attempts)
			}
			first, second := h.attempts[0], h.attempts[1]
			if first.Deployment != "a" || first.Err == nil || first.Class != tt.class || !first.WillRetry || first.Resumed ||
				!first.UsageEstimated || first.Usage.CompletionTokens == 0 || first.Usage.PromptTokens == 0 {
				t.Errorf("cut attempt %+v", first)
			}
			if second.Deployment != "b" || second.Err != nil || !second.Resumed || second.ResumedAfterChunks != 3 ||
				second.UsageEstimated || second.Usage.CompletionTokens == 0 {
				t.Errorf("resumed attempt %+v", second)
			}
			want := sum(first.Usage, second.Usage)
			if !got.sawUsage || got.usage != want || s.Usage() != want {
				t.Errorf("usage chunk %+v (seen %v), Usage() %+v, want both attempts' %+v", got.usage, got.sawUsage, s.Usage(), want)
			}
			if len(h.requests) != 1 || h.requests[0].Usage != want || h.requests[0].Resumes != 1 || h.requests[0].Attempts != 2 ||
				h.requests[0].Err != nil || h.requests[0].Deployment != "b" {
				t.Errorf("request hooks %+v", h.requests)
			}
			for _, d := range r.Deployments() {
				if d.InFlight() != 0 {
					t.Errorf("%s has %d in flight", d.ID(), d.InFlight())
				}
			}
		})
	}
}

// cutStream opens a stream on a router whose first deployment cuts it
// after 3 chunks, reads it to its end and returns what it read.
func cutStream(t *testing.T, s router.Settings, req *provider.Request, opts ...router.CallOption) (*readResult, *router.StreamResult, openaitest.Stats) {
	t.Helper()
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
	var h resumeRecorder
	r := resumeRouter(t, srv, s, "", &h)
	st, err := r.Stream(t.Context(), req, opts...)
	if err != nil {
		t.Fatal(err)
	}
	got := readResumed(t, st)
	_ = st.Close()
	return got, st, srv.Stats()
}

func TestStreamResumeOnlyWhenItApplies(t *testing.T) {
	on := router.Settings{StreamResume: router.StreamResume{Enabled: true}}
	tools := `,"tools":[{"type":"function","function":{"name":"get_weather"}}],"tool_choice":"required"`
	tests := []struct {
		name     string
		settings router.Settings
		req      *provider.Request
		opts     []router.CallOption
	}{
		{"off by default", router.Settings{}, resumeReq(""), nil},
		{"off for the call", on, resumeReq(""), []router.CallOption{router.WithStreamResume(false)}},
		{"tool call deltas", on, resumeReq(tools), nil},
		{"n > 1", on, resumeReq(`,"n":2`), nil},
		{"another provider's continuation off", router.Settings{StreamResume: router.StreamResume{
			Enabled: true, Continuation: map[string]router.Continuation{"openai": router.ContinuationOff},
		}}, resumeReq(""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s, stats := cutStream(t, tt.settings, tt.req, tt.opts...)
			var pe *provider.Error
			if !errors.As(s.Err(), &pe) || pe.Class != provider.ClassConnection || pe.Deployment != "a" {
				t.Errorf("Err = %v, want the cut as today", s.Err())
			}
			if got.chunks != 3 || got.marked != 0 || len(got.seams) != 0 || s.Resumes != 0 {
				t.Errorf("%d chunks, %d marked, seams %v, %d resumes: want the 3 chunks and no resume", got.chunks, got.marked, got.seams, s.Resumes)
			}
			if n := stats.Keys["sk-b"].Requests; n != 0 {
				t.Errorf("%d requests to b: no resume", n)
			}
		})
	}
	t.Run("on for the call", func(t *testing.T) {
		got, s, stats := cutStream(t, router.Settings{}, resumeReq(""), router.WithStreamResume(true))
		if s.Err() != nil || got.text.String() != resumeAnswer || stats.Keys["sk-b"].Requests != 1 {
			t.Errorf("Err %v, answer %q, b requests %d", s.Err(), got.text.String(), stats.Keys["sk-b"].Requests)
		}
	})
}

func TestStreamResumeWithNowhereToGoEndsWithTheCut(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-b", Status: 503})
	var h resumeRecorder
	r := resumeRouter(t, srv, router.Settings{StreamResume: router.StreamResume{Enabled: true}}, "", &h)
	s, err := r.Stream(t.Context(), resumeReq(""))
	if err != nil {
		t.Fatal(err)
	}
	got := readResumed(t, s)
	_ = s.Close()
	var pe *provider.Error
	if !errors.As(s.Err(), &pe) || pe.Class != provider.ClassConnection || pe.Deployment != "a" {
		t.Errorf("Err = %v, want the cut", s.Err())
	}
	if got.text.String() != "echo: the" || s.Resumes != 0 || len(s.Attempts) != 2 || s.Attempts[1].StatusCode != 503 {
		t.Errorf("text %q, resumes %d, attempts %+v", got.text.String(), s.Resumes, s.Attempts)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.attempts) != 2 || h.attempts[1].Err == nil || !h.attempts[1].Resumed || len(h.requests) != 1 || h.requests[0].Err == nil {
		t.Errorf("attempts %+v, requests %+v", h.attempts, h.requests)
	}
	for _, d := range r.Deployments() {
		if d.InFlight() != 0 {
			t.Errorf("%s has %d in flight", d.ID(), d.InFlight())
		}
	}
}

func TestStreamResumeConventions(t *testing.T) {
	tests := []struct {
		name, model string
		want        []string
		unwanted    []string
	}{
		{"openai: a plain assistant message", "openai/gpt-4o-mini", []string{`"role":"assistant","content":"echo: the"}`}, []string{"prefix", "continue_final_message"}},
		{"deepseek: prefix", "deepseek/deepseek-chat", []string{`"content":"echo: the","prefix":true}`}, []string{"continue_final_message"}},
		{"vllm: continue_final_message", "hosted_vllm/llama", []string{`"continue_final_message":true`, `"add_generation_prompt":false`}, []string{"prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer()
			defer srv.Close()
			srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
			var h resumeRecorder
			r := resumeRouter(t, srv, router.Settings{StreamResume: router.StreamResume{Enabled: true}}, tt.model, &h)
			s, err := r.Stream(t.Context(), resumeReq(`,"max_tokens":50`))
			if err != nil {
				t.Fatal(err)
			}
			got := readResumed(t, s)
			_ = s.Close()
			if s.Err() != nil || got.text.String() != resumeAnswer {
				t.Fatalf("Err %v, answer %q", s.Err(), got.text.String())
			}
			var body string
			for _, rr := range srv.Requests() {
				if rr.Key == "sk-b" {
					body = string(rr.Body)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("continuation body lacks %s: %s", w, body)
				}
			}
			for _, u := range tt.unwanted {
				if strings.Contains(body, u) {
					t.Errorf("continuation body has %s: %s", u, body)
				}
			}
			var m struct {
				MaxTokens int `json:"max_tokens"`
			}
			if err := json.Unmarshal([]byte(body), &m); err != nil || m.MaxTokens >= 50 || m.MaxTokens < 1 {
				t.Errorf("max_tokens %d (%v): lowered by the tokens delivered", m.MaxTokens, err)
			}
		})
	}
}

func TestStreamResumeTypedChatStream(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
	var h resumeRecorder
	r := resumeRouter(t, srv, router.Settings{StreamResume: router.StreamResume{Enabled: true}}, "", &h)
	s, err := typed.ChatStream(t.Context(), r, openai.ChatCompletionNewParams{
		Model:         "mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(resumeUser)},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for s.Next() {
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err = %v: every spliced chunk must fit the accumulated answer", err)
	}
	c := s.Completion()
	if c.Choices[0].Message.Content != resumeAnswer || c.Usage.TotalTokens != int64(s.Usage().TotalTokens) || s.Resumes != 1 {
		t.Errorf("content %q, usage %d (want %d), resumes %d", c.Choices[0].Message.Content, c.Usage.TotalTokens, s.Usage().TotalTokens, s.Resumes)
	}
}

func TestStreamResumeConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		s     router.StreamResume
		field string
	}{
		{"negative max", router.StreamResume{MaxResumes: -1}, "Settings.StreamResume.MaxResumes"},
		{"empty provider", router.StreamResume{Continuation: map[string]router.Continuation{"": router.ContinuationPrefix}}, "Settings.StreamResume.Continuation"},
		{"model, not provider", router.StreamResume{Continuation: map[string]router.Continuation{"deepseek/chat": router.ContinuationPrefix}}, "Settings.StreamResume.Continuation"},
		{"unknown continuation", router.StreamResume{Continuation: map[string]router.Continuation{"openai": 42}}, "Settings.StreamResume.Continuation[openai]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := router.New(router.Config{
				Deployments: []deployment.Config{{ID: "a", ModelName: "g", Model: "openai/gpt-4o", APIKey: "k"}},
				Settings:    router.Settings{StreamResume: tt.s},
			}, quiet())
			var ce *router.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Errorf("err = %v, want a ConfigError for %s", err, tt.field)
			}
		})
	}
}

func TestStreamResumeAtMostMaxResumes(t *testing.T) {
	for _, max := range []int{0, 2} {
		t.Run(fmt.Sprintf("MaxResumes %d", max), func(t *testing.T) {
			srv := openaitest.NewServer()
			defer srv.Close()
			srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-a", AfterChunks: 3})
			srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, Key: "sk-b", AfterChunks: 3})
			var deps []deployment.Config
			for i, id := range []string{"a", "b", "c"} {
				d := keyDep(srv, "mini", id, "sk-"+id)
				d.Order = i
				deps = append(deps, d)
			}
			r, err := router.New(router.Config{Deployments: deps, Settings: router.Settings{
				StreamResume: router.StreamResume{Enabled: true, MaxResumes: max},
			}}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			s, err := r.Stream(t.Context(), resumeReq(""))
			if err != nil {
				t.Fatal(err)
			}
			got := readResumed(t, s)
			_ = s.Close()
			keys := srv.Stats().Keys
			if max == 0 { // the default: once
				var pe *provider.Error
				if !errors.As(s.Err(), &pe) || pe.Deployment != "b" || s.Resumes != 1 || keys["sk-c"].Requests != 0 {
					t.Errorf("Err %v, resumes %d, c requests %d: want one resume, then the second cut's error", s.Err(), s.Resumes, keys["sk-c"].Requests)
				}
				if got.text.String() != "echo: the quick brown" || got.marked != 1 {
					t.Errorf("text %q, %d seams", got.text.String(), got.marked)
				}
				return
			}
			if s.Err() != nil || got.text.String() != resumeAnswer || got.marked != 2 || s.Resumes != 2 || len(got.ids) != 1 {
				t.Errorf("Err %v, text %q, %d seams, %d resumes, ids %v", s.Err(), got.text.String(), got.marked, s.Resumes, got.ids)
			}
			if keys["sk-a"].Requests != 1 || keys["sk-b"].Requests != 1 || keys["sk-c"].Requests != 1 {
				t.Errorf("requests per key %+v: each deployment once, never back to one that broke", keys)
			}
			if len(got.seams) != 2 || got.seams[0] != 3 || got.seams[1] != 5 {
				t.Errorf("seams at %v, want after 3 and 5 chunks", got.seams)
			}
		})
	}
}
