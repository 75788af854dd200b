package deployment_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// ratelimitAny stands for "some snapshot" in a table of wanted effects.
var ratelimitAny ratelimit.Snapshot

// end runs one admitted call through d at now and returns End's effects.
func end(t *testing.T, d *deployment.Deployment, now time.Time, o deployment.Outcome) deployment.Effects {
	t.Helper()
	a, err := d.Begin(now, 10)
	if err != nil {
		t.Fatalf("Begin at t0%+v: %v", now.Sub(t0), err)
	}
	return a.End(now, o)
}

func rateLimited(retryAfter time.Duration) *provider.Error {
	e := perr(provider.ClassRateLimited, 429)
	e.RetryAfter = retryAfter
	return e
}

func TestEndReportsEffects(t *testing.T) {
	ms := time.Millisecond
	type step struct {
		at   time.Duration // after t0
		o    deployment.Outcome
		want deployment.Effects // Snapshot compared as nil / non-nil
	}
	headers := http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"90"}}
	for _, tc := range []struct {
		name  string
		cfg   deployment.Config
		set   deployment.Settings
		steps []step
	}{
		{"success changes nothing", deployment.Config{}, deployment.Settings{}, []step{
			{0, deployment.Outcome{Latency: 100 * ms}, deployment.Effects{}},
		}},
		{"rate-limit headers give a snapshot each time they are newer", deployment.Config{}, deployment.Settings{}, []step{
			{0, deployment.Outcome{Header: headers}, deployment.Effects{Snapshot: &ratelimitAny}},
			{ms, deployment.Outcome{Header: headers}, deployment.Effects{Snapshot: &ratelimitAny}},
		}},
		{"429 with a hint starts a cooldown", deployment.Config{}, deployment.Settings{}, []step{
			{0, fail(rateLimited(2 * time.Second)), deployment.Effects{Cooldown: t0.Add(2 * time.Second), CooldownStarted: true}},
		}},
		{"failures trip once the allowed ones are spent", deployment.Config{}, deployment.Settings{AllowedFails: new(2)}, []step{
			{0, fail(perr(provider.ClassServer, 500)), deployment.Effects{}},
			{ms, fail(perr(provider.ClassServer, 500)), deployment.Effects{}},
			{2 * ms, fail(perr(provider.ClassServer, 500)),
				deployment.Effects{Cooldown: t0.Add(2*ms + deployment.DefaultCooldownTime), CooldownStarted: true, Tripped: true}},
		}},
		{"new(0) allowed fails trips on the first", deployment.Config{}, deployment.Settings{AllowedFails: new(0)}, []step{
			{0, fail(perr(provider.ClassServer, 500)),
				deployment.Effects{Cooldown: t0.Add(deployment.DefaultCooldownTime), CooldownStarted: true, Tripped: true}},
		}},
		{"auth trips for the auth cooldown", deployment.Config{}, deployment.Settings{}, []step{
			{0, fail(perr(provider.ClassAuth, 401)),
				deployment.Effects{Cooldown: t0.Add(deployment.DefaultAuthCooldown), CooldownStarted: true, Tripped: true}},
		}},
		{"the caller's errors change nothing", deployment.Config{}, deployment.Settings{AllowedFails: new(0)}, []step{
			{0, fail(perr(provider.ClassBadRequest, 400)), deployment.Effects{}},
			{0, fail(perr(provider.ClassContextWindow, 400)), deployment.Effects{}},
		}},
		{"an outcome the caller ended is not counted", deployment.Config{}, deployment.Settings{AllowedFails: new(0)}, []step{
			{0, deployment.Outcome{Err: perr(provider.ClassTimeout, 0), CallerEnded: true}, deployment.Effects{}},
			{ms, deployment.Outcome{Err: perr(provider.ClassTimeout, 0), CallerEnded: true}, deployment.Effects{}},
		}},
		{"a probe's success recovers, its failure trips again", deployment.Config{}, deployment.Settings{AllowedFails: new(0)}, []step{
			{0, fail(perr(provider.ClassServer, 500)),
				deployment.Effects{Cooldown: t0.Add(deployment.DefaultCooldownTime), CooldownStarted: true, Tripped: true}},
			{deployment.DefaultCooldownTime, fail(perr(provider.ClassServer, 500)),
				deployment.Effects{Cooldown: t0.Add(2 * deployment.DefaultCooldownTime), CooldownStarted: true, Tripped: true}},
			{2 * deployment.DefaultCooldownTime, deployment.Outcome{}, deployment.Effects{Recovered: true}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDep(t, tc.cfg, tc.set)
			for i, s := range tc.steps {
				got := end(t, d, t0.Add(s.at), s.o)
				if (got.Snapshot != nil) != (s.want.Snapshot != nil) {
					t.Errorf("step %d: Snapshot = %v, want set: %v", i, got.Snapshot, s.want.Snapshot != nil)
				}
				if !sameEffects(got, s.want) {
					t.Errorf("step %d: effects = %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
}

// sameEffects compares effects, their times by Equal and their snapshots
// by being set.
func sameEffects(a, b deployment.Effects) bool {
	return a.Cooldown.Equal(b.Cooldown) && a.CooldownStarted == b.CooldownStarted &&
		a.Tripped == b.Tripped && a.Recovered == b.Recovered && (a.Snapshot == nil) == (b.Snapshot == nil)
}

// TestCooldownExtension: attempts in flight when a cooldown starts extend
// it with a later hint, and change nothing with an earlier one.
func TestCooldownExtension(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	var as [3]deployment.Attempt
	for i := range as {
		a, err := d.Begin(t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		as[i] = a
	}
	for i, c := range []struct {
		hint time.Duration
		want deployment.Effects
	}{
		{2 * time.Second, deployment.Effects{Cooldown: t0.Add(2 * time.Second), CooldownStarted: true}},
		{3 * time.Second, deployment.Effects{Cooldown: t0.Add(3 * time.Second)}},
		{time.Second, deployment.Effects{}},
	} {
		if got := as[i].End(t0, fail(rateLimited(c.hint))); !sameEffects(got, c.want) {
			t.Errorf("retry-after %s: effects = %+v, want %+v", c.hint, got, c.want)
		}
	}
}

func TestSnapshotEffectIsTheStoredSnapshot(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	fx := end(t, d, t0, deployment.Outcome{Header: http.Header{"X-Ratelimit-Remaining-Requests": {"7"}}})
	if fx.Snapshot == nil || fx.Snapshot != d.Snapshot() {
		t.Fatalf("Snapshot = %p, want the deployment's newest %p", fx.Snapshot, d.Snapshot())
	}
	if fx.Snapshot.RemainingRequests != 7 {
		t.Errorf("RemainingRequests = %d, want 7", fx.Snapshot.RemainingRequests)
	}
}

// TestOneCooldownStartPerIncident: of many attempts that fail at once and
// each cool the deployment down, exactly one reports the start, so that a
// cooldown is logged and counted once.
func TestOneCooldownStartPerIncident(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	const n = 32
	attempts := make([]deployment.Attempt, n)
	for i := range attempts {
		a, err := d.Begin(t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		attempts[i] = a
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		started int
	)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each 429 hints a slightly later reset: each may extend.
			fx := attempts[i].End(t0, fail(rateLimited(time.Second+time.Duration(i)*time.Millisecond)))
			if fx.CooldownStarted {
				mu.Lock()
				started++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if started != 1 {
		t.Errorf("%d attempts reported the cooldown's start, want 1", started)
	}
}

// TestCallerEndedTimeoutAddsNoPenalty: a call the caller's deadline ended
// says nothing of the deployment's speed.
func TestCallerEndedTimeoutAddsNoPenalty(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	end(t, d, t0, deployment.Outcome{Err: perr(provider.ClassTimeout, 0), CallerEnded: true})
	if got := d.Latency(); got != 0 {
		t.Errorf("Latency = %s after a call the caller ended, want none", got)
	}
	end(t, d, t0, deployment.Outcome{Err: perr(provider.ClassTimeout, 0)})
	if got := d.Latency(); got == 0 {
		t.Error("Latency = 0 after a timeout of the deployment's own, want a penalty sample")
	}
}

// TestTrippedOncePerIncident: two calls in flight both get a 401; the
// first opens the breaker, the second finds it open and does not report a
// trip of its own.
func TestTrippedOncePerIncident(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	a1, err := d.Begin(t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := d.Begin(t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	fx1 := a1.End(t0, fail(perr(provider.ClassAuth, 401)))
	time.Sleep(time.Millisecond) // wall clock: gobreaker's open state lasts 1ns
	fx2 := a2.End(t0.Add(time.Millisecond), fail(perr(provider.ClassAuth, 401)))
	if !fx1.Tripped || !fx1.CooldownStarted {
		t.Fatalf("first 401: %+v, want a trip that starts a cooldown", fx1)
	}
	if fx2.Tripped || fx2.CooldownStarted {
		t.Errorf("second 401 on an open breaker: %+v, want no trip and no new cooldown", fx2)
	}
}

// TestTripDuringAThrottleIsReported: a 401 that lands while a 429's short
// cooldown runs lengthens it to the auth cooldown and opens the breaker;
// it is no new cooldown, but it is a trip, which a router announces.
func TestTripDuringAThrottleIsReported(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	a1, _ := d.Begin(t0, 10)
	a2, _ := d.Begin(t0, 10)
	if fx := a1.End(t0, fail(rateLimited(2*time.Second))); !fx.CooldownStarted || fx.Tripped {
		t.Fatalf("429: %+v, want a cooldown started without a trip", fx)
	}
	fx := a2.End(t0.Add(time.Millisecond), fail(perr(provider.ClassAuth, 401)))
	if !fx.Tripped || fx.CooldownStarted || !fx.Cooldown.Equal(t0.Add(time.Millisecond+deployment.DefaultAuthCooldown)) {
		t.Errorf("401 during the throttle: %+v, want a trip extending the cooldown to the auth cooldown", fx)
	}
}

// TestHeaderAtDatesTheSnapshot: a stream's headers, read when it opened,
// are dated then, so a fresher snapshot from a call that ended meanwhile
// is kept.
func TestHeaderAtDatesTheSnapshot(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	stream, _ := d.Begin(t0, 10)
	h := func(remaining string) http.Header {
		return http.Header{"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {remaining}}
	}
	end(t, d, t0.Add(30*time.Second), deployment.Outcome{Header: h("3")})
	fx := stream.End(t0.Add(60*time.Second), deployment.Outcome{Stream: true, Header: h("90"), HeaderAt: t0})
	if fx.Snapshot != nil || d.Snapshot().RemainingRequests != 3 {
		t.Errorf("the stream's older headers: effect %v, remaining %d; want the fresher 3 kept", fx.Snapshot, d.Snapshot().RemainingRequests)
	}
}
