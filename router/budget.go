package router

import (
	"math"
	"sync/atomic"
)

// The retry budget: across the router, the retries in flight may be at
// most a fraction of the calls in flight, and always at least a few (as
// Envoy's retry budget), so that an outage cannot multiply the load on the
// upstreams while a lone caller can still retry. Fast failures would turn
// those places over and over, so each retry also spends one from a
// balance that each call adds the ratio to (as Finagle's budget does):
// retries add at most that fraction of the calls. While the minimum
// governs (ratio·calls in flight below MinRetries: fewer than 15 calls by
// default) a retry may run the balance into debt, which later calls repay,
// unless the budget was starved under load and has not been refilled
// since: so a lone caller can retry, and the tail of an outage does not
// retry past the budget. A call takes a token when it decides to
// retry (before any wait for a deployment) and gives it back when the
// retry's attempt ends; a call that is refused a token fails at once with
// its last error (Error.BudgetRefused). A retry that waits for a
// deployment gives its place back during the wait.

// retryBudget counts the calls and the retries in flight. Safe for
// concurrent use: atomics only, no lock.
type retryBudget struct {
	// immutable after newRetryBudget
	ratio float64
	min   int64
	off   bool

	calls   atomic.Int64 // calls being routed (a stream until it opens)
	retries atomic.Int64 // retry tokens held
	// balance is the retries that may still be made under load, in
	// thousandths of one: each call adds ratio, each retry under load
	// takes one; it keeps at most ratio·(calls in flight), or MinRetries,
	// so that quiet times bank no burst.
	balance atomic.Int64
	// starved: a retry under load was refused for want of balance, and
	// no call has brought it back to one retry since.
	starved atomic.Bool
}

// milli is one retry in balance units.
const milli = 1000

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

// enter counts a call in flight, and adds its share to the balance;
// leave ends it.
func (b *retryBudget) enter() {
	if b.off {
		return
	}
	n := b.calls.Add(1)
	limit := max(int64(b.ratio*float64(n)*milli), b.min*milli, milli)
	add := int64(b.ratio * milli)
	for {
		v := b.balance.Load()
		nv := min(v+add, max(limit, v)) // the cap never lowers it
		if nv == v || b.balance.CompareAndSwap(v, nv) {
			if nv >= milli && b.starved.Load() {
				b.starved.Store(false)
			}
			return
		}
	}
}

func (b *retryBudget) leave() {
	if !b.off {
		b.calls.Add(-1)
	}
}

// acquire takes a retry token when the budget allows one, spending from
// the balance unless paid (the retry paid for it before a wait).
func (b *retryBudget) acquire(paid bool) bool {
	if b.off {
		return true
	}
	var calls int64
	for {
		n := b.retries.Load()
		calls = b.calls.Load()
		if !budgetAllows(n, calls, b.ratio, b.min) {
			return false
		}
		if b.retries.CompareAndSwap(n, n+1) {
			break
		}
	}
	if paid {
		return true
	}
	// While the minimum governs (ratio·calls below it), a retry may run
	// the balance into debt, unless the budget was starved under load.
	light := int64(b.ratio*float64(calls)) < b.min && !b.starved.Load()
	for {
		v := b.balance.Load()
		if v < milli && !light {
			b.retries.Add(-1)
			b.starved.Store(true)
			return false
		}
		if b.balance.CompareAndSwap(v, max(v-milli, -b.min*milli)) {
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
// retry whose deployment refused it at Begin). It reports false, and marks
// the call, when the budget refuses.
func (c *call) takeRetry() bool {
	if c.retryToken {
		return true
	}
	if !c.r.set.budget.acquire(c.retryPaid) {
		c.budgetRefused = true
		return false
	}
	c.retryToken, c.retryPaid = true, true
	return true
}

// pauseRetry gives back the token of a retry that waits for a deployment
// (a wait adds no load); the retry stays paid for, and takes a token again
// after the wait.
func (c *call) pauseRetry() {
	if c.retryToken {
		c.retryToken = false
		c.r.set.budget.release()
	}
}

// dropRetry gives back the call's retry token, if it holds one: its retry
// attempt ended, or the call did.
func (c *call) dropRetry() {
	c.pauseRetry()
	c.retryPaid = false
}
