package router

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

func readAll(s provider.Stream) []string {
	var out []string
	for s.Next() {
		out = append(out, string(s.Event().Data))
	}
	return out
}

func TestStreamRetriesBeforeTheFirstEvent(t *testing.T) {
	tests := []struct {
		name string
		bad  step
	}{
		{"error on open", step{err: perr(provider.ClassServer, 503)}},
		{"error before the first event", step{midErr: perr(provider.ClassConnection, 0)}},
		{"rate limited", step{err: perr(provider.ClassRateLimited, 429)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var infos []AttemptInfo
			h := newHarness(t, Config{Deployments: grp("g", "a", "b")}, WithHooks(Hooks{OnAttempt: func(_ context.Context, a AttemptInfo) {
				mu.Lock()
				infos = append(infos, a)
				mu.Unlock()
			}}))
			h.client("a").setScript(tt.bad)
			h.client("b").setScript(step{events: []string{"1", "2", "3"}, header: http.Header{"X-Up": {"b"}}})
			for range 10 {
				s, err := h.r.Stream(t.Context(), chatReq("g"))
				if err != nil {
					t.Fatal(err)
				}
				if s.Deployment != "b" || s.Header().Get("X-Up") != "b" || s.Header().Get(HeaderDeployment) != "b" {
					t.Fatalf("stream from %s, header %v", s.Deployment, s.Header())
				}
				if got := readAll(s); len(got) != 3 || got[0] != "1" || got[2] != "3" {
					t.Fatalf("events = %v", got)
				}
				if s.Err() != nil {
					t.Fatalf("Err = %v", s.Err())
				}
				_ = s.Close()
			}
			for _, d := range h.r.Deployments() {
				if d.InFlight() != 0 {
					t.Errorf("%s has %d in flight", d.ID(), d.InFlight())
				}
			}
			for _, c := range []*fakeClient{h.client("a"), h.client("b")} {
				for _, s := range c.streams {
					if !s.closed {
						t.Errorf("%s left a stream open", c.id)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			calls := h.client("a").Calls() + h.client("b").Calls()
			if len(infos) != calls {
				t.Errorf("hooks saw %d attempts for %d upstream calls", len(infos), calls)
			}
		})
	}
}

func TestStreamErrorAfterTheFirstEventReachesTheCaller(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts []AttemptInfo
		requests []RequestInfo
	)
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")}, WithHooks(Hooks{
		OnAttempt: func(_ context.Context, a AttemptInfo) { mu.Lock(); attempts = append(attempts, a); mu.Unlock() },
		OnRequest: func(_ context.Context, r RequestInfo) { mu.Lock(); requests = append(requests, r); mu.Unlock() },
	}))
	cut := &provider.Error{Class: provider.ClassConnection, Message: "stream truncated"}
	script := step{events: []string{"1", "2"}, midErr: cut, usage: provider.Usage{CompletionTokens: 2}}
	h.client("a").setScript(script)
	h.client("b").setScript(script)
	s, err := h.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(s); len(got) != 2 {
		t.Fatalf("events = %v", got)
	}
	var pe *provider.Error
	if !errors.As(s.Err(), &pe) || pe.Class != provider.ClassConnection || pe.Deployment != s.Deployment {
		t.Fatalf("Err = %v, want the truncation naming %s", s.Err(), s.Deployment)
	}
	if n := h.client("a").Calls() + h.client("b").Calls(); n != 1 {
		t.Errorf("upstream calls = %d: a stream must not be retried after its first event", n)
	}
	if s.Next() {
		t.Error("Next after the end")
	}
	_ = s.Close()
	_ = s.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 1 || attempts[0].Err == nil || attempts[0].Usage.CompletionTokens != 2 {
		t.Errorf("attempt hooks %+v", attempts)
	}
	if len(requests) != 1 || requests[0].Err == nil || !requests[0].Stream {
		t.Errorf("request hooks %+v", requests)
	}
	if d := h.r.Deployment(s.Deployment); d.InFlight() != 0 {
		t.Errorf("in flight %d after the end", d.InFlight())
	}
}

func TestStreamEndsItsAttemptOnceOnEarlyClose(t *testing.T) {
	var ends int
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithHooks(Hooks{OnAttempt: func(context.Context, AttemptInfo) { ends++ }}))
	h.client("a").setScript(step{events: []string{"1", "2", "3"}})
	s, err := h.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Next() || string(s.Event().Data) != "1" {
		t.Fatal("first event missing")
	}
	_ = s.Close()
	_ = s.Close()
	if s.Next() {
		t.Error("Next after Close")
	}
	if ends != 1 || h.r.Deployment("a").InFlight() != 0 || s.Err() != nil {
		t.Errorf("ends %d, in flight %d, err %v", ends, h.r.Deployment("a").InFlight(), s.Err())
	}
	if !h.client("a").streams[0].closed {
		t.Error("upstream stream not closed")
	}
}

func TestStreamCallerCancellation(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")})
	h.client("a").setScript(step{events: []string{"1", "2", "3"}})
	h.client("b").setScript(step{events: []string{"1", "2", "3"}})
	ctx, cancel := context.WithCancel(t.Context())
	s, err := h.r.Stream(ctx, chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Next() {
		t.Fatal("no first event")
	}
	cancel()
	if s.Next() {
		t.Fatal("stream goes on after cancel")
	}
	if provider.ClassOf(s.Err()) != provider.ClassCanceled || !errors.Is(s.Err(), context.Canceled) {
		t.Errorf("Err = %v, want canceled", s.Err())
	}
	_ = s.Close()
	d := h.r.Deployment(s.Deployment)
	if d.InFlight() != 0 || d.Available(h.clock.Now(), 0) != deployment.ReasonOK {
		t.Error("cancellation counted against the deployment")
	}
}

func TestStreamFirstEventTimeout(t *testing.T) {
	// The deployment's own stream timeout wins over the router's; only the
	// slow deployment has a short one, so the test does not depend on how
	// fast the machine is.
	deps := grp("g", "slow", "fast")
	deps[0].StreamTimeout = time.Millisecond
	h := newHarness(t, Config{Deployments: deps, Settings: Settings{StreamTimeout: time.Hour}})
	h.client("slow").setScript(step{block: true})
	h.client("fast").setScript(step{events: []string{"x"}})
	for range 4 {
		s, err := h.r.Stream(t.Context(), chatReq("g"))
		if err != nil {
			t.Fatal(err)
		}
		if s.Deployment != "fast" {
			t.Fatalf("served by %s", s.Deployment)
		}
		if len(s.Attempts) == 2 && s.Attempts[0].Class != provider.ClassTimeout {
			t.Errorf("slow attempt class %s", s.Attempts[0].Class)
		}
		readAll(s)
		_ = s.Close()
	}
}

func TestStreamEmptyIsAnEmptyAnswer(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	s, err := h.r.Stream(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(s); len(got) != 0 || s.Err() != nil {
		t.Errorf("events %v, err %v", got, s.Err())
	}
	_ = s.Close()
	if h.r.Deployment("a").InFlight() != 0 {
		t.Error("attempt not ended")
	}
}

func TestStreamSetsStreamFlagWithoutTouchingTheRequest(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	h.client("a").setScript(step{events: []string{"x"}})
	req := chatReq("g")
	s, err := h.r.Stream(t.Context(), req, WithHeader(http.Header{"X-Extra": {"1"}}))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if req.Stream || req.Header != nil {
		t.Error("caller's request modified")
	}
	got := h.client("a").reqs[0]
	if !got.Stream || got.Header.Get("X-Extra") != "1" {
		t.Errorf("upstream request stream=%v header=%v", got.Stream, got.Header)
	}
}

func TestDroppedStreamIsClosedByTheCollector(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	h.client("a").setScript(step{events: []string{"1", "2", "3"}})
	func() {
		s, err := h.r.Stream(t.Context(), chatReq("g"))
		if err != nil {
			t.Fatal(err)
		}
		s.Next() // read a little, then drop it without Close
	}()
	d := h.r.Deployment("a")
	for i := 0; d.InFlight() != 0 && i < 200; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if d.InFlight() != 0 {
		t.Fatal("a dropped stream kept its attempt open")
	}
	h.client("a").mu.Lock()
	closed := h.client("a").streams[0].closed
	h.client("a").mu.Unlock()
	if !closed {
		t.Error("a dropped stream kept its upstream open")
	}
}
