package router

import (
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// The retry policy, in one place (the package documentation states it for
// users): provider.Error.RetryScope says whether an error may be retried
// and where; the group's retry limit says how many times; a retry goes at
// once to another deployment, and only when none is left does the router
// wait, for a backoff lengthened to the server's hint and the earliest
// return of a deployment, within MaxRetryWait and the caller's deadline.
// Nothing is retried once any part of the answer reached the caller (a
// stream's first event, a pass-through body returned by Do).
//
// An attempt that hung until its timeout is retried once per call at most,
// and never on the same deployment; nothing is retried past the call's
// deadline (Settings.CallTimeout). The retry budget (budget.go) may still
// refuse a retry the policy allows.

// retryInput is what decides whether a failed attempt is retried.
type retryInput struct {
	scope      provider.RetryScope // the error's
	used       int                 // retries already used in the group
	limit      int                 // retries the group allows for this error
	callerDone bool                // the caller's context ended
	// pastDeadline: the call's own deadline (CallTimeout) has passed.
	pastDeadline bool
	// hung: the attempt timed out with no answer; hungRetried: the call
	// retried such an attempt already.
	hung, hungRetried bool
}

// decideRetry says whether to retry a failed attempt in its group, and
// whether the deployment that failed may be used again in this call (after
// every other has been tried and a wait).
func decideRetry(in retryInput) (retry, again bool) {
	if in.scope == provider.RetryNever || in.callerDone || in.pastDeadline || in.used >= in.limit {
		return false, false
	}
	if in.hung {
		return !in.hungRetried, false
	}
	return true, in.scope == provider.RetryAnywhere
}

// hung reports whether err is an attempt's own timeout with no answer at
// all (not a 408): the deployment may be hanging, so a retry goes
// elsewhere, once.
func hung(err *provider.Error) bool {
	return err.Class == provider.ClassTimeout && err.StatusCode == 0
}

// retryLimit is the number of retries a group allows: for errors of class
// cl when perClass (the call's WithNumRetries, else Settings.RetryPolicy,
// else Settings.NumRetries), or regardless of class (bounding the waits
// for a group whose deployments are all out before any attempt failed).
func retryLimit(s *settings, o *callOptions, cl provider.Class, perClass bool) int {
	if o.numRetries != nil {
		return *o.numRetries
	}
	if perClass {
		if n, ok := s.RetryPolicy[cl]; ok {
			return n
		}
	}
	return s.numRetries
}

func (c *call) retryLimit(cl provider.Class, perClass bool) int {
	return retryLimit(c.r.set, &c.opts, cl, perClass)
}

// maxRetryAfter is the largest server retry hint honoured (as the OpenAI
// Python SDK does); longer hints fall back to backoff.
const maxRetryAfter = 60 * time.Second

// waitInput is what decides how long a group with no deployment available
// waits for one, and whether it waits at all.
type waitInput struct {
	now time.Time
	// earliest is when the first deployment that serves the call comes
	// back, when known; unknown reports a deployment held by a limit whose
	// end is not known (it may free up any time).
	earliest       time.Time
	known, unknown bool
	// failed reports that an attempt failed before the wait, so that a
	// backoff (the n-th, jittered) comes first.
	failed  bool
	backoff time.Duration
	// minWait and maxWait are Settings.RetryAfter and MaxRetryWait;
	// deadline the caller's, when hasDeadline.
	minWait, maxWait time.Duration
	deadline         time.Time
	hasDeadline      bool
}

// retryWait returns how long to wait and whether waiting is worth it: a
// backoff after a failure (or when no return time is known), lengthened to
// the earliest return and to minWait; not worth it past maxWait or the
// deadline, or when no deployment can come back at all.
func retryWait(in waitInput) (time.Duration, bool) {
	if !in.known && !in.unknown {
		return 0, false
	}
	var wait time.Duration
	if in.failed || !in.known {
		wait = in.backoff
	}
	if in.known {
		wait = max(wait, in.earliest.Sub(in.now))
	}
	wait = max(wait, in.minWait)
	if wait > in.maxWait {
		return 0, false
	}
	if in.hasDeadline && in.deadline.Sub(in.now) < wait {
		return 0, false
	}
	return wait, true
}

// waitFor says how long to wait before g may have a deployment for this
// call again, after retriesUsed retries, and whether to wait.
func (c *call) waitFor(g *group, retriesUsed int, failed bool) (time.Duration, bool) {
	now := c.r.clock.Now()
	in := waitInput{now: now, failed: failed, minWait: c.r.set.RetryAfter, maxWait: c.r.set.MaxRetryWait}
	in.earliest, in.known, in.unknown = c.earliestReturn(g, now)
	if in.failed || !in.known {
		in.backoff = c.backoff(max(retriesUsed-1, 0))
	}
	in.deadline, in.hasDeadline = c.ctx.Deadline()
	if !c.deadline.IsZero() { // the call's own, earlier than the context's
		in.deadline, in.hasDeadline = c.deadline, true
	}
	// The deadline is the caller's wall clock: compare it with time.Now,
	// not with a test's clock.
	if in.hasDeadline {
		in.deadline = now.Add(time.Until(in.deadline))
	}
	return retryWait(in)
}

// earliestReturn finds when the first of g's deployments that serve the
// call and are not left out for good is available again: now for one
// available already, the end of its cooldown or exhausted budget (or of
// the server's retry-after for one that failed in this call).
func (c *call) earliestReturn(g *group, now time.Time) (earliest time.Time, known, unknown bool) {
	for _, d := range g.deps {
		if !c.serves(d) {
			continue
		}
		lo := c.leftOutIndex(d)
		if lo >= 0 && c.leftOut[lo].permanent {
			continue
		}
		var t time.Time
		switch d.Available(now, c.pick.PromptTokens) {
		case deployment.ReasonOK:
			t = now
		case deployment.ReasonContextWindow:
			continue // never fits
		case deployment.ReasonCooldown, deployment.ReasonExhausted:
			// ReadyAt is the later of the cooldown's end and the reset of
			// an exhausted rate-limit budget, when known.
			if t = d.ReadyAt(); t.After(now) {
				break
			}
			fallthrough
		default:
			unknown = true
			continue
		}
		if lo >= 0 && c.leftOut[lo].retryAt.After(t) {
			t = c.leftOut[lo].retryAt
		}
		if !known || t.Before(earliest) {
			earliest, known = t, true
		}
	}
	return earliest, known, unknown
}

// backoff returns the n-th (from 0) retry delay: 0.5s·2^n capped at 8s,
// with up to 25% subtracted at random, as the OpenAI SDKs do.
func (c *call) backoff(n int) time.Duration {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(500*time.Millisecond),
		backoff.WithMultiplier(2),
		backoff.WithMaxInterval(8*time.Second),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxElapsedTime(0),
	)
	d := b.NextBackOff()
	for range min(n, 8) {
		d = b.NextBackOff()
	}
	return d - time.Duration(float64(d)*0.25*c.r.jitter.float64())
}
