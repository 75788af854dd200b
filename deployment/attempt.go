package deployment

import (
	"errors"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// Outcome is what happened to one call, reported to Attempt.End.
type Outcome struct {
	// Err is the call's error, nil on success. Its provider.Class decides
	// what it does to the deployment's health.
	Err error
	// Latency is the time the call took. It feeds Latency for successful
	// non-streaming calls.
	Latency time.Duration
	// TTFT is a stream's time to first token. It feeds TTFT for successful
	// streaming calls.
	TTFT time.Duration
	// Stream reports whether the call was streaming.
	Stream bool
	// Usage is the token usage the upstream reported; its total settles
	// the local tpm reservation.
	Usage provider.Usage
	// Header is the upstream's response header, read for rate-limit
	// information. When nil, the Header of a *provider.Error in Err is used.
	Header http.Header
	// HeaderAt is when Header was received, which dates the rate-limit
	// snapshot read from it; zero means End's time. A stream's headers
	// arrive when it opens, long before it ends.
	HeaderAt time.Time
	// CallerEnded reports that the caller ended the call (its context was
	// canceled or its deadline passed): whatever Err says, the outcome says
	// nothing about the deployment's health and is not counted.
	CallerEnded bool
}

// Effects is what ending an attempt did to its deployment, so that the
// caller can act on it (log a cooldown once, share it with other replicas,
// count it in metrics) instead of comparing the state before and after.
type Effects struct {
	// Cooldown is the end of the cooldown this attempt started or
	// extended, zero when it changed none.
	Cooldown time.Time
	// CooldownStarted reports that the deployment was not cooling down
	// before this attempt: a new incident rather than an extension. Of
	// concurrent attempts that cool a deployment down, exactly one
	// reports it.
	CooldownStarted bool
	// Tripped reports that the attempt opened the circuit breaker: one
	// failure too many, a 401/403 or insufficient_quota while it was
	// closed, or a failed half-open probe. Of concurrent failures that
	// trip a deployment, one reports it. A trip during a cooldown that was
	// already running (a 429's throttle, say) lengthens it without
	// CooldownStarted: announce a cooldown on CooldownStarted or Tripped.
	Tripped bool
	// Recovered reports that the attempt was a half-open probe whose
	// success closed the breaker.
	Recovered bool
	// Snapshot is the rate-limit snapshot read from the attempt's headers
	// when it became the deployment's newest, nil otherwise. It must not be
	// modified.
	Snapshot *ratelimit.Snapshot
}

// Attempt is one call in progress on a deployment, made by Begin. End must
// be called exactly once; later calls do nothing. An Attempt is not safe for
// concurrent use.
type Attempt struct {
	d     *Deployment
	res   ratelimit.Reservation
	est   int
	gen   uint64
	done  func(error) // set for a half-open probe: reports to gobreaker
	ended bool
}

// errRelease is reported to gobreaker for a probe whose outcome says
// nothing about the deployment's health; it is excluded from its counts, so
// the next call may probe instead.
var errRelease = errors.New("deployment: outcome not counted")

// errTrip is reported to gobreaker to open the breaker.
var errTrip = errors.New("deployment: tripped")

// Begin starts a call estimated at estTokens tokens (prompt plus expected
// output) at now. It checks the deployment is available (as Available, with
// estTokens as the budget and no context-window check), passes breaker
// admission (a half-open deployment admits a single probe), reserves local
// rpm and tpm budget and counts the call in flight. When the deployment
// cannot take the call the error is an *UnavailableError.
func (d *Deployment) Begin(now time.Time, estTokens int) (Attempt, error) {
	estTokens = max(estTokens, 0)
	n := now.UnixNano()
	if r := d.check(n, 0, estTokens); r != ReasonOK {
		return Attempt{}, d.unavailable(r)
	}
	a := Attempt{d: d, est: estTokens, gen: d.gen.Load()}
	if gobreaker.State(d.state.Load()) != gobreaker.StateClosed && d.cb != nil {
		done, err := d.cb.Allow()
		if err != nil {
			return Attempt{}, d.unavailable(ReasonBreakerOpen)
		}
		switch gobreaker.State(d.state.Load()) {
		case gobreaker.StateHalfOpen:
			if n < d.cooldownUntil.Load() {
				// A trip raced with this call: the cooldown came back.
				done(errRelease)
				return Attempt{}, d.unavailable(ReasonCooldown)
			}
			d.probe.Store(true)
			a.done = done
		case gobreaker.StateClosed:
			// A probe closed the breaker meanwhile: an ordinary call.
			done(errRelease)
			a.gen = d.gen.Load()
		default:
			done(errRelease)
			return Attempt{}, d.unavailable(ReasonCooldown)
		}
	}
	if d.limiter != nil {
		res, ok := d.limiter.Reserve(now, estTokens)
		if !ok {
			a.release()
			r := ReasonTPM
			if rf, _ := d.limiter.Headroom(now); rf*float64(d.cfg.RPM) < 1 && d.cfg.RPM > 0 {
				r = ReasonRPM
			}
			d.refreshMirrors(now)
			return Attempt{}, d.unavailable(r)
		}
		a.res = res
		d.refreshMirrors(now)
	}
	if in := d.inFlight.Add(1); d.cfg.MaxParallelRequests > 0 && in > int64(d.cfg.MaxParallelRequests) {
		d.inFlight.Add(-1)
		a.res.Cancel(now)
		d.refreshMirrors(now)
		a.release()
		return Attempt{}, d.unavailable(ReasonParallel)
	}
	d.sinceReq.Add(1)
	d.sinceTok.Add(int64(estTokens))
	return a, nil
}

func (d *Deployment) unavailable(r Reason) error {
	return &UnavailableError{Deployment: d.cfg.ID, Reason: r}
}

// release gives a probe slot back without counting an outcome.
func (a *Attempt) release() {
	if a.done != nil {
		a.done(errRelease)
		a.done = nil
		a.d.probe.Store(false)
	}
}

// Probe reports whether the attempt is the single probe of a half-open
// breaker: its success closes the breaker, its failure opens it again.
func (a *Attempt) Probe() bool { return a.done != nil }

// End finishes the call at now with its outcome:
//
//   - the call leaves the in-flight count;
//   - a success adds a latency (or, for a stream, time to first token)
//     sample; a timeout adds a penalty sample; other failures add none;
//   - rate-limit headers become the latest snapshot, and a remaining count
//     of 0 or a retry hint makes the deployment exhausted until the reset;
//   - the local tpm reservation is settled with the reported usage;
//   - the error counts against the deployment's health by its class: a
//     caller's fault (bad request, context window, content policy,
//     cancellation) and 409 never count; a 429 with a retry hint or reset
//     cools the deployment down until then; 401/403 cool it down for
//     Settings.AuthCooldown and insufficient_quota for
//     Settings.QuotaCooldown; any other failure is counted, and more than
//     Settings.AllowedFails of them within Settings.FailureWindow cool it
//     down for the cooldown time. A half-open probe's success closes the
//     breaker, its failure opens it again for the cooldown time.
//
// It returns what it did to the deployment. End on the zero Attempt, or a
// second time, does nothing and returns no effects.
func (a *Attempt) End(now time.Time, o Outcome) (fx Effects) {
	d := a.d
	if d == nil || a.ended {
		return fx
	}
	a.ended = true
	d.inFlight.Add(-1)

	err := o.Err
	class := provider.ClassOf(err)
	var pe *provider.Error
	if err != nil {
		pe = asProviderError(err)
	}

	// Rate-limit headers.
	hdr := o.Header
	if hdr == nil && pe != nil {
		hdr = pe.Header
	}
	var hint int64 // retry deadline from the upstream, unix ns
	if len(hdr) > 0 {
		at := o.HeaderAt
		if at.IsZero() {
			at = now
		}
		if s := ratelimit.Parse(hdr, at); s.Known() {
			if until, ok := s.ExhaustedUntil(); ok {
				hint = until.UnixNano()
				storeMax(&d.exhaustedUntil, hint)
			}
			// A retry hint alone (a 503's Retry-After) must not replace
			// the counts of an earlier snapshot.
			if s.LimitRequests >= 0 || s.RemainingRequests >= 0 || s.LimitTokens >= 0 || s.RemainingTokens >= 0 {
				fx.Snapshot = d.storeSnapshot(s)
			}
		}
	}
	if pe != nil && pe.RetryAfter > 0 {
		hint = max(hint, now.Add(pe.RetryAfter).UnixNano())
	}

	// Local usage.
	if d.limiter != nil {
		used := o.Usage.TotalTokens
		if used == 0 {
			used = o.Usage.PromptTokens + o.Usage.CompletionTokens
		}
		if used == 0 {
			used = a.est
		}
		a.res.Settle(now, used)
		d.refreshMirrors(now)
	}

	// Latency.
	switch {
	case err == nil && o.Stream:
		if o.TTFT > 0 {
			d.ttft.add(now, o.TTFT, d.set.latencyAlpha, d.set.latencyHalfLife)
		}
	case err == nil:
		if o.Latency > 0 {
			d.latency.add(now, o.Latency, d.set.latencyAlpha, d.set.latencyHalfLife)
		}
	case class == provider.ClassTimeout && !o.CallerEnded:
		e := &d.latency
		if o.Stream {
			e = &d.ttft
		}
		e.add(now, d.penalty(e.load()), d.set.latencyAlpha, d.set.latencyHalfLife)
	}

	// Health.
	n := now.UnixNano()
	switch {
	case err == nil:
		if a.done != nil {
			a.done(nil) // a probe's success closes the breaker
			a.done = nil
			d.probe.Store(false)
			fx.Recovered = true
		}
	case o.CallerEnded || class.CallerFault() || class == provider.ClassConflict:
		a.release()
	case class == provider.ClassRateLimited && hint > n:
		// A throttle with a known end: not a sign of ill health.
		d.cool(&fx, n, hint)
		a.release()
	case d.set.disableCooldowns:
		a.release()
	case class == provider.ClassAuth:
		d.trip(a, &fx, n, n+int64(d.set.authCooldown))
	case class == provider.ClassQuotaExhausted:
		d.trip(a, &fx, n, n+int64(d.set.quotaCooldown))
	default:
		d.fail(a, &fx, n, hint)
	}
	return fx
}

// cool extends the cooldown to until (unix ns) and records it in fx when
// it moved; now tells a new incident from an extension.
func (d *Deployment) cool(fx *Effects, now, until int64) {
	if prev, raised := raise(&d.cooldownUntil, until); raised {
		fx.Cooldown = time.Unix(0, until)
		fx.CooldownStarted = prev <= now
	}
}

// penalty returns the latency sample of a timeout, given the current
// average.
func (d *Deployment) penalty(cur time.Duration) time.Duration {
	if d.set.timeoutPenalty > 0 {
		return d.set.timeoutPenalty
	}
	return max(3*cur, minTimeoutPenalty)
}

// fail counts one failure at now (unix ns); hint is the upstream's retry
// deadline, 0 if none.
func (d *Deployment) fail(a *Attempt, fx *Effects, now, hint int64) {
	until := now + int64(d.cooldown)
	if !d.ownCD {
		until = max(until, hint)
	}
	if a.done != nil {
		d.trip(a, fx, now, until) // the probe failed: open again
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if a.gen != d.gen.Load() || gobreaker.State(d.state.Load()) != gobreaker.StateClosed {
		return // begun before the breaker last changed: stale
	}
	cutoff := now - int64(d.set.failureWindow)
	i := 0
	for i < len(d.fails) && d.fails[i] <= cutoff {
		i++
	}
	if i > 0 {
		d.fails = append(d.fails[:0], d.fails[i:]...)
	}
	if len(d.fails) > d.set.allowedFails {
		d.fails = append(d.fails[:0], d.fails[1:]...) // keep AllowedFails+1 at most
	}
	d.fails = append(d.fails, now)
	if len(d.fails) > d.set.allowedFails {
		d.tripLocked(a, fx, now, until)
	}
}

// trip cools the deployment down until until (unix ns) and opens the
// breaker, so that once the cooldown ends a single probe is admitted.
func (d *Deployment) trip(a *Attempt, fx *Effects, now, until int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tripLocked(a, fx, now, until)
}

// tripLocked is trip with d.mu held. The cooldown deadline, not gobreaker's
// open state, holds the deployment out until its probe (see New).
func (d *Deployment) tripLocked(a *Attempt, fx *Effects, now, until int64) {
	// The deadline goes first: once the breaker is open, Begin relies on it.
	d.cool(fx, now, until)
	d.fails = d.fails[:0]
	if a.done != nil {
		a.done(errTrip)
		a.done = nil
		d.probe.Store(false)
		fx.Tripped = true
		return
	}
	if d.cb == nil {
		return // the zero Deployment: no breaker
	}
	closed := gobreaker.State(d.state.Load()) == gobreaker.StateClosed
	if done, err := d.cb.Allow(); err == nil {
		done(errTrip)
		fx.Tripped = closed // an open breaker (its 1ns over) is only opened again
	}
	// Otherwise the breaker is already open, or half-open with a probe in
	// flight whose outcome decides; the cooldown holds either way.
}

// asProviderError returns the *provider.Error in err's chain, nil if none.
// It is apart from End, and not inlined, so that the errors.As target
// escapes to the heap only on errors.
//
//go:noinline
func asProviderError(err error) *provider.Error {
	var pe *provider.Error
	if err != nil && errors.As(err, &pe) {
		return pe
	}
	return nil
}
