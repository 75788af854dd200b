package router

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func grp(name string, ids ...string) []deployment.Config {
	out := make([]deployment.Config, len(ids))
	for i, id := range ids {
		out[i] = dep(name, id)
	}
	return out
}

func attemptIDs(as []Attempt) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Deployment
	}
	return out
}

func TestRetryGoesToAnotherHealthyDeploymentAtOnce(t *testing.T) {
	tests := []struct {
		name string
		err  *provider.Error
	}{
		{"server error", perr(provider.ClassServer, 500)},
		{"rate limited", perr(provider.ClassRateLimited, 429)},
		{"timeout", perr(provider.ClassTimeout, 408)},
		{"connection", perr(provider.ClassConnection, 0)},
		{"quota", perr(provider.ClassQuotaExhausted, 429)},
		{"auth", perr(provider.ClassAuth, 401)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{Deployments: grp("g", "a", "b", "c")})
			h.client("a").setScript(step{err: tt.err})
			h.client("b").setScript(step{err: tt.err})
			for i := range 20 {
				res, err := h.r.Do(t.Context(), chatReq("g"))
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if res.Deployment != "c" {
					t.Fatalf("call %d served by %s, want c", i, res.Deployment)
				}
				ids := attemptIDs(res.Attempts)
				seen := map[string]bool{}
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("call %d tried %s twice: %v", i, id, ids)
					}
					seen[id] = true
				}
				if res.Retries != len(ids)-1 {
					t.Errorf("Retries = %d for attempts %v", res.Retries, ids)
				}
			}
			if s := h.clock.Sleeps(); len(s) != 0 {
				t.Errorf("router slept %v although a healthy deployment was left", s)
			}
		})
	}
}

func TestRetryWaitsWithBackoffWhenNoDeploymentIsLeft(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	e503 := step{err: perr(provider.ClassServer, 503)}
	h.client("a").setScript(e503, e503, step{})
	res, err := h.r.Do(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 2 || len(res.Attempts) != 3 {
		t.Fatalf("Retries %d, attempts %d; want 2, 3", res.Retries, len(res.Attempts))
	}
	sleeps := h.clock.Sleeps()
	if len(sleeps) != 2 {
		t.Fatalf("sleeps = %v, want 2", sleeps)
	}
	// 0.5s·2^n with up to 25% subtracted.
	for n, s := range sleeps {
		hi := 500 * time.Millisecond << n
		if s > hi || s < hi*3/4 {
			t.Errorf("sleep %d = %s, want in [%s, %s]", n, s, hi*3/4, hi)
		}
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	// MaxRetryWait above the hint: the default (2s) would not wait 3s.
	h := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{MaxRetryWait: time.Minute}})
	e := perr(provider.ClassRateLimited, 429)
	e.RetryAfter = 3 * time.Second
	h.client("a").setScript(step{err: e}, step{})
	if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
		t.Fatal(err)
	}
	if s := h.clock.Sleeps(); len(s) != 1 || s[0] < 3*time.Second || s[0] > 3*time.Second+time.Second {
		t.Errorf("sleeps = %v, want one of about 3s", s)
	}
}

func TestRetryBudgetAndPolicy(t *testing.T) {
	tests := []struct {
		name     string
		settings Settings
		opts     []CallOption
		err      *provider.Error
		attempts int
	}{
		{"default two retries", Settings{}, nil, perr(provider.ClassServer, 500), 3},
		{"num retries zero", Settings{NumRetries: new(0)}, nil, perr(provider.ClassServer, 500), 1},
		{"policy wins for its class", Settings{RetryPolicy: map[provider.Class]int{provider.ClassServer: 0}}, nil, perr(provider.ClassServer, 500), 1},
		{"policy leaves others", Settings{RetryPolicy: map[provider.Class]int{provider.ClassServer: 0}}, nil, perr(provider.ClassTimeout, 408), 3},
		{"call option wins", Settings{RetryPolicy: map[provider.Class]int{provider.ClassServer: 0}}, []CallOption{WithNumRetries(1)}, perr(provider.ClassServer, 500), 2},
		{"bad request never", Settings{}, nil, perr(provider.ClassBadRequest, 400), 1},
		{"context window never", Settings{}, nil, perr(provider.ClassContextWindow, 400), 1},
		{"content policy never", Settings{}, nil, perr(provider.ClassContentPolicy, 400), 1},
		{"should-retry false", Settings{}, nil, &provider.Error{Class: provider.ClassServer, StatusCode: 500, ShouldRetry: -1}, 1},
		{"should-retry true", Settings{}, nil, &provider.Error{Class: provider.ClassNotFound, StatusCode: 404, ShouldRetry: 1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.settings.Deployment.AllowedFails = new(100)
			h := newHarness(t, Config{Deployments: grp("g", "a", "b", "c", "d"), Settings: tt.settings})
			for _, id := range []string{"a", "b", "c", "d"} {
				h.client(id).setScript(step{err: tt.err})
			}
			_, err := h.r.Do(t.Context(), chatReq("g"), tt.opts...)
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if len(re.Attempts) != tt.attempts {
				t.Errorf("attempts = %d (%v), want %d", len(re.Attempts), attemptIDs(re.Attempts), tt.attempts)
			}
		})
	}
}

func TestCallerErrorsNeverCoolADeployment(t *testing.T) {
	for _, class := range []provider.Class{provider.ClassBadRequest, provider.ClassContextWindow, provider.ClassContentPolicy} {
		t.Run(class.String(), func(t *testing.T) {
			h := newHarness(t, Config{Deployments: grp("g", "a")})
			h.client("a").setScript(step{err: perr(class, 400)})
			for range 20 {
				_, err := h.r.Do(t.Context(), chatReq("g"))
				if provider.ClassOf(err) != class {
					t.Fatalf("err = %v, want class %s", err, class)
				}
			}
			d := h.r.Deployment("a")
			if r := d.Available(h.clock.Now(), 0); r != deployment.ReasonOK {
				t.Errorf("after 20 caller errors deployment is %s", r)
			}
			if !d.CooldownUntil().IsZero() {
				t.Errorf("cooldown set to %v", d.CooldownUntil())
			}
			if got := h.client("a").Calls(); got != 20 {
				t.Errorf("upstream calls = %d, want 20 (no retries)", got)
			}
		})
	}
}

func TestFallbacks(t *testing.T) {
	cfg := Config{
		Deployments: append(append(append(grp("main", "m1", "m2"), grp("backup", "b1")...), grp("big", "g1")...), grp("safe", "s1")...),
		Settings: Settings{
			Fallbacks:              map[string][]string{"main": {"backup"}},
			ContextWindowFallbacks: map[string][]string{"main": {"big"}},
			ContentPolicyFallbacks: map[string][]string{"main": {"safe"}},
		},
	}
	filtered := `{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}]}`
	tests := []struct {
		name      string
		script    step
		opts      []CallOption
		wantGroup string // "" = error
		wantClass provider.Class
	}{
		{"server errors go to fallbacks", step{err: perr(provider.ClassServer, 500)}, nil, "backup", 0},
		{"context window goes to its own list", step{err: perr(provider.ClassContextWindow, 400)}, nil, "big", 0},
		{"content policy goes to its own list", step{err: perr(provider.ClassContentPolicy, 400)}, nil, "safe", 0},
		{"content_filter finish reason", step{body: filtered}, nil, "safe", 0},
		{"bad request has no fallback", step{err: perr(provider.ClassBadRequest, 400)}, nil, "", provider.ClassBadRequest},
		{"skip fallbacks", step{err: perr(provider.ClassServer, 500)}, []CallOption{WithoutFallbacks()}, "", provider.ClassServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			h.client("m1").setScript(tt.script)
			h.client("m2").setScript(tt.script)
			res, err := h.r.Do(t.Context(), chatReq("main"), tt.opts...)
			if tt.wantGroup == "" {
				if provider.ClassOf(err) != tt.wantClass {
					t.Fatalf("err = %v, want class %s", err, tt.wantClass)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.ModelGroup != tt.wantGroup || res.Fallbacks != 1 {
				t.Errorf("served by %s after %d fallbacks, want %s after 1", res.ModelGroup, res.Fallbacks, tt.wantGroup)
			}
			if got := res.Header.Get(HeaderAttemptedFallbacks); got != "1" {
				t.Errorf("%s = %q", HeaderAttemptedFallbacks, got)
			}
		})
	}
}

func TestContentFilterWithoutFallbackIsAnAnswer(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	body := `{"choices":[{"finish_reason":"content_filter"}]}`
	h.client("a").setScript(step{body: body})
	res, err := h.r.Do(t.Context(), chatReq("g"))
	if err != nil || string(res.Body) != body {
		t.Fatalf("Do = %v, %v; want the filtered answer", res, err)
	}
}

func TestFallbackGroupsGetTheirOwnRetriesAndStopAtMax(t *testing.T) {
	var deps []deployment.Config
	names := []string{"g0", "g1", "g2", "g3"}
	for _, n := range names {
		deps = append(deps, grp(n, n+"a", n+"b")...)
	}
	h := newHarness(t, Config{Deployments: deps, Settings: Settings{
		DefaultFallbacks: []string{"g1", "g2", "g3"}, MaxFallbacks: new(2),
	}})
	for _, n := range names {
		h.client(n + "a").setScript(step{err: perr(provider.ClassServer, 500)})
		h.client(n + "b").setScript(step{err: perr(provider.ClassServer, 502)})
	}
	_, err := h.r.Do(t.Context(), chatReq("g0"), WithNumRetries(1))
	var re *Error
	if !errors.As(err, &re) {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, a := range re.Attempts {
		groups[a.ModelGroup]++
	}
	want := map[string]int{"g0": 2, "g1": 2, "g2": 2}
	if len(groups) != len(want) || groups["g0"] != 2 || groups["g1"] != 2 || groups["g2"] != 2 {
		t.Errorf("attempts per group = %v, want %v", groups, want)
	}
}

func TestAllCoolingDown(t *testing.T) {
	t.Run("fails at once with the time they come back", func(t *testing.T) {
		h := newHarness(t, Config{Deployments: grp("g", "a", "b"), Settings: Settings{NumRetries: new(0)}})
		now := h.clock.Now()
		h.r.Deployment("a").SetCooldown(now.Add(30*time.Second), "test")
		h.r.Deployment("b").SetCooldown(now.Add(45*time.Second), "test")
		_, err := h.r.Do(t.Context(), chatReq("g"))
		if !errors.Is(err, ErrAllCoolingDown) || !errors.Is(err, ErrNoDeployment) {
			t.Fatalf("err = %v, want ErrAllCoolingDown", err)
		}
		var nde *NoDeploymentError
		if !errors.As(err, &nde) || nde.RetryIn != 30*time.Second || !nde.RetryAt.Equal(now.Add(30*time.Second)) {
			t.Fatalf("NoDeploymentError = %+v", nde)
		}
		if !strings.Contains(err.Error(), "2 cooldown") || !strings.Contains(err.Error(), "first back in 30s") {
			t.Errorf("message %q should say why and when", err)
		}
		if h.client("a").Calls()+h.client("b").Calls() != 0 || len(h.clock.Sleeps()) != 0 {
			t.Error("router called or waited")
		}
	})
	t.Run("waits within the retry budget", func(t *testing.T) {
		h := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{MaxRetryWait: time.Minute}})
		h.r.Deployment("a").SetCooldown(h.clock.Now().Add(20*time.Second), "test")
		res, err := h.r.Do(t.Context(), chatReq("g"))
		if err != nil {
			t.Fatal(err)
		}
		if s := h.clock.Sleeps(); len(s) != 1 || s[0] != 20*time.Second {
			t.Errorf("sleeps = %v, want [20s]", s)
		}
		if len(res.Attempts) != 1 {
			t.Errorf("attempts = %d", len(res.Attempts))
		}
	})
	t.Run("does not wait past MaxRetryWait", func(t *testing.T) {
		h := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{MaxRetryWait: 10 * time.Second}})
		h.r.Deployment("a").SetCooldown(h.clock.Now().Add(20*time.Second), "test")
		_, err := h.r.Do(t.Context(), chatReq("g"))
		if !errors.Is(err, ErrAllCoolingDown) || len(h.clock.Sleeps()) != 0 {
			t.Fatalf("err = %v, sleeps %v", err, h.clock.Sleeps())
		}
	})
	t.Run("does not wait past the context deadline", func(t *testing.T) {
		h := newHarness(t, Config{Deployments: grp("g", "a")})
		h.r.Deployment("a").SetCooldown(h.clock.Now().Add(20*time.Second), "test")
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := h.r.Do(ctx, chatReq("g"))
		if !errors.Is(err, ErrAllCoolingDown) || len(h.clock.Sleeps()) != 0 {
			t.Fatalf("err = %v, sleeps %v", err, h.clock.Sleeps())
		}
	})
	t.Run("falls back", func(t *testing.T) {
		h := newHarness(t, Config{
			Deployments: append(grp("g", "a"), grp("f", "b")...),
			Settings:    Settings{Fallbacks: map[string][]string{"g": {"f"}}, NumRetries: new(0)},
		})
		h.r.Deployment("a").SetCooldown(h.clock.Now().Add(time.Minute), "test")
		res, err := h.r.Do(t.Context(), chatReq("g"))
		if err != nil || res.ModelGroup != "f" {
			t.Fatalf("Do = %v, %v; want served by f", res, err)
		}
	})
}

func TestRateLimitStormStopsSendingToExhaustedKeys(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "k1", "k2", "k3")})
	e := perr(provider.ClassRateLimited, 429)
	e.RetryAfter = 20 * time.Second
	h.client("k1").setScript(step{err: e})
	h.client("k2").setScript(step{err: e})
	for i := range 50 {
		res, err := h.r.Do(t.Context(), chatReq("g"))
		if err != nil || res.Deployment != "k3" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if a, b := h.client("k1").Calls(), h.client("k2").Calls(); a > 1 || b > 1 {
		t.Errorf("exhausted keys got %d and %d calls, want at most 1 each", a, b)
	}
	// Once the retry-after has passed they are used again.
	h.client("k1").setScript()
	h.client("k2").setScript()
	h.clock.Advance(21 * time.Second)
	for range 60 {
		if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
			t.Fatal(err)
		}
	}
	if h.client("k1").Calls() <= 1 && h.client("k2").Calls() <= 1 {
		t.Error("keys never came back after their retry-after")
	}
}

func TestFinalErrorListsEveryAttempt(t *testing.T) {
	h := newHarness(t, Config{
		Deployments: append(grp("g", "a", "b"), grp("f", "c")...),
		Settings:    Settings{Fallbacks: map[string][]string{"g": {"f"}}, NumRetries: new(1)},
	})
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	h.client("b").setScript(step{err: perr(provider.ClassRateLimited, 429)})
	last := perr(provider.ClassTimeout, 504)
	last.Code = "gateway_timeout"
	h.client("c").setScript(step{err: perr(provider.ClassConnection, 0)}, step{err: last})
	_, err := h.r.Do(t.Context(), chatReq("g"))
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v", err, err)
	}
	if len(re.Attempts) != 4 {
		t.Fatalf("attempts = %v", attemptIDs(re.Attempts))
	}
	msg := err.Error()
	for _, want := range []string{`model "g"`, "4 attempts failed", "server_error 500", "rate_limited 429", "f/c: connection_error", "f/c: timeout 504", "gateway_timeout"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.StatusCode != 504 || pe.Deployment != "c" {
		t.Errorf("errors.As reached %+v, want the last attempt's 504 from c", pe)
	}
	if !errors.Is(err, provider.ErrTimeout) || errors.Is(err, provider.ErrServer) {
		t.Error("errors.Is should match the last attempt's class only")
	}
	for i, a := range re.Attempts {
		if a.Err == nil || a.Class == provider.ClassUnknown {
			t.Errorf("attempt %d lacks its error: %+v", i, a)
		}
	}
}

func TestUnknownModelAndClosedRouter(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	if _, err := h.r.Do(t.Context(), chatReq("nope")); !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := h.r.Do(t.Context(), nil); err == nil {
		t.Error("nil request accepted")
	}
	_ = h.r.Close()
	if _, err := h.r.Do(t.Context(), chatReq("g")); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := h.r.Stream(t.Context(), chatReq("g")); !errors.Is(err, ErrClosed) {
		t.Errorf("Stream after Close: %v", err)
	}
}

func TestHeadersAreACopyWithRouterHeaders(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")})
	up := http.Header{"X-Request-Id": {"req-1"}, "X-Ratelimit-Remaining-Requests": {"9"}}
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	h.client("b").setScript(step{header: up})
	res, err := h.r.Do(t.Context(), chatReq("g"), WithNumRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"X-Request-Id": "req-1", HeaderModelGroup: "g", HeaderDeployment: "b",
		HeaderAttemptedRetries: itoa(res.Retries), HeaderAttemptedFallbacks: "0",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(up) != 2 || up.Get(HeaderModelGroup) != "" {
		t.Errorf("upstream header was modified: %v", up)
	}
	res.Header.Add("X-Request-Id", "more")
	if len(up["X-Request-Id"]) != 1 {
		t.Error("result header shares value slices with the upstream's")
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestTags(t *testing.T) {
	deps := grp("g", "free", "paid", "dflt", "plain")
	deps[0].Tags = []string{"free"}
	deps[1].Tags = []string{"paid", "premium"}
	deps[2].Tags = []string{"default"}
	tests := []struct {
		tags []string
		want []string // deployments that may serve
	}{
		{nil, []string{"dflt"}},
		{[]string{"free"}, []string{"free"}},
		{[]string{"premium", "free"}, []string{"free", "paid"}},
		{[]string{"unknown-tag"}, []string{"dflt"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.tags, ","), func(t *testing.T) {
			h := newHarness(t, Config{Deployments: deps})
			for range 30 {
				var opts []CallOption
				if tt.tags != nil {
					opts = append(opts, WithTags(tt.tags...))
				}
				res, err := h.r.Do(t.Context(), chatReq("g"), opts...)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(tt.want, res.Deployment) {
					t.Fatalf("served by %s, want one of %v", res.Deployment, tt.want)
				}
			}
		})
	}
	t.Run("no default and no match", func(t *testing.T) {
		h := newHarness(t, Config{Deployments: grp("g", "a")})
		_, err := h.r.Do(t.Context(), chatReq("g"), WithTags("x"))
		var nde *NoDeploymentError
		if !errors.As(err, &nde) || !strings.Contains(err.Error(), "for tags x") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCallerCancellationIsNotRetriedNorCounted(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")})
	started := make(chan struct{}, 2)
	h.client("a").setScript(step{block: true})
	h.client("b").setScript(step{block: true})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the call is in flight.
		for h.client("a").Calls()+h.client("b").Calls() == 0 {
			time.Sleep(time.Millisecond)
		}
		started <- struct{}{}
		cancel()
	}()
	_, err := h.r.Do(ctx, chatReq("g"))
	<-started
	if !errors.Is(err, context.Canceled) || provider.ClassOf(err) != provider.ClassCanceled {
		t.Fatalf("err = %v, want canceled", err)
	}
	if n := h.client("a").Calls() + h.client("b").Calls(); n != 1 {
		t.Errorf("upstream calls = %d, want 1", n)
	}
	for _, d := range h.r.Deployments() {
		if d.InFlight() != 0 || d.Available(h.clock.Now(), 0) != deployment.ReasonOK {
			t.Errorf("%s: in flight %d, %s", d.ID(), d.InFlight(), d.Available(h.clock.Now(), 0))
		}
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "slow", "fast"), Settings: Settings{Timeout: time.Hour}})
	h.client("slow").setScript(step{block: true})
	for range 5 {
		res, err := h.r.Do(t.Context(), chatReq("g"), WithTimeout(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if res.Deployment != "fast" {
			t.Fatalf("served by %s", res.Deployment)
		}
		if n := len(res.Attempts); n == 2 && res.Attempts[0].Class != provider.ClassTimeout {
			t.Errorf("first attempt class %s, want timeout", res.Attempts[0].Class)
		}
	}
}

func TestHooksSeeEveryAttempt(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts []AttemptInfo
		requests []RequestInfo
	)
	hooks := Hooks{
		OnAttempt: func(_ context.Context, a AttemptInfo) { mu.Lock(); attempts = append(attempts, a); mu.Unlock() },
		OnRequest: func(_ context.Context, r RequestInfo) { mu.Lock(); requests = append(requests, r); mu.Unlock() },
	}
	deps := append(grp("g", "a"), grp("f", "b")...)
	deps[1].Info = deployment.ModelInfo{InputCostPerToken: 0.001, OutputCostPerToken: 0.002}
	h := newHarness(t, Config{Deployments: deps, Settings: Settings{Fallbacks: map[string][]string{"g": {"f"}}, NumRetries: new(1)}}, WithHooks(hooks))
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	h.client("b").setScript(step{usage: provider.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}})
	res, err := h.r.Do(t.Context(), chatReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != len(res.Attempts) || len(attempts) != 3 {
		t.Fatalf("hook saw %d attempts, result has %d", len(attempts), len(res.Attempts))
	}
	wantWill := []bool{true, true, false}
	for i, a := range attempts {
		if a.Deployment != res.Attempts[i].Deployment || a.WillRetry != wantWill[i] {
			t.Errorf("attempt %d: %s will-retry %v, want %s %v", i, a.Deployment, a.WillRetry, res.Attempts[i].Deployment, wantWill[i])
		}
	}
	if a := attempts[0]; a.Class != provider.ClassServer || a.Retry != 0 || a.Fallback != 0 {
		t.Errorf("first attempt %+v", a)
	}
	if a := attempts[1]; a.Retry != 1 || a.Fallback != 0 {
		t.Errorf("second attempt retry %d fallback %d", a.Retry, a.Fallback)
	}
	if a := attempts[2]; a.Fallback != 1 || a.Err != nil || a.Usage.TotalTokens != 15 || a.Cost != 10*0.001+5*0.002 {
		t.Errorf("last attempt %+v", a)
	}
	if len(requests) != 1 {
		t.Fatalf("OnRequest ran %d times", len(requests))
	}
	if r := requests[0]; r.Attempts != 3 || r.Retries != 1 || r.Fallbacks != 1 || r.Deployment != "b" || r.ModelGroup != "f" || r.Err != nil {
		t.Errorf("request info %+v", r)
	}
	// A failed request is reported too.
	h.client("b").setScript(step{err: perr(provider.ClassBadRequest, 400)})
	_, err = h.r.Do(t.Context(), chatReq("f"))
	if len(requests) != 2 || requests[1].Err == nil || !errors.Is(requests[1].Err, provider.ErrBadRequest) {
		t.Errorf("failed request info %+v (err %v)", requests[len(requests)-1], err)
	}
}

func TestPreCallChecksUseTheContextWindow(t *testing.T) {
	deps := append(grp("g", "small", "large"), grp("huge", "h")...)
	deps[0].Info.MaxInputTokens = 100
	deps[1].Info.MaxInputTokens = 10000
	deps[2].Info.MaxInputTokens = 1000000
	cfg := Config{Deployments: deps, Settings: Settings{EnablePreCallChecks: true, ContextWindowFallbacks: map[string][]string{"g": {"huge"}}}}
	h := newHarness(t, cfg)
	for range 20 {
		res, err := h.r.Do(t.Context(), chatReq("g"), WithPromptTokens(5000))
		if err != nil || res.Deployment != "large" {
			t.Fatalf("5000 tokens: %v %v", res, err)
		}
	}
	res, err := h.r.Do(t.Context(), chatReq("g"), WithPromptTokens(50000))
	if err != nil || res.ModelGroup != "huge" {
		t.Fatalf("50000 tokens: %v %v, want the context-window fallback", res, err)
	}
	// Counted from the body when no hint is given.
	long := chatReq("g")
	long.Body = []byte(`{"messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum ", 20000) + `"}]}`)
	if res, err := h.r.Do(t.Context(), long); err != nil || res.ModelGroup != "huge" {
		t.Fatalf("long body: %v %v", res, err)
	}
}

func TestLiveUpdatesUnderLoad(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")})
	var (
		wg     sync.WaitGroup
		stop   atomic.Bool
		failed atomic.Int64
		served atomic.Int64
	)
	for _, id := range []string{"a", "b", "c"} {
		h.client(id).setScript(step{events: []string{"1", "2"}})
	}
	for i := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if i == 0 {
					// One caller streams: a stream may outlive the removal
					// of its deployment.
					s, err := h.r.Stream(context.Background(), chatReq("g"))
					if err != nil {
						failed.Add(1)
					} else {
						readAll(s)
						if s.Err() != nil {
							failed.Add(1)
						}
						_ = s.Close()
					}
				} else if _, err := h.r.Do(context.Background(), chatReq("g")); err != nil {
					failed.Add(1)
				}
				served.Add(1)
			}
		})
	}
	wait := func(n int64) {
		for target := served.Load() + n; served.Load() < target; {
			time.Sleep(100 * time.Microsecond)
		}
	}
	wait(100)
	if err := h.r.AddDeployment(dep("g", "c")); err != nil {
		t.Fatal(err)
	}
	wait(200)
	if err := h.r.RemoveDeployment("a"); err != nil {
		t.Fatal(err)
	}
	callsA := h.client("a").Calls()
	wait(200)
	upd := dep("g", "b")
	upd.Weight = 3
	if err := h.r.UpdateDeployment(upd); err != nil {
		t.Fatal(err)
	}
	wait(200)
	stop.Store(true)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d calls failed during live updates", n)
	}
	// Calls that had picked a before the removal may still finish on it,
	// but no new call reaches it.
	if got := h.client("a").Calls(); got > callsA+4 {
		t.Errorf("removed deployment got %d calls after removal", got-callsA)
	}
	if h.client("c").Calls() == 0 {
		t.Error("added deployment never served")
	}
	ids := []string{}
	for _, d := range h.r.Deployments() {
		ids = append(ids, d.ID())
	}
	if !slices.Equal(ids, []string{"b", "c"}) || h.r.Deployment("b").Config().Weight != 3 {
		t.Errorf("deployments = %v", ids)
	}
	if err := h.r.RemoveDeployment("a"); !errors.Is(err, ErrUnknownDeployment) {
		t.Errorf("second remove: %v", err)
	}
	if err := h.r.AddDeployment(dep("g", "b")); err == nil {
		t.Error("duplicate add accepted")
	}
	if err := h.r.UpdateDeployment(dep("g", "zz")); !errors.Is(err, ErrUnknownDeployment) {
		t.Errorf("update unknown: %v", err)
	}
}

func TestEmptiedGroupAnswersNoDeployment(t *testing.T) {
	h := newHarness(t, Config{
		Deployments: append(grp("g", "a"), grp("f", "b")...),
		Settings:    Settings{Fallbacks: map[string][]string{"g": {"f"}}},
	})
	if err := h.r.RemoveDeployment("b"); err != nil {
		t.Fatal(err)
	}
	_, err := h.r.Do(t.Context(), chatReq("f"))
	if !errors.Is(err, ErrNoDeployment) || !strings.Contains(err.Error(), "no deployments") {
		t.Errorf("err = %v", err)
	}
	if err := h.r.AddDeployment(dep("new-group", "n")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.Do(t.Context(), chatReq("new-group")); err != nil {
		t.Error(err)
	}
	if got := h.r.ModelGroups(); !slices.Equal(got, []string{"f", "g", "new-group"}) {
		t.Errorf("groups = %v", got)
	}
}

func TestPlainClientErrorsMoveToAnotherDeploymentOnly(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a", "b")})
	h.client("a").setScript(step{plain: errPlain})
	h.client("b").setScript(step{plain: errPlain})
	_, err := h.r.Do(t.Context(), chatReq("g"))
	var re *Error
	if !errors.As(err, &re) || len(re.Attempts) != 2 {
		t.Fatalf("err = %v, want two attempts", err)
	}
	if !errors.Is(err, errPlain) || re.Attempts[1].Class != provider.ClassUnknown {
		t.Errorf("the client's error is lost: %v", err)
	}
	if len(h.clock.Sleeps()) != 0 {
		t.Error("waited to retry an unclassified error on the same deployment")
	}
}

func TestCancellationDuringAWait(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	h := newHarness(t, Config{Deployments: grp("g", "a")}, WithClock(sleeper{newClock(), func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the router waits to retry
		<-ctx.Done()
		return ctx.Err()
	}}))
	h.client("a").setScript(step{err: perr(provider.ClassServer, 503)})
	_, err := h.r.Do(ctx, chatReq("g"))
	var pe *provider.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.StatusCode != 503 {
		t.Fatalf("err = %v, want canceled, still reaching the 503", err)
	}
	if n := h.client("a").Calls(); n != 1 {
		t.Errorf("%d upstream calls after cancellation", n)
	}
}

func TestRetryAfterSettingIsTheShortestWait(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{RetryAfter: 2 * time.Second}})
	h.client("a").setScript(step{err: perr(provider.ClassServer, 503)}, step{})
	if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
		t.Fatal(err)
	}
	if s := h.clock.Sleeps(); len(s) != 1 || s[0] != 2*time.Second {
		t.Errorf("sleeps = %v, want [2s]", s)
	}
}

func TestExplicitFallbacksWinOverDefaults(t *testing.T) {
	h := newHarness(t, Config{
		Deployments: append(append(grp("g", "a"), grp("mine", "m")...), grp("dflt", "d")...),
		Settings: Settings{
			Fallbacks:        map[string][]string{"g": {"mine"}},
			DefaultFallbacks: []string{"dflt"},
			NumRetries:       new(0),
		},
	})
	h.client("a").setScript(step{err: perr(provider.ClassServer, 500)})
	h.client("m").setScript(step{err: perr(provider.ClassServer, 500)})
	_, err := h.r.Do(t.Context(), chatReq("g"))
	var re *Error
	if !errors.As(err, &re) || !slices.Equal(attemptIDs(re.Attempts), []string{"a", "m"}) {
		t.Fatalf("err = %v, want attempts on a then m only", err)
	}
	// A group without its own entry uses the defaults.
	h.client("d").setScript(step{err: perr(provider.ClassServer, 500)})
	_, err = h.r.Do(t.Context(), chatReq("mine"))
	if !errors.As(err, &re) || !slices.Equal(attemptIDs(re.Attempts), []string{"m", "d"}) {
		t.Fatalf("err = %v, want attempts on m then d", err)
	}
}
