package router

import (
	"math"
	"sync/atomic"
)

// The retry budget, as Envoy's: across the router, the retries in flight
// may be at most a fraction of the calls in flight, and always at least a
// few, so that an outage cannot multiply the load on the upstreams while a
// lone caller can still retry. A call takes a token when it decides to
// retry (before any wait for a deployment) and gives it back when the
// retry's attempt ends; a call that is refused a token fails at once with
// its last error (Error.BudgetRefused).

// retryBudget counts the calls and the retries in flight. Safe for
// concurrent use: atomics only, no lock.
type retryBudget struct {
	// immutable after newRetryBudget
	ratio float64
	min   int64
	off   bool

	calls   atomic.Int64 // calls being routed (a stream until it opens)
	retries atomic.Int64 // retry tokens held
}

func newRetryBudget(b RetryBudget) *retryBudget {
	rb := &retryBudget{ratio: DefaultRetryBudgetRatio, min: DefaultRetryBudgetMinRetries, off: b.Disabled}
	if b.Ratio > 0 {
		rb.ratio = b.Ratio
	}
	if b.MinRetries != nil {
		rb.min = int64(*b.MinRetries)
	}
	return rb
}

// budgetAllows reports whether one more retry may start when retries are
// in flight among calls: while retries stays below ratio·calls (rounded
// down) or below minRetries, whichever is more.
func budgetAllows(retries, calls int64, ratio float64, minRetries int64) bool {
	limit := int64(math.Floor(ratio * float64(calls)))
	return retries < max(limit, minRetries)
}

// enter counts a call in flight; leave ends it.
func (b *retryBudget) enter() {
	if !b.off {
		b.calls.Add(1)
	}
}

func (b *retryBudget) leave() {
	if !b.off {
		b.calls.Add(-1)
	}
}

// acquire takes a retry token when the budget allows one.
func (b *retryBudget) acquire() bool {
	if b.off {
		return true
	}
	for {
		n := b.retries.Load()
		if !budgetAllows(n, b.calls.Load(), b.ratio, b.min) {
			return false
		}
		if b.retries.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives a token back.
func (b *retryBudget) release() {
	if !b.off {
		b.retries.Add(-1)
	}
}

// takeRetry gets the call a retry token, unless it holds one already (a
// retry whose deployment refused it at Begin, or after a wait). It reports
// false, and marks the call, when the budget refuses.
func (c *call) takeRetry() bool {
	if c.retryToken {
		return true
	}
	if !c.r.set.budget.acquire() {
		c.budgetRefused = true
		return false
	}
	c.retryToken = true
	return true
}

// dropRetry gives back the call's retry token, if it holds one: its retry
// attempt ended, or the call did.
func (c *call) dropRetry() {
	if c.retryToken {
		c.retryToken = false
		c.r.set.budget.release()
	}
}
