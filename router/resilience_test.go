package router

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// The retry budget, bounded waits and the hung-attempt rule: the pure
// decisions first, in policy_test.go's style, then the router's behaviour.

func TestBudgetAllows(t *testing.T) {
	for _, tc := range []struct {
		name           string
		retries, calls int64
		ratio          float64
		min            int64
		want           bool
	}{
		{"lone caller within the minimum", 0, 1, 0.2, 3, true},
		{"minimum reached", 3, 4, 0.2, 3, false},
		{"ratio above the minimum", 9, 50, 0.2, 3, true},
		{"ratio reached", 10, 50, 0.2, 3, false},
		{"ratio rounds down", 4, 24, 0.2, 0, false},
		{"ratio exactly", 4, 25, 0.2, 0, true},
		{"no minimum, no calls", 0, 0, 0.2, 0, false},
		{"ratio 1: every call may retry", 49, 50, 1, 0, true},
	} {
		if got := budgetAllows(tc.retries, tc.calls, tc.ratio, tc.min); got != tc.want {
			t.Errorf("%s: budgetAllows(%d, %d, %g, %d) = %v, want %v", tc.name, tc.retries, tc.calls, tc.ratio, tc.min, got, tc.want)
		}
	}
}

func TestDecideRetryHungAndDeadline(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          retryInput
		retry, same bool
	}{
		{"hung: once, elsewhere", retryInput{scope: provider.RetryAnywhere, limit: 2, hung: true}, true, false},
		{"hung again: not retried", retryInput{scope: provider.RetryAnywhere, used: 1, limit: 2, hung: true, hungRetried: true}, false, false},
		{"another error after a hung one", retryInput{scope: provider.RetryAnywhere, used: 1, limit: 2, hungRetried: true}, true, true},
		{"past the call's deadline", retryInput{scope: provider.RetryAnywhere, limit: 2, pastDeadline: true}, false, false},
		{"hung, retries off", retryInput{scope: provider.RetryAnywhere, limit: 0, hung: true}, false, false},
	} {
		retry, same := decideRetry(tc.in)
		if retry != tc.retry || same != tc.same {
			t.Errorf("%s: decideRetry = %v, %v; want %v, %v", tc.name, retry, same, tc.retry, tc.same)
		}
	}
	if !hung(&provider.Error{Class: provider.ClassTimeout}) || hung(&provider.Error{Class: provider.ClassTimeout, StatusCode: 408}) {
		t.Error("hung: an attempt's own timeout is hung, an upstream's 408 is not")
	}
}

func TestResilienceSettingsValidation(t *testing.T) {
	neg := -1
	for _, tc := range []struct {
		name  string
		s     Settings
		field string
	}{
		{"ratio above 1", Settings{RetryBudget: RetryBudget{Ratio: 1.5}}, "Settings.RetryBudget.Ratio"},
		{"negative ratio", Settings{RetryBudget: RetryBudget{Ratio: -0.1}}, "Settings.RetryBudget.Ratio"},
		{"negative minimum", Settings{RetryBudget: RetryBudget{MinRetries: &neg}}, "Settings.RetryBudget.MinRetries"},
		{"negative call timeout", Settings{CallTimeout: -time.Second}, "Settings.CallTimeout"},
	} {
		_, err := New(Config{Deployments: grp("g", "a"), Settings: tc.s}, WithClientFactory(newFakes().factory))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: err = %v, want a ConfigError for %s", tc.name, err, tc.field)
		}
	}
	set, err := validateSettings(Settings{}, map[string]bool{"g": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.Timeout != DefaultTimeout || set.CallTimeout != DefaultCallTimeout || set.MaxRetryWait != DefaultMaxRetryWait {
		t.Errorf("defaults: Timeout %s, CallTimeout %s, MaxRetryWait %s", set.Timeout, set.CallTimeout, set.MaxRetryWait)
	}
	if b := set.budget; b.off || b.ratio != 0.2 || b.min != 3 {
		t.Errorf("default budget = %+v, want 20%% and 3", b)
	}
	// One retry after an attempt that hung for the whole default attempt
	// timeout still fits in the default call deadline.
	if 2*DefaultTimeout > DefaultCallTimeout || DefaultCallTimeout != 600*time.Second {
		t.Errorf("DefaultTimeout %s, DefaultCallTimeout %s", DefaultTimeout, DefaultCallTimeout)
	}
}

// gatedClient fails every call with a 500, but only once the test opens its
// gate: first attempts wait at gate 1, retries at gate 2, so that the test
// sees how many calls were let retry while all were failing at once.
type gatedClient struct {
	o *outage
}

type outage struct {
	first, second chan struct{}
	calls         atomic.Int64 // upstream calls made
	atFirst       atomic.Int64 // waiting at the first gate
	atSecond      atomic.Int64 // waiting at the second gate (retries)
}

func (g gatedClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	g.o.calls.Add(1)
	if g.o.atFirst.Add(1) <= int64(cap(g.o.first)) {
		select {
		case <-g.o.first:
		case <-ctx.Done():
		}
		return nil, &provider.Error{Class: provider.ClassServer, StatusCode: 500, Message: "down"}
	}
	g.o.atSecond.Add(1)
	select {
	case <-g.o.second:
	case <-ctx.Done():
	}
	return &provider.Response{StatusCode: 200, Body: []byte(`{}`)}, nil
}

func (g gatedClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, errors.New("not used")
}

// TestRetryBudgetRefusesInOutage: 30 calls fail at once on a group of
// three; the default budget lets 20% of them (6) retry and fails the other
// 24 at once, marked, with their one attempt. Without a budget all 30
// retry.
func TestRetryBudgetRefusesInOutage(t *testing.T) {
	const n = 30
	o := &outage{first: make(chan struct{}, n), second: make(chan struct{})}
	var refusedHooks atomic.Int64
	hooks := Hooks{OnAttempt: func(_ context.Context, ai AttemptInfo) {
		if ai.BudgetRefused {
			refusedHooks.Add(1)
		}
	}}
	h := newHarness(t, Config{
		Deployments: grp("g", "a", "b", "c"),
		Settings:    Settings{Deployment: deployment.Settings{CooldownTime: new(time.Duration(0))}},
	}, WithClientFactory(func(deployment.Config) (provider.Client, error) { return gatedClient{o}, nil }), WithHooks(hooks))

	type result struct {
		res *Result
		err error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			res, err := h.r.Do(t.Context(), chatReq("g"))
			results <- result{res, err}
		})
	}
	waitFor(t, "every call at the first gate", func() bool { return o.atFirst.Load() >= n })
	close(o.first)
	// Each call now either retries (and waits at the second gate) or was
	// refused and has returned.
	waitFor(t, "every call retrying or done", func() bool { return o.atSecond.Load()+int64(len(results)) >= n })
	close(o.second)
	wg.Wait()
	close(results)

	var refused, served int
	for r := range results {
		if r.err == nil {
			served++
			if len(r.res.Attempts) != 2 {
				t.Errorf("a served call made %d attempts, want 2", len(r.res.Attempts))
			}
			continue
		}
		var re *Error
		if !errors.As(r.err, &re) || !re.BudgetRefused || !errors.Is(r.err, ErrRetryBudget) || !re.RetriesSpent {
			t.Errorf("err = %v, want an *Error refused by the retry budget", r.err)
			continue
		}
		if len(re.Attempts) != 1 || !errors.Is(r.err, provider.ErrServer) {
			t.Errorf("refused call: %d attempts, err %v; want its one 500", len(re.Attempts), r.err)
		}
		refused++
	}
	if served != 6 || refused != 24 {
		t.Errorf("served %d, refused %d; want 6 (20%% of 30) and 24", served, refused)
	}
	if got := o.calls.Load(); got != n+6 {
		t.Errorf("upstream calls = %d, want %d (1.2 per call)", got, n+6)
	}
	if got := refusedHooks.Load(); got != 24 {
		t.Errorf("attempts reported as refused by the budget = %d, want 24", got)
	}
	if b := h.r.set.budget; b.calls.Load() != 0 || b.retries.Load() != 0 {
		t.Errorf("budget left with %d calls and %d retries in flight, want 0", b.calls.Load(), b.retries.Load())
	}
}

// TestRetryBudgetLoneCaller: a lone caller still retries (MinRetries), and
// Disabled turns the budget off.
func TestRetryBudgetLoneCaller(t *testing.T) {
	for _, b := range []RetryBudget{{}, {Disabled: true}, {Ratio: 0.01}} {
		h := newHarness(t, Config{Deployments: grp("g", "a", "b", "c")})
		for _, id := range []string{"a", "b", "c"} {
			h.client(id).setScript(step{err: perr(provider.ClassServer, 500)})
		}
		_, err := h.r.Do(t.Context(), chatReq("g"))
		var re *Error
		if !errors.As(err, &re) || len(re.Attempts) != 3 || re.BudgetRefused || re.Retries != 2 || !re.RetriesSpent {
			t.Errorf("budget %+v: err = %v (%+v), want 3 attempts, retries spent, none refused", b, err, re)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// deadlineClient hangs until its context ends, recording the deadline
// each call's context carried.
type deadlineClient struct {
	mu        sync.Mutex
	id        string
	deadlines []time.Duration // from the call's start; -1 for none
	calls     *atomic.Int64
}

func (d *deadlineClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	d.calls.Add(1)
	left := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	d.mu.Lock()
	d.deadlines = append(d.deadlines, left)
	d.mu.Unlock()
	<-ctx.Done()
	return nil, &provider.Error{Class: provider.ClassOf(ctx.Err()), Err: ctx.Err()}
}

func (d *deadlineClient) Stream(ctx context.Context, req *provider.Request) (provider.Stream, error) {
	_, err := d.Do(ctx, req)
	return nil, err
}

// TestHangingDeploymentBounded: with nothing configured an attempt carries
// the default timeout (5 minutes, not the client's 10 or none); a hung
// attempt is retried once, on another deployment, and the call's deadline
// cuts the rest.
func TestHangingDeploymentBounded(t *testing.T) {
	setup := func(t *testing.T, s Settings, ids ...string) (*Router, map[string]*deadlineClient, *atomic.Int64) {
		calls := new(atomic.Int64)
		clients := map[string]*deadlineClient{}
		for _, id := range ids {
			clients[id] = &deadlineClient{id: id, calls: calls}
		}
		h := newHarness(t, Config{Deployments: grp("g", ids...), Settings: s},
			WithClientFactory(func(c deployment.Config) (provider.Client, error) { return clients[c.ID], nil }))
		return h.r, clients, calls
	}
	t.Run("default attempt timeout", func(t *testing.T) {
		r, clients, _ := setup(t, Settings{}, "a")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { _, err := r.Do(ctx, chatReq("g")); done <- err }()
		waitFor(t, "the attempt", func() bool {
			clients["a"].mu.Lock()
			defer clients["a"].mu.Unlock()
			return len(clients["a"].deadlines) == 1
		})
		cancel()
		<-done
		got := clients["a"].deadlines[0]
		if got <= DefaultTimeout-time.Minute || got > DefaultTimeout {
			t.Errorf("attempt deadline in %s, want DefaultTimeout (%s)", got, DefaultTimeout)
		}
	})
	t.Run("a caller's later deadline is cut to CallTimeout", func(t *testing.T) {
		r, clients, _ := setup(t, Settings{Timeout: NoTimeout}, "a")
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		ctx2, cancel2 := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, err := r.Do(ctx2, chatReq("g")); done <- err }()
		waitFor(t, "the attempt", func() bool {
			clients["a"].mu.Lock()
			defer clients["a"].mu.Unlock()
			return len(clients["a"].deadlines) == 1
		})
		cancel2()
		<-done
		if got := clients["a"].deadlines[0]; got <= DefaultCallTimeout-time.Minute || got > DefaultCallTimeout {
			t.Errorf("attempt deadline in %s, want DefaultCallTimeout (%s)", got, DefaultCallTimeout)
		}
	})
	t.Run("hung attempt retried once elsewhere", func(t *testing.T) {
		r, clients, calls := setup(t, Settings{Timeout: 20 * time.Millisecond}, "a", "b", "c")
		_, err := r.Do(t.Context(), chatReq("g"))
		var re *Error
		if !errors.As(err, &re) || !errors.Is(err, provider.ErrTimeout) || !re.RetriesSpent {
			t.Fatalf("err = %v, want a timeout with the retries spent", err)
		}
		if calls.Load() != 2 || len(re.Attempts) != 2 || re.Attempts[0].Deployment == re.Attempts[1].Deployment {
			t.Errorf("attempts = %+v, want two, on two deployments", re.Attempts)
		}
		for id, c := range clients {
			if len(c.deadlines) > 1 {
				t.Errorf("hanging deployment %s attempted %d times", id, len(c.deadlines))
			}
		}
	})
	t.Run("alone, never twice", func(t *testing.T) {
		r, _, calls := setup(t, Settings{Timeout: 20 * time.Millisecond, MaxRetryWait: time.Hour}, "a")
		_, err := r.Do(t.Context(), chatReq("g"))
		if !errors.Is(err, provider.ErrTimeout) || calls.Load() != 1 {
			t.Errorf("err = %v after %d calls, want a timeout after 1", err, calls.Load())
		}
	})
	t.Run("short call deadline", func(t *testing.T) {
		r, clients, calls := setup(t, Settings{CallTimeout: 30 * time.Millisecond}, "a", "b", "c")
		_, err := r.Stream(t.Context(), chatReq("g"))
		if !errors.Is(err, provider.ErrTimeout) || calls.Load() != 1 {
			t.Errorf("err = %v after %d calls, want a timeout after 1", err, calls.Load())
		}
		for _, c := range clients {
			for _, d := range c.deadlines {
				if d > 30*time.Millisecond {
					t.Errorf("attempt deadline in %s, want within the call's 30ms", d)
				}
			}
		}
	})
}

// TestErrorSaysRetriesSpent: the final error counts the retries and
// fallbacks, says whether the router's retries were spent, and when a
// deployment is back.
func TestErrorSaysRetriesSpent(t *testing.T) {
	h := newHarness(t, Config{
		Deployments: append(grp("g", "a", "b"), dep("f", "x")),
		Settings:    Settings{Fallbacks: map[string][]string{"g": {"f"}}, NumRetries: new(1)},
	})
	for _, id := range []string{"a", "b", "x"} {
		h.client(id).setScript(step{err: perr(provider.ClassServer, 503)})
	}
	_, err := h.r.Do(t.Context(), chatReq("g"))
	var re *Error
	// One retry in g, one in the fallback group f.
	if !errors.As(err, &re) || re.Retries != 2 || re.Fallbacks != 1 || !re.RetriesSpent || re.BudgetRefused {
		t.Fatalf("err = %v (%+v), want 2 retries, 1 fallback, retries spent", err, re)
	}

	// A caller's mistake is not "spent": nothing would be retried.
	h.client("a").setScript(step{err: perr(provider.ClassBadRequest, 400)})
	h.client("b").setScript(step{err: perr(provider.ClassBadRequest, 400)})
	_, err = h.r.Do(t.Context(), chatReq("g"))
	if !errors.As(err, &re) || re.RetriesSpent {
		t.Errorf("bad request: RetriesSpent = %v, want false", re.RetriesSpent)
	}

	// All cooling down after failures: RetryAt says when one is back.
	h2 := newHarness(t, Config{Deployments: grp("g", "a"), Settings: Settings{NumRetries: new(0)}})
	h2.r.Deployment("a").SetCooldown(h2.clock.Now().Add(30*time.Second), "test")
	_, err = h2.r.Do(t.Context(), chatReq("g"))
	if !errors.As(err, &re) || !re.RetriesSpent || re.RetryIn != 30*time.Second {
		t.Errorf("all cooling down: %+v, want retries spent and RetryIn 30s", re)
	}
}

// TestDefaultMaxRetryWaitFailsFast: with nothing configured a call does
// not sit out a cooldown longer than DefaultMaxRetryWait (it used to wait
// up to 60s).
func TestDefaultMaxRetryWaitFailsFast(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	h.r.Deployment("a").SetCooldown(h.clock.Now().Add(5*time.Second), "test")
	_, err := h.r.Do(t.Context(), chatReq("g"))
	if !errors.Is(err, ErrAllCoolingDown) || len(h.clock.Sleeps()) != 0 {
		t.Errorf("err = %v, sleeps %v; want ErrAllCoolingDown at once", err, h.clock.Sleeps())
	}
}

// TestRetryBudgetBalance: fast failures cannot turn the budget's places
// over: 50 calls in flight pay for 10 retries in all, however quickly each
// ends; then the starved budget refuses even under light load until calls
// have paid for a retry again. A lone caller retries on credit.
func TestRetryBudgetBalance(t *testing.T) {
	b := newRetryBudget(RetryBudget{})
	for range 50 {
		b.enter()
	}
	granted := 0
	for range 100 {
		if b.acquire(false) {
			granted++
			b.release() // a fast failure: its place is free at once
		}
	}
	if granted != 10 {
		t.Errorf("retries granted to 50 calls = %d, want 10", granted)
	}
	for range 48 {
		b.leave()
	}
	if b.acquire(false) {
		t.Error("starved budget granted a retry under light load")
	}
	for range 5 { // five calls pay for one retry
		b.enter()
		b.leave()
	}
	if !b.acquire(false) {
		t.Error("refilled budget refused a retry")
	}
	b.release()

	lone := newRetryBudget(RetryBudget{})
	lone.enter()
	for i := range 6 {
		if !lone.acquire(false) {
			t.Fatalf("lone caller refused retry %d", i)
		}
		lone.release()
	}
}
