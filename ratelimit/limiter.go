package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter enforces a deployment's configured requests-per-minute and
// tokens-per-minute limits on this router's own traffic, with two token
// buckets from golang.org/x/time/rate. Each bucket holds a minute's worth
// (burst rpm or tpm) and refills continuously at rpm/60 or tpm/60 per
// second, like OpenAI's own buckets.
//
// Times are arguments, as with rate.Limiter.AllowN, so tests need no clock.
// The zero value and a nil *Limiter are unlimited. A Limiter is safe for
// concurrent use.
type Limiter struct {
	// immutable after NewLimiter
	rpm, tpm int

	mu  sync.Mutex    // makes taking from both buckets one step
	req *rate.Limiter // nil: unlimited
	tok *rate.Limiter // nil: unlimited
}

// NewLimiter returns a Limiter allowing rpm requests and tpm tokens per
// minute. A limit <= 0 means unlimited.
func NewLimiter(rpm, tpm int) *Limiter {
	l := &Limiter{}
	if rpm > 0 {
		l.rpm = rpm
		l.req = rate.NewLimiter(rate.Limit(float64(rpm)/60), rpm)
	}
	if tpm > 0 {
		l.tpm = tpm
		l.tok = rate.NewLimiter(rate.Limit(float64(tpm)/60), tpm)
	}
	return l
}

// Limits returns the configured limits per minute, 0 for unlimited.
func (l *Limiter) Limits() (rpm, tpm int) {
	if l == nil {
		return 0, 0
	}
	return l.rpm, l.tpm
}

// Reserve takes one request and tokens estimated tokens at now, if both
// fit; otherwise it takes nothing and returns ok=false. An estimate larger
// than the whole tokens-per-minute limit never fits. A negative estimate
// counts as 0. The returned Reservation is settled with the real usage
// once the call ends, or canceled if the call was never sent. Reserve does
// not allocate.
func (l *Limiter) Reserve(now time.Time, tokens int) (Reservation, bool) {
	if l == nil {
		return Reservation{}, true
	}
	tokens = max(tokens, 0)
	if l.req == nil && l.tok == nil {
		return Reservation{lim: l, tokens: tokens}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Take the request, then the tokens; if the tokens do not fit, give
	// the request back. Both buckets change only under l.mu, so no other
	// caller sees the request taken in between.
	if l.req != nil && !l.req.AllowN(now, 1) {
		return Reservation{}, false
	}
	if l.tok != nil && tokens > 0 && !l.tok.AllowN(now, tokens) {
		l.giveBack(l.req, now, 1)
		return Reservation{}, false
	}
	return Reservation{lim: l, tokens: tokens}, true
}

// Headroom returns the fraction of the request and token budgets left at
// now, each in [0, 1], for usage-based routing. An unlimited budget is 1.
func (l *Limiter) Headroom(now time.Time) (reqFrac, tokFrac float64) {
	if l == nil {
		return 1, 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return fraction(l.req, now), fraction(l.tok, now)
}

func fraction(b *rate.Limiter, now time.Time) float64 {
	if b == nil {
		return 1
	}
	f := b.TokensAt(now) / float64(b.Burst())
	return min(max(f, 0), 1)
}

// Reservation is one request's share of a [Limiter]: one request and an
// estimated number of tokens. Settle or Cancel it exactly once; later calls
// do nothing. The zero Reservation (as returned with ok=false, or by an
// unlimited Limiter) settles and cancels as a no-op. A Reservation is not
// safe for concurrent use; the Limiter it came from is.
type Reservation struct {
	lim    *Limiter
	tokens int
}

// Tokens returns the estimated tokens the reservation holds.
func (r *Reservation) Tokens() int { return r.tokens }

// Settle reconciles the estimate with the tokens the call really used
// (prompt plus completion tokens), at now: an over-estimate is given back,
// an under-estimate is taken as debt, which delays later reservations
// (capped at one minute's worth). The request itself stays spent.
func (r *Reservation) Settle(now time.Time, actualTokens int) {
	l := r.lim
	r.lim = nil
	if l == nil || l.tok == nil {
		return
	}
	diff := max(actualTokens, 0) - r.tokens
	if diff == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if diff < 0 {
		l.giveBack(l.tok, now, -diff)
		return
	}
	// ReserveN, unlike AllowN, lets the bucket go below zero.
	l.tok.ReserveN(now, min(diff, l.tpm))
}

// Cancel gives the request and its estimated tokens back, at now, for a
// call that was never sent.
func (r *Reservation) Cancel(now time.Time) {
	l := r.lim
	r.lim = nil
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.giveBack(l.req, now, 1)
	l.giveBack(l.tok, now, r.tokens)
}

// giveBack returns n tokens to bucket b at now. rate.Limiter has no
// refund for tokens taken in the past (Reservation.CancelAt restores only
// future reservations), but AllowN with a negative n adds tokens; the bucket
// is capped at its burst again on its next use. Tests pin this behaviour.
// Callers hold l.mu.
func (l *Limiter) giveBack(b *rate.Limiter, now time.Time, n int) {
	if b == nil || n <= 0 {
		return
	}
	b.AllowN(now, -n)
}
