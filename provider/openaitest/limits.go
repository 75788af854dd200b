package openaitest

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a pair of token buckets (requests, tokens), refilled lazily
// and continuously at their capacity per minute. A zero capacity means that
// dimension is unlimited. Safe for concurrent use.
type limiter struct {
	rpm, tpm float64 // immutable capacities, also the refill per minute

	mu       sync.Mutex
	req, tok float64   // guarded by mu: current levels
	last     time.Time // guarded by mu: time of the last refill; zero before first use
}

func newLimiter(cfg KeyConfig) *limiter {
	if cfg.RPM <= 0 && cfg.TPM <= 0 {
		return nil
	}
	l := &limiter{rpm: float64(max(cfg.RPM, 0)), tpm: float64(max(cfg.TPM, 0))}
	l.req, l.tok = l.rpm, l.tpm
	return l
}

// verdict is the outcome of a limiter check and what the response headers
// report.
type verdict struct {
	limited  string // "" when admitted, else "requests" or "tokens"
	tooLarge bool   // the token cost exceeds the bucket's capacity: never admitted
	wait     time.Duration
	used     int64 // for the 429 message: units in use in the limited bucket

	rpm, tpm         int64 // 0: dimension unlimited
	remReq, remTok   int64
	resetReq, resetT time.Duration
}

// refill brings the levels up to now; the clock stepping backwards refills
// nothing. Callers hold mu.
func (l *limiter) refill(now time.Time) {
	if l.last.IsZero() {
		l.last = now
		return
	}
	d := now.Sub(l.last)
	if d <= 0 {
		return
	}
	l.last = now
	l.req = min(l.rpm, l.req+l.rpm*float64(d)/float64(time.Minute))
	l.tok = min(l.tpm, l.tok+l.tpm*float64(d)/float64(time.Minute))
}

// take admits a request costing one request and cost tokens at now, or
// reports which bucket refused it. A refused request takes nothing.
func (l *limiter) take(now time.Time, cost int) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(now)
	c := float64(max(cost, 0))
	var v verdict
	switch {
	case l.rpm > 0 && l.req < 1:
		v.limited, v.used = "requests", int64(l.rpm-math.Floor(l.req))
		v.wait = untilLevel(l.req, 1, l.rpm)
	case l.tpm > 0 && c > l.tpm:
		v.limited, v.tooLarge, v.used = "tokens", true, int64(l.tpm-math.Floor(l.tok))
	case l.tpm > 0 && l.tok < c:
		v.limited, v.used = "tokens", int64(l.tpm-math.Floor(l.tok))
		v.wait = untilLevel(l.tok, c, l.tpm)
	default:
		if l.rpm > 0 {
			l.req--
		}
		if l.tpm > 0 {
			l.tok -= c
		}
	}
	l.fill(&v)
	return v
}

// fill copies the header values into v. Callers hold mu.
func (l *limiter) fill(v *verdict) {
	if l.rpm > 0 {
		v.rpm, v.remReq = int64(l.rpm), int64(math.Floor(l.req))
		v.resetReq = untilLevel(l.req, l.rpm, l.rpm)
	}
	if l.tpm > 0 {
		v.tpm, v.remTok = int64(l.tpm), int64(math.Floor(l.tok))
		v.resetT = untilLevel(l.tok, l.tpm, l.tpm)
	}
}

// untilLevel is how long a bucket at level, refilled at rate per minute,
// takes to reach target, rounded up to the millisecond.
func untilLevel(level, target, rate float64) time.Duration {
	if level >= target || rate <= 0 {
		return 0
	}
	// Round to the microsecond first so that float error (59/60 of a
	// minute computed as 59.0000001 s) does not add a millisecond.
	us := math.Round((target - level) / rate * float64(time.Minute/time.Microsecond))
	return roundUpMS(time.Duration(us) * time.Microsecond)
}

func roundUpMS(d time.Duration) time.Duration {
	if r := d % time.Millisecond; r != 0 {
		d += time.Millisecond - r
	}
	return d
}

// formatReset formats a reset duration the way OpenAI does: Go duration
// syntax at millisecond precision ("6m0s", "1s", "17.28s", "12ms").
func formatReset(d time.Duration) string {
	return roundUpMS(d).String()
}

// retryAfterSeconds is the retry-after header value: whole seconds, rounded
// up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	return strconv.FormatInt(max(s, 1), 10)
}

// retryAfterMS is the retry-after-ms header value: whole milliseconds,
// rounded up.
func retryAfterMS(d time.Duration) string {
	return strconv.FormatInt(int64(roundUpMS(d)/time.Millisecond), 10)
}

// limitGroup is one set of shared buckets: a single pair, or one pair per
// model when PerModel is set.
type limitGroup struct {
	cfg      KeyConfig
	single   *limiter // nil when unlimited or PerModel
	perModel sync.Map // model string -> *limiter, when cfg.PerModel

	drainMu sync.Mutex
	drained time.Time // guarded by drainMu: per-model buckets made later start empty at this time; zero: full
}

func newLimitGroup(cfg KeyConfig) *limitGroup {
	g := &limitGroup{cfg: cfg}
	if !cfg.PerModel {
		g.single = newLimiter(cfg)
	}
	return g
}

// limiter returns the buckets for model, nil when the group is unlimited.
func (g *limitGroup) limiter(model string) *limiter {
	if g == nil {
		return nil
	}
	if !g.cfg.PerModel {
		return g.single
	}
	if l, ok := g.perModel.Load(model); ok {
		return l.(*limiter)
	}
	l := newLimiter(g.cfg)
	if l == nil {
		return nil
	}
	g.drainMu.Lock()
	if !g.drained.IsZero() {
		l.drain(g.drained)
	}
	g.drainMu.Unlock()
	got, _ := g.perModel.LoadOrStore(model, l)
	return got.(*limiter)
}

// drain empties the buckets at now; they refill from then on.
func (l *limiter) drain(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.req, l.tok, l.last = 0, 0, now
}

// drain empties every bucket of the group at now, and with PerModel the
// buckets of models not used yet as well (they start empty at now).
func (g *limitGroup) drain(now time.Time) {
	if g == nil {
		return
	}
	if g.single != nil {
		g.single.drain(now)
		return
	}
	g.drainMu.Lock()
	g.drained = now
	g.drainMu.Unlock()
	g.perModel.Range(func(_, v any) bool {
		v.(*limiter).drain(now)
		return true
	})
}

// Drain empties the request and token buckets of key now (by the fake's
// clock), as if another client had just used up the whole budget: the next
// request is refused with 429 until one request's worth has refilled, and
// the buckets refill continuously from empty, at their capacity per minute,
// from then on. The buckets are shared with the key's Group, so Drain
// empties theirs too; with PerModel, every model's buckets, those not used
// yet included. A key without limits, or one the fake does not accept, is
// left alone. Tests use it to start from a key whose limit is already
// reached, which no router can know before it reads the key's headers.
func (h *Handler) Drain(key string) {
	ks := h.keyState(key)
	if !ks.accepted {
		return
	}
	ks.group.drain(h.now())
}

// limiter returns the buckets that apply to this request, nil for none.
func (c *call) limiter() *limiter {
	if c.ks == nil {
		return nil
	}
	m := c.model
	if c.deployment != "" {
		m = c.deployment
	}
	return c.ks.group.limiter(m)
}

// cost is the request's token cost: the prompt estimate plus the
// completion allowance.
func (c *call) cost() int {
	switch c.ep {
	case epTranscriptions, epModels:
		return 0
	case epEmbeddings:
		return c.promptTokens
	}
	allowance := DefaultCompletionTokens
	if n := c.req.maxOutput(); n > 0 {
		allowance = n
	}
	return c.promptTokens + allowance
}

// admit takes the request's cost from its buckets, answering 429 when they
// are short.
func (c *call) admit() bool {
	lim := c.limiter()
	if lim == nil {
		return true
	}
	c.rl, c.hasRL = lim.take(c.h.now(), c.cost()), true
	if c.rl.limited == "" {
		return true
	}
	v := c.rl
	model := c.model
	if model == "" {
		model = c.deployment
	}
	var msg string
	if v.limited == "requests" {
		msg = "Rate limit reached for " + model + " on requests per min (RPM): Limit " + strconv.FormatInt(v.rpm, 10) +
			", Used " + strconv.FormatInt(v.used, 10) + ", Requested 1. Please try again in " + formatReset(v.wait) + "."
	} else {
		msg = "Rate limit reached for " + model + " on tokens per min (TPM): Limit " + strconv.FormatInt(v.tpm, 10) +
			", Used " + strconv.FormatInt(v.used, 10) + ", Requested " + strconv.Itoa(c.cost()) + "."
		if v.tooLarge {
			msg = "Request too large for " + model + " on tokens per min (TPM): Limit " + strconv.FormatInt(v.tpm, 10) +
				", Requested " + strconv.Itoa(c.cost()) + ". The input or output tokens must be reduced in order to run successfully."
		} else {
			msg += " Please try again in " + formatReset(v.wait) + "."
		}
	}
	c.rateLimited(v.limited, msg, v.wait)
	return false
}

// rateLimited answers 429 rate_limit_exceeded with retry hints when wait
// is positive.
func (c *call) rateLimited(kind, msg string, wait time.Duration) {
	if wait > 0 {
		hd := c.w.Header()
		hd.Set("Retry-After", retryAfterSeconds(wait))
		hd.Set("Retry-After-Ms", retryAfterMS(wait))
	}
	if c.azure {
		c.failAzure(http.StatusTooManyRequests, "429", "Requests to the Azure OpenAI API have exceeded the "+kind+" rate limit of your current pricing tier. "+msg)
		return
	}
	c.fail(http.StatusTooManyRequests, apiError{Message: msg, Type: nullString(kind), Code: "rate_limit_exceeded"})
}
