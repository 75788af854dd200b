package deployment_test

import (
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

func TestLatencyAverages(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name         string
		outcomes     []deployment.Outcome
		latency, ttf time.Duration
	}{
		{"first sample", []deployment.Outcome{{Latency: 100 * ms}}, 100 * ms, 0},
		{"alpha 0.3", []deployment.Outcome{{Latency: 100 * ms}, {Latency: 200 * ms}}, 130 * ms, 0},
		{"stream feeds TTFT only", []deployment.Outcome{{Stream: true, TTFT: 50 * ms, Latency: 9 * time.Second}}, 0, 50 * ms},
		{"server error adds no sample", []deployment.Outcome{{Latency: 100 * ms}, {Err: perr(provider.ClassServer, 500), Latency: ms}}, 100 * ms, 0},
		{"caller error adds no sample", []deployment.Outcome{{Latency: 100 * ms}, {Err: perr(provider.ClassBadRequest, 400), Latency: ms}}, 100 * ms, 0},
		{"timeout adds a penalty", []deployment.Outcome{{Latency: 100 * ms}, {Err: perr(provider.ClassTimeout, 0)}}, 70*ms + 3*time.Second, 0},
		{"stream timeout penalises TTFT", []deployment.Outcome{{Stream: true, Err: perr(provider.ClassTimeout, 0)}}, 0, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(100)})
			for _, o := range tc.outcomes {
				call(t, d, t0, o)
			}
			if got := d.Latency(); !near(got, tc.latency) {
				t.Errorf("Latency = %v, want %v", got, tc.latency)
			}
			if got := d.TTFT(); !near(got, tc.ttf) {
				t.Errorf("TTFT = %v, want %v", got, tc.ttf)
			}
		})
	}
}

func near(a, b time.Duration) bool { return math.Abs(float64(a-b)) <= 1000 }

func TestLatencyForgetsAfterQuietSpell(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{LatencyHalfLife: 10 * time.Second})
	call(t, d, t0, deployment.Outcome{Latency: 100 * time.Millisecond})
	call(t, d, t0, deployment.Outcome{Latency: 30 * time.Second}) // one slow outlier
	if d.Latency() < 9*time.Second {
		t.Fatalf("Latency after the outlier = %v", d.Latency())
	}
	// A minute later (6 half-lives) a normal sample all but replaces it.
	later := t0.Add(time.Minute)
	call(t, d, later, deployment.Outcome{Latency: 100 * time.Millisecond})
	if got := d.Latency(); got > 250*time.Millisecond {
		t.Errorf("Latency after a quiet minute and one fast sample = %v, want < 250ms", got)
	}
	if _, at := d.LatencyFor(false); at != later.UnixNano() {
		t.Errorf("latency sampled at %v, want %v", time.Unix(0, at), later)
	}
}

func rlHeader(limit, remaining, reset string) http.Header {
	return http.Header{
		"X-Ratelimit-Limit-Requests":     {limit},
		"X-Ratelimit-Remaining-Requests": {remaining},
		"X-Ratelimit-Reset-Requests":     {reset},
	}
}

func TestExhaustedUntilReset(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	call(t, d, t0, deployment.Outcome{Header: rlHeader("100", "0", "10s")})
	if s := d.Snapshot(); s == nil || s.RemainingRequests != 0 || s.LimitRequests != 100 {
		t.Fatalf("Snapshot = %+v", s)
	}
	// 100 requests refill over 10s: one fits again after 100ms, not after
	// the full 10s.
	for _, at := range []time.Duration{0, 50 * time.Millisecond, 100*time.Millisecond - 1} {
		wantReason(t, d, t0.Add(at), deployment.ReasonExhausted)
		if h := d.Headroom(t0.Add(at)); h != 0 {
			t.Errorf("Headroom at +%v = %v, want 0", at, h)
		}
	}
	if r := call(t, d, t0.Add(50*time.Millisecond), deployment.Outcome{}); r != deployment.ReasonExhausted {
		t.Errorf("Begin while exhausted: %v", r)
	}
	wantReason(t, d, t0.Add(100*time.Millisecond), deployment.ReasonOK)
	wantReason(t, d, t0.Add(10*time.Second), deployment.ReasonOK)
}

func TestHeadroom(t *testing.T) {
	// 100 requests per window, 50 left, full again in 60s.
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	if h := d.Headroom(t0); h != 1 {
		t.Fatalf("Headroom with nothing known = %v, want 1", h)
	}
	call(t, d, t0, deployment.Outcome{Header: rlHeader("100", "50", "60s")})
	check := func(at time.Duration, want float64) {
		t.Helper()
		if h := d.Headroom(t0.Add(at)); math.Abs(h-want) > 1e-9 {
			t.Errorf("Headroom at +%v = %v, want %v", at, h, want)
		}
	}
	check(0, 0.50)
	for range 5 { // sent since the snapshot, not answered yet
		if _, err := d.Begin(t0, 1); err != nil {
			t.Fatal(err)
		}
	}
	check(0, 0.45)
	check(30*time.Second, 0.70) // 50 + 50·30/60 = 75 left, less 5
	// A newer snapshot replaces the count of calls since.
	call(t, d, t0.Add(time.Second), deployment.Outcome{Header: rlHeader("100", "80", "60s")})
	check(time.Second, 0.80)
}

func TestRequestsSinceSnapshotExhaust(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	call(t, d, t0, deployment.Outcome{Header: rlHeader("1000", "2", "60s")})
	for range 2 {
		if _, err := d.Begin(t0, 1); err != nil {
			t.Fatal(err)
		}
	}
	wantReason(t, d, t0, deployment.ReasonExhausted)
	// 60ms later the bucket has refilled by one request (998·0.06/60 ≈ 1).
	wantReason(t, d, t0.Add(61*time.Millisecond), deployment.ReasonOK)
}

func TestRemainingOnlyHeaders(t *testing.T) {
	// Azure sends remaining counts only: the largest seen stands in for the
	// limit.
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	h := http.Header{"X-Ratelimit-Remaining-Requests": {"200"}}
	call(t, d, t0, deployment.Outcome{Header: h})
	h = http.Header{"X-Ratelimit-Remaining-Requests": {"50"}}
	call(t, d, t0.Add(time.Second), deployment.Outcome{Header: h})
	if got := d.Headroom(t0.Add(time.Second)); math.Abs(got-0.25) > 1e-9 {
		t.Errorf("Headroom = %v, want 0.25", got)
	}
}

func TestLocalLimits(t *testing.T) {
	t.Run("rpm", func(t *testing.T) {
		d := newDep(t, deployment.Config{RPM: 2}, deployment.Settings{})
		call(t, d, t0, deployment.Outcome{})
		call(t, d, t0, deployment.Outcome{})
		wantReason(t, d, t0, deployment.ReasonRPM)
		if r := call(t, d, t0, deployment.Outcome{}); r != deployment.ReasonRPM {
			t.Fatalf("third Begin: %v, want rpm_limit", r)
		}
		if h := d.Headroom(t0); h != 0 {
			t.Errorf("Headroom = %v, want 0", h)
		}
		wantReason(t, d, t0.Add(30*time.Second), deployment.ReasonOK) // one refilled
		if h := d.Headroom(t0.Add(30 * time.Second)); math.Abs(h-0.5) > 1e-6 {
			t.Errorf("Headroom after 30s = %v, want 0.5", h)
		}
	})
	t.Run("tpm", func(t *testing.T) {
		d := newDep(t, deployment.Config{TPM: 1000}, deployment.Settings{})
		if r := d.Available(t0, 1001); r != deployment.ReasonTPM {
			t.Errorf("prompt over the tpm: %v", r)
		}
		a, err := d.Begin(t0, 600)
		if err != nil {
			t.Fatal(err)
		}
		if r := d.Available(t0, 500); r != deployment.ReasonTPM {
			t.Errorf("after reserving 600 of 1000, 500 more: %v, want tpm_limit", r)
		}
		a.End(t0, deployment.Outcome{Usage: provider.Usage{TotalTokens: 100}})
		if r := d.Available(t0, 500); r != deployment.ReasonOK {
			t.Errorf("after settling at 100 tokens: %v", r)
		}
		if h := d.Headroom(t0); math.Abs(h-0.9) > 1e-6 {
			t.Errorf("Headroom = %v, want 0.9", h)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		d := newDep(t, deployment.Config{MaxParallelRequests: 2}, deployment.Settings{})
		a1, _ := d.Begin(t0, 1)
		_, _ = d.Begin(t0, 1)
		wantReason(t, d, t0, deployment.ReasonParallel)
		if r := call(t, d, t0, deployment.Outcome{}); r != deployment.ReasonParallel {
			t.Fatalf("third Begin: %v", r)
		}
		a1.End(t0, deployment.Outcome{})
		wantReason(t, d, t0, deployment.ReasonOK)
	})
	t.Run("context window", func(t *testing.T) {
		d := newDep(t, deployment.Config{Info: deployment.ModelInfo{MaxInputTokens: 1000}}, deployment.Settings{})
		if r := d.Available(t0, 1000); r != deployment.ReasonOK {
			t.Errorf("1000 tokens: %v", r)
		}
		if r := d.Available(t0, 1001); r != deployment.ReasonContextWindow {
			t.Errorf("1001 tokens: %v", r)
		}
	})
}

func TestEndOnce(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	a, _ := d.Begin(t0, 1)
	a.End(t0, deployment.Outcome{})
	a.End(t0, deployment.Outcome{})
	var zero deployment.Attempt
	zero.End(t0, deployment.Outcome{})
	if got := d.InFlight(); got != 0 {
		t.Errorf("InFlight = %d, want 0", got)
	}
}

// TestConcurrentBeginEnd drives one deployment from many goroutines with
// mixed outcomes: the in-flight count must stay exact and the parallel
// limit must hold.
func TestConcurrentBeginEnd(t *testing.T) {
	const (
		workers = 64
		calls   = 500
		limit   = 8
	)
	d := newDep(t, deployment.Config{MaxParallelRequests: limit, RPM: 1 << 30, TPM: 1 << 30}, deployment.Settings{AllowedFails: new(1 << 20)})
	var running, peak, clock atomic.Int64
	tick := func() time.Time { return t0.Add(time.Duration(clock.Add(1)) * time.Microsecond) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				now := tick()
				a, err := d.Begin(now, 10)
				if err != nil {
					var ue *deployment.UnavailableError
					if !errors.As(err, &ue) || ue.Reason != deployment.ReasonParallel {
						t.Errorf("Begin: %v", err)
						return
					}
					continue
				}
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				_ = d.Available(now, 10)
				_ = d.Headroom(now)
				o := deployment.Outcome{Latency: time.Duration(w+1) * time.Millisecond, Header: rlHeader("1000", "900", "1s")}
				if i%7 == 0 {
					o.Err = perr(provider.ClassServer, 500)
				}
				running.Add(-1)
				a.End(tick(), o)
			}
		}()
	}
	wg.Wait()
	if got := d.InFlight(); got != 0 {
		t.Errorf("InFlight after all calls = %d, want 0", got)
	}
	if p := peak.Load(); p > limit {
		t.Errorf("%d calls ran at once, limit %d", p, limit)
	}
}

func TestAllocations(t *testing.T) {
	d := newDep(t, deployment.Config{RPM: 1 << 20, TPM: 1 << 30, MaxParallelRequests: 100}, deployment.Settings{})
	hdr := rlHeader("1000", "900", "1m")
	call(t, d, t0, deployment.Outcome{Header: hdr})
	for name, tc := range map[string]struct {
		f    func()
		want float64
	}{
		"Available": {func() { d.Available(t0, 100) }, 0},
		"Headroom":  {func() { d.Headroom(t0) }, 0},
		"Begin/End": {func() {
			a, _ := d.Begin(t0, 100)
			a.End(t0, deployment.Outcome{Latency: time.Second})
		}, 0},
		"Begin/End with headers": {func() { // the snapshot it keeps
			a, _ := d.Begin(t0, 100)
			a.End(t0, deployment.Outcome{Latency: time.Second, Header: hdr})
		}, 1},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got != tc.want {
			t.Errorf("%s: %v allocations, want %v", name, got, tc.want)
		}
	}
}

func TestRetryHintKeepsCounts(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{AllowedFails: new(10)})
	call(t, d, t0, deployment.Outcome{Header: rlHeader("100", "40", "60s")})
	e := perr(provider.ClassServer, 503)
	e.Header = http.Header{"Retry-After": {"3"}}
	call(t, d, t0, fail(e))
	if s := d.Snapshot(); s == nil || s.RemainingRequests != 40 {
		t.Errorf("a bare Retry-After replaced the snapshot: %+v", s)
	}
	wantReason(t, d, t0.Add(3*time.Second-1), deployment.ReasonExhausted)
	wantReason(t, d, t0.Add(3*time.Second), deployment.ReasonOK)
}
