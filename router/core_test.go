package router

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/strategy"
)

// hookRecorder keeps every hook event, with the context it came with.
type hookRecorder struct {
	mu       sync.Mutex
	attempts []AttemptInfo
	requests []RequestInfo
	ctxs     []context.Context
}

func (h *hookRecorder) hooks() Hooks {
	return Hooks{
		OnAttempt: func(ctx context.Context, a AttemptInfo) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.attempts = append(h.attempts, a)
			h.ctxs = append(h.ctxs, ctx)
		},
		OnRequest: func(ctx context.Context, r RequestInfo) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.requests = append(h.requests, r)
			h.ctxs = append(h.ctxs, ctx)
		},
	}
}

type tenantKey struct{}

func TestHooksSeeTheCallersContextAndMetadata(t *testing.T) {
	for _, stream := range []bool{false, true} {
		rec := &hookRecorder{}
		h := newHarness(t, Config{Deployments: grp("g", "a", "b")}, WithHooks(rec.hooks()), WithStrategy(&firstStrategy{}))
		// a fails, b answers: two attempts, a retry.
		h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
		h.client("b").setScript(step{events: []string{`{"x":1}`}})
		ctx := context.WithValue(t.Context(), tenantKey{}, "acme")
		md := map[string]string{"tenant": "acme", "request_id": "req-1"}
		if stream {
			s, err := h.r.Stream(ctx, chatReq("g"), WithMetadata(md))
			if err != nil {
				t.Fatal(err)
			}
			for s.Next() {
			}
			_ = s.Close()
		} else if _, err := h.r.Do(ctx, chatReq("g"), WithMetadata(map[string]string{"tenant": "other"}), WithMetadata(md)); err != nil {
			t.Fatal(err)
		}
		if len(rec.attempts) != 2 || len(rec.requests) != 1 {
			t.Fatalf("stream %v: %d attempt and %d request events, want 2 and 1", stream, len(rec.attempts), len(rec.requests))
		}
		for _, a := range rec.attempts {
			if a.Metadata["tenant"] != "acme" || a.Metadata["request_id"] != "req-1" {
				t.Errorf("stream %v: attempt on %s has metadata %v", stream, a.Deployment, a.Metadata)
			}
		}
		if m := rec.requests[0].Metadata; m["tenant"] != "acme" || m["request_id"] != "req-1" {
			t.Errorf("stream %v: request metadata %v", stream, m)
		}
		for i, c := range rec.ctxs {
			if c.Value(tenantKey{}) != "acme" {
				t.Errorf("stream %v: hook event %d did not get the caller's context", stream, i)
			}
		}
	}
}

// firstStrategy picks the first candidate: deterministic tests.
type firstStrategy struct{}

func (*firstStrategy) Name() string                                          { return "first" }
func (*firstStrategy) Pick([]*deployment.Deployment, *strategy.PickInfo) int { return 0 }

func TestCallerMistakesMakeNoAttempt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    *provider.Request
		stream bool
		field  string
	}{
		{"nil request", nil, false, "request"},
		{"no endpoint", &provider.Request{Model: "g", Body: []byte(`{}`)}, false, "endpoint"},
		{"no model", &provider.Request{Endpoint: provider.EndpointChat, Body: []byte(`{"messages":[]}`)}, false, "model"},
		{"no body", &provider.Request{Endpoint: provider.EndpointChat, Model: "g"}, false, "body"},
		{"malformed JSON", &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: []byte(`{"model":"g","messages":[`)}, false, "body"},
		{"not an object", &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: []byte(`["g"]`)}, false, "body"},
		{"malformed JSON, stream", &provider.Request{Endpoint: provider.EndpointChat, Model: "g", Body: []byte(`{"a":}`)}, true, "body"},
		{"streamed embeddings", &provider.Request{Endpoint: provider.EndpointEmbeddings, Model: "g", Body: []byte(`{"input":"x"}`)}, true, "stream"},
		{"transcription without a form", &provider.Request{Endpoint: provider.EndpointTranscriptions, Model: "g"}, false, "form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &hookRecorder{}
			h := newHarness(t, Config{Deployments: grp("g", "a")}, WithHooks(rec.hooks()))
			var err error
			if tc.stream {
				_, err = h.r.Stream(t.Context(), tc.req)
			} else {
				_, err = h.r.Do(t.Context(), tc.req)
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Fatalf("err = %v, want a *RequestError for %q", err, tc.field)
			}
			if !errors.Is(err, provider.ErrBadRequest) || provider.ClassOf(err) != provider.ClassBadRequest {
				t.Errorf("err %v is not a bad request for errors.Is / ClassOf", err)
			}
			var rerr *Error
			if !errors.As(err, &rerr) || len(rerr.Attempts) != 0 {
				t.Errorf("err %v: want an *Error with no attempts", err)
			}
			if n := h.client("a").Calls(); n != 0 {
				t.Errorf("%d upstream calls, want 0", n)
			}
			if len(rec.attempts) != 0 {
				t.Errorf("%d attempt events, want 0", len(rec.attempts))
			}
			if len(rec.requests) != 1 || rec.requests[0].Err == nil || rec.requests[0].Attempts != 0 {
				t.Errorf("request events %+v, want one failed request with no attempts", rec.requests)
			}
			d := h.r.Deployment("a")
			if d.InFlight() != 0 || d.Available(h.clock.Now(), 0) != deployment.ReasonOK {
				t.Errorf("the deployment was touched: in flight %d, available %v", d.InFlight(), d.Available(h.clock.Now(), 0))
			}
		})
	}
}

func TestNilContextIsACallerMistake(t *testing.T) {
	rec := &hookRecorder{}
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithHooks(rec.hooks()))
	var nilCtx context.Context
	_, err := h.r.Do(nilCtx, chatReq("g"))
	var re *RequestError
	if !errors.As(err, &re) || re.Field != "context" || h.client("a").Calls() != 0 {
		t.Fatalf("err = %v, %d calls; want a *RequestError for the context and no call", err, h.client("a").Calls())
	}
	if len(rec.ctxs) != 1 || rec.ctxs[0] == nil {
		t.Errorf("the request hook got no context: %v", rec.ctxs)
	}
}

func TestUnknownModelListsValidNames(t *testing.T) {
	deps := append(grp("gpt-4o", "a"), grp("gpt-4o-mini", "b")...)
	h := newHarness(t, Config{Deployments: deps, Aliases: map[string]string{"fast": "gpt-4o-mini"}})
	_, err := h.r.Do(t.Context(), chatReq("gpt-5"))
	var ue *UnknownModelError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("err = %v, want an *UnknownModelError matching ErrUnknownModel", err)
	}
	if want := []string{"fast", "gpt-4o", "gpt-4o-mini"}; !slices.Equal(ue.Known, want) {
		t.Errorf("Known = %v, want %v", ue.Known, want)
	}
	if msg := err.Error(); !strings.Contains(msg, `"gpt-5"`) || !strings.Contains(msg, "known: fast, gpt-4o, gpt-4o-mini") {
		t.Errorf("message %q does not name the model and the valid names", msg)
	}
	if h.client("a").Calls()+h.client("b").Calls() != 0 {
		t.Error("an unknown model reached an upstream")
	}
}

func TestUnknownModelMessageIsBounded(t *testing.T) {
	e := &UnknownModelError{Model: strings.Repeat("x", 100_000), Known: make([]string, 50)}
	for i := range e.Known {
		e.Known[i] = "m"
	}
	if msg := e.Error(); len(msg) > 300 || !strings.Contains(msg, "and 30 more") {
		t.Errorf("message of %d bytes: %.120q", len(msg), msg)
	}
}

func TestSuccessfulAttemptsCarryTheirStatus(t *testing.T) {
	for _, stream := range []bool{false, true} {
		rec := &hookRecorder{}
		h := newHarness(t, Config{Deployments: grp("g", "a", "b")}, WithHooks(rec.hooks()), WithStrategy(&firstStrategy{}))
		h.client("a").setScript(step{err: perr(provider.ClassServer, 503)})
		h.client("b").setScript(step{events: []string{`{}`}})
		var attempts []Attempt
		if stream {
			s, err := h.r.Stream(t.Context(), chatReq("g"))
			if err != nil {
				t.Fatal(err)
			}
			attempts = s.Attempts
			for s.Next() {
			}
			_ = s.Close()
		} else {
			res, err := h.r.Do(t.Context(), chatReq("g"))
			if err != nil {
				t.Fatal(err)
			}
			attempts = res.Attempts
		}
		if len(attempts) != 2 || attempts[0].StatusCode != 503 || attempts[1].StatusCode != 200 || attempts[1].Err != nil {
			t.Errorf("stream %v: attempts %+v, want a 503 then a 200", stream, attempts)
		}
		if len(rec.attempts) != 2 || rec.attempts[1].StatusCode != 200 || rec.attempts[1].Class != provider.ClassUnknown {
			t.Errorf("stream %v: attempt events %+v, want the success with status 200", stream, rec.attempts)
		}
	}
}

func TestEarlyCloseIsItsOwnOutcome(t *testing.T) {
	rec := &hookRecorder{}
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithHooks(rec.hooks()))
	usage := provider.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}
	h.client("a").setScript(step{events: []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`}, usage: usage, usageAt: 2})
	s, err := h.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if !s.Next() {
			t.Fatal("stream ended early")
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Err() != nil {
		t.Errorf("Err = %v after Close, want nil", s.Err())
	}
	if len(rec.attempts) != 1 || len(rec.requests) != 1 {
		t.Fatalf("%d attempt and %d request events, want 1 each", len(rec.attempts), len(rec.requests))
	}
	a, r := rec.attempts[0], rec.requests[0]
	if !a.ClosedEarly || a.Err != nil || a.Usage != usage {
		t.Errorf("attempt %+v: want closed early, no error, usage so far %+v", a, usage)
	}
	if !r.ClosedEarly || r.Err != nil || r.Usage != usage {
		t.Errorf("request %+v: want closed early, no error, usage so far", r)
	}

	// A stream read to its end and then closed is not closed early.
	rec2 := &hookRecorder{}
	h2 := newHarness(t, Config{Deployments: grp("g", "a")}, WithHooks(rec2.hooks()))
	h2.client("a").setScript(step{events: []string{`{}`, `{}`}, usage: usage})
	s2, err := h2.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	for s2.Next() {
	}
	_ = s2.Close()
	if len(rec2.attempts) != 1 || rec2.attempts[0].ClosedEarly || rec2.requests[0].ClosedEarly || rec2.requests[0].Usage != usage {
		t.Errorf("a stream read to its end: attempts %+v, requests %+v", rec2.attempts, rec2.requests)
	}
}

func TestCallerDeadlineIsATimeoutNotCountedAgainstTheDeployment(t *testing.T) {
	rec := &hookRecorder{}
	h := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{Deployment: deployment.Settings{AllowedFails: new(0)}}},
		WithHooks(rec.hooks()))
	h.client("a").setScript(step{block: true})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := h.r.Do(ctx, chatReq("g"))
	if !errors.Is(err, context.DeadlineExceeded) || provider.ClassOf(err) != provider.ClassTimeout {
		t.Fatalf("err = %v (class %v), want the caller's deadline as a timeout", err, provider.ClassOf(err))
	}
	if len(rec.attempts) != 1 || rec.attempts[0].Class != provider.ClassTimeout || rec.attempts[0].WillRetry {
		t.Errorf("attempt events %+v, want one timeout, not retried", rec.attempts)
	}
	d := h.r.Deployment("a")
	if got := d.Available(h.clock.Now(), 0); got != deployment.ReasonOK || d.Latency() != 0 {
		t.Errorf("after the caller's deadline: available %v, latency %s; want the deployment untouched", got, d.Latency())
	}

	// A cancellation stays a cancellation.
	ctx2, cancel2 := context.WithCancel(t.Context())
	go func() { time.Sleep(10 * time.Millisecond); cancel2() }()
	_, err = h.r.Do(ctx2, chatReq("g"))
	if provider.ClassOf(err) != provider.ClassCanceled {
		t.Errorf("canceled: class %v, want canceled", provider.ClassOf(err))
	}
}

func TestWithStrategyUsesTheValue(t *testing.T) {
	last := &lastStrategy{}
	h := newHarness(t, Config{Deployments: grp("g", "a", "b", "c")}, WithStrategy(last))
	for range 3 {
		res, err := h.r.Do(t.Context(), chatReq("g"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Deployment != "c" {
			t.Errorf("served by %s, want c (the strategy picks the last)", res.Deployment)
		}
	}
	if h.r.Strategy() != last || last.picks != 3 {
		t.Errorf("Strategy() = %v, %d picks", h.r.Strategy(), last.picks)
	}
	// A configured name must not contradict the value.
	fs := newFakes()
	_, err := New(Config{Deployments: grp("g", "a"), Settings: Settings{RoutingStrategy: "least-busy"}},
		WithClientFactory(fs.factory), WithStrategy(last))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "Settings.RoutingStrategy" {
		t.Errorf("contradicting names: err = %v, want a *ConfigError for Settings.RoutingStrategy", err)
	}
}

type lastStrategy struct{ picks int }

func (*lastStrategy) Name() string { return "last" }
func (s *lastStrategy) Pick(c []*deployment.Deployment, _ *strategy.PickInfo) int {
	s.picks++
	return len(c) - 1
}
