package deployment_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func newDep(t testing.TB, cfg deployment.Config, s deployment.Settings) *deployment.Deployment {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "openai/gpt-4o"
	}
	d, err := deployment.New(cfg, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func perr(c provider.Class, status int) *provider.Error {
	return &provider.Error{Class: c, StatusCode: status}
}

// call runs one call through d at now with outcome o, reporting why it was
// not admitted.
func call(t testing.TB, d *deployment.Deployment, now time.Time, o deployment.Outcome) deployment.Reason {
	t.Helper()
	a, err := d.Begin(now, 10)
	if err != nil {
		var ue *deployment.UnavailableError
		if !errors.As(err, &ue) {
			t.Fatalf("Begin: %v is not an *UnavailableError", err)
		}
		if ue.Reason == deployment.ReasonOK {
			t.Fatal("Begin failed with ReasonOK")
		}
		return ue.Reason
	}
	a.End(now, o)
	return deployment.ReasonOK
}

func fail(err error) deployment.Outcome { return deployment.Outcome{Err: err} }

func wantReason(t *testing.T, d *deployment.Deployment, now time.Time, want deployment.Reason) {
	t.Helper()
	if got := d.Available(now, 0); got != want {
		t.Fatalf("Available at t0%+v = %v, want %v", now.Sub(t0), got, want)
	}
}

func TestFailuresCountByClass(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		counts bool
	}{
		{"500", perr(provider.ClassServer, 500), true},
		{"timeout", perr(provider.ClassTimeout, 408), true},
		{"deadline", context.DeadlineExceeded, true},
		{"connection", perr(provider.ClassConnection, 0), true},
		{"404", perr(provider.ClassNotFound, 404), true},
		{"unclassified", errors.New("boom"), true},
		{"429 without hint", perr(provider.ClassRateLimited, 429), true},
		{"400", perr(provider.ClassBadRequest, 400), false},
		{"context window", perr(provider.ClassContextWindow, 400), false},
		{"content policy", perr(provider.ClassContentPolicy, 400), false},
		{"canceled by caller", context.Canceled, false},
		{"409", perr(provider.ClassConflict, 409), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(3)})
			for i := range 3 {
				if r := call(t, d, t0, fail(tc.err)); r != deployment.ReasonOK {
					t.Fatalf("call %d: %v", i, r)
				}
			}
			wantReason(t, d, t0, deployment.ReasonOK) // AllowedFails failures are allowed
			for range 10 {
				call(t, d, t0, fail(tc.err))
			}
			if tc.counts {
				wantReason(t, d, t0, deployment.ReasonCooldown)
				if got, want := d.CooldownUntil(), t0.Add(deployment.DefaultCooldownTime); !got.Equal(want) {
					t.Errorf("CooldownUntil = %v, want %v", got, want)
				}
			} else {
				wantReason(t, d, t0, deployment.ReasonOK)
				if !d.CooldownUntil().IsZero() {
					t.Errorf("a caller's error set a cooldown until %v", d.CooldownUntil())
				}
			}
		})
	}
}

func TestFailureWindow(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(2), FailureWindow: time.Minute})
	e := fail(perr(provider.ClassServer, 500))
	for _, at := range []time.Duration{0, 30 * time.Second, 61 * time.Second} {
		call(t, d, t0.Add(at), e)
	}
	// At 61s the failure at 0 has left the window: 2 in it.
	wantReason(t, d, t0.Add(61*time.Second), deployment.ReasonOK)
	call(t, d, t0.Add(62*time.Second), e) // 30s, 61s, 62s: 3 > 2
	wantReason(t, d, t0.Add(62*time.Second), deployment.ReasonCooldown)
}

func TestBreakerCycle(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(1), CooldownTime: new(5 * time.Second)})
	e := fail(perr(provider.ClassServer, 503))
	call(t, d, t0, e)
	call(t, d, t0, e) // trips: cooldown until t0+5s

	end := t0.Add(5 * time.Second)
	wantReason(t, d, end.Add(-time.Nanosecond), deployment.ReasonCooldown)
	if r := call(t, d, end.Add(-time.Nanosecond), deployment.Outcome{}); r != deployment.ReasonCooldown {
		t.Fatalf("Begin during cooldown: %v", r)
	}
	wantReason(t, d, end, deployment.ReasonOK)

	// Half-open: exactly one probe.
	probe, err := d.Begin(end, 10)
	if err != nil || !probe.Probe() {
		t.Fatalf("first call after the cooldown: probe=%v err=%v, want the probe", probe.Probe(), err)
	}
	for range 3 {
		if r := call(t, d, end, deployment.Outcome{}); r != deployment.ReasonBreakerOpen {
			t.Fatalf("second call while the probe is in flight: %v, want breaker_open", r)
		}
	}
	wantReason(t, d, end, deployment.ReasonBreakerOpen)

	// The probe fails: open again, for a new cooldown from now.
	failAt := end.Add(2 * time.Second)
	probe.End(failAt, e)
	wantReason(t, d, failAt.Add(5*time.Second-time.Nanosecond), deployment.ReasonCooldown)
	end = failAt.Add(5 * time.Second)

	// A probe with a caller's error says nothing: the next call probes.
	probe, _ = d.Begin(end, 10)
	if !probe.Probe() {
		t.Fatal("no probe after the second cooldown")
	}
	probe.End(end, fail(perr(provider.ClassBadRequest, 400)))
	wantReason(t, d, end, deployment.ReasonOK)

	// The probe succeeds: closed, calls flow, failures are allowed again.
	probe, _ = d.Begin(end, 10)
	if !probe.Probe() {
		t.Fatal("no probe after a released probe")
	}
	probe.End(end, deployment.Outcome{Latency: time.Second})
	var attempts []deployment.Attempt
	for range 5 {
		a, err := d.Begin(end, 10)
		if err != nil || a.Probe() {
			t.Fatalf("after the breaker closed: probe=%v err=%v", a.Probe(), err)
		}
		attempts = append(attempts, a)
	}
	for i := range attempts {
		attempts[i].End(end, deployment.Outcome{})
	}
	call(t, d, end, e) // 1 failure allowed
	wantReason(t, d, end, deployment.ReasonOK)
}

func TestStaleOutcomesDoNotCount(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(1)})
	e := fail(perr(provider.ClassServer, 500))
	var old []deployment.Attempt
	for range 4 {
		a, err := d.Begin(t0, 1)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, a)
	}
	call(t, d, t0, e)
	call(t, d, t0, e) // trip
	end := t0.Add(deployment.DefaultCooldownTime)
	probe, _ := d.Begin(end, 1)
	probe.End(end, deployment.Outcome{}) // closes
	// Calls begun before the trip fail now: they belong to an older state.
	for i := range old {
		old[i].End(end, e)
	}
	wantReason(t, d, end, deployment.ReasonOK)
	if got := d.InFlight(); got != 0 {
		t.Errorf("InFlight = %d, want 0", got)
	}
}

func TestRateLimitCooldown(t *testing.T) {
	t.Run("retry-after", func(t *testing.T) {
		d := newDep(t, deployment.Config{}, deployment.Settings{})
		e := perr(provider.ClassRateLimited, 429)
		e.RetryAfter = 20 * time.Second
		call(t, d, t0, fail(e))
		wantReason(t, d, t0.Add(20*time.Second-time.Nanosecond), deployment.ReasonCooldown)
		wantReason(t, d, t0.Add(20*time.Second), deployment.ReasonOK)
		if a, _ := d.Begin(t0.Add(20*time.Second), 1); a.Probe() {
			t.Error("a throttle opened the breaker")
		}
	})
	t.Run("reset header", func(t *testing.T) {
		d := newDep(t, deployment.Config{}, deployment.Settings{})
		e := perr(provider.ClassRateLimited, 429)
		e.Header = http.Header{
			"X-Ratelimit-Limit-Requests":     {"100"},
			"X-Ratelimit-Remaining-Requests": {"0"},
			"X-Ratelimit-Reset-Requests":     {"7s"},
		}
		call(t, d, t0, fail(e))
		// 100 requests refill over 7s: one fits again after 70ms.
		if r := d.Available(t0.Add(70*time.Millisecond-time.Microsecond), 0); r == deployment.ReasonOK {
			t.Fatal("available before one request refilled")
		}
		if got := d.ReadyAt(); !got.Equal(t0.Add(70 * time.Millisecond)) {
			t.Errorf("ReadyAt = %v, want t0+70ms", got.Sub(t0))
		}
		wantReason(t, d, t0.Add(70*time.Millisecond), deployment.ReasonOK)
	})
}

func TestLongCooldowns(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  deployment.Config
		err  error
		want time.Duration
	}{
		{"401", deployment.Config{}, perr(provider.ClassAuth, 401), deployment.DefaultAuthCooldown},
		{"403", deployment.Config{}, perr(provider.ClassAuth, 403), deployment.DefaultAuthCooldown},
		{"quota", deployment.Config{}, perr(provider.ClassQuotaExhausted, 429), deployment.DefaultQuotaCooldown},
		{"own cooldown time", deployment.Config{CooldownTime: 30 * time.Second}, perr(provider.ClassServer, 500), 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDep(t, tc.cfg, deployment.Settings{AllowedFails: new(1)})
			call(t, d, t0, fail(tc.err))
			if tc.cfg.CooldownTime > 0 {
				call(t, d, t0, fail(tc.err))
			}
			wantReason(t, d, t0.Add(tc.want-time.Nanosecond), deployment.ReasonCooldown)
			wantReason(t, d, t0.Add(tc.want), deployment.ReasonOK)
			if a, _ := d.Begin(t0.Add(tc.want), 1); !a.Probe() {
				t.Error("the first call after the cooldown is not a probe")
			}
		})
	}
}

func TestSetCooldownNeverShortens(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	d.SetCooldown(t0.Add(time.Minute), "shared")
	d.SetCooldown(t0.Add(time.Second), "shorter")
	if got := d.CooldownUntil(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("CooldownUntil = %v, want t0+1m", got.Sub(t0))
	}
	// A trip with a shorter cooldown keeps the longer one too.
	e := fail(perr(provider.ClassServer, 500))
	for range 4 {
		call(t, d, t0, e)
	}
	if got := d.CooldownUntil(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a 5s trip CooldownUntil = %v, want t0+1m", got.Sub(t0))
	}
	d.SetCooldown(t0.Add(2*time.Minute), "longer")
	wantReason(t, d, t0.Add(2*time.Minute-time.Nanosecond), deployment.ReasonCooldown)
}

// TestHalfOpenAdmitsOneProbeConcurrently races many callers at a deployment
// whose cooldown just ended: exactly one gets through.
func TestHalfOpenAdmitsOneProbeConcurrently(t *testing.T) {
	for round := range 20 {
		d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(1)})
		e := fail(perr(provider.ClassServer, 500))
		call(t, d, t0, e)
		call(t, d, t0, e)
		end := t0.Add(deployment.DefaultCooldownTime)
		var (
			wg       sync.WaitGroup
			admitted atomic.Int64
			start    = make(chan struct{})
		)
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if a, err := d.Begin(end, 1); err == nil {
					admitted.Add(1)
					if !a.Probe() {
						t.Error("admitted a call that is not the probe")
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := admitted.Load(); n != 1 {
			t.Fatalf("round %d: %d calls admitted while half-open, want 1", round, n)
		}
	}
}
