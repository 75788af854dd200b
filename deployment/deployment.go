package deployment

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// Deployment is one concrete upstream target and its live state: calls in
// flight, latency averages, the latest rate-limit snapshot, local rpm and tpm
// usage, cooldown and circuit breaker.
//
// All methods are safe for concurrent use. The pick-path reads (InFlight,
// Latency, TTFT, Snapshot, Headroom, Available, CooldownUntil, ReadyAt) are
// atomic loads and arithmetic: they take no lock and allocate nothing.
type Deployment struct {
	// The fields read on the pick path are laid out for few cache lines per
	// candidate (the struct's size class is a multiple of 64 bytes, so its
	// offsets are line offsets): the call counters and latency averages in
	// the first line, Config's routing fields (Weight to Info) in the
	// fourth, the rate-limit state in the sixth. A test pins the offsets.

	inFlight      atomic.Int64
	latency       ewma         // non-streaming calls
	ttft          ewma         // streaming calls: time to first token
	cooldownUntil atomic.Int64 // unix ns; 0 = none

	cfg Config  // immutable after New
	_   [8]byte // keeps the rate-limit state below in one line

	exhaustedUntil atomic.Int64 // unix ns the upstream's budget is empty until; 0 = none
	// Breaker state mirrored from gobreaker's OnStateChange for lock-free
	// reads.
	state atomic.Int32 // gobreaker.State
	probe atomic.Bool  // a half-open probe is in flight
	// Upstream rate-limit state: the latest snapshot (with its budgets
	// prepared for the pick path), and the requests and estimated tokens
	// this router began since it was stored.
	up        atomic.Pointer[upstream]
	sinceReq  atomic.Int64
	sinceTok  atomic.Int64
	reqMirror bucketMirror // lock-free view of limiter's request bucket
	tokMirror bucketMirror // and of its token bucket
	// gen counts breaker state changes, so that outcomes of calls begun
	// before a change are dropped.
	gen atomic.Uint64

	// The largest remaining counts ever seen: the limit's stand-in when the
	// upstream sends remaining counts only.
	peakReq atomic.Int64
	peakTok atomic.Int64

	// immutable after New
	client   provider.Client
	set      health
	cooldown time.Duration // Config.CooldownTime, else Settings.CooldownTime
	ownCD    bool          // Config.CooldownTime was set: it wins over retry hints
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	limiter  *ratelimit.Limiter // nil when neither RPM nor TPM is set

	mu    sync.Mutex // serialises failure accounting and trips
	fails []int64    // guarded by mu: failure times (unix ns) in the window, oldest first
}

// New returns a deployment for cfg that sends its calls through client.
// cfg.ID defaults to DefaultID(cfg) and zero fields of cfg.Info are filled
// from provider/models. It fails with a *ConfigError when cfg.Validate does.
func New(cfg Config, client provider.Client, s Settings) (*Deployment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		cfg.ID = DefaultID(cfg)
	}
	cfg.ExtraHeaders = cfg.ExtraHeaders.Clone()
	cfg.Tags = append([]string(nil), cfg.Tags...)
	cfg.Info = withModelDefaults(cfg.Model, cfg.Info)

	h := s.resolve()
	d := &Deployment{cfg: cfg, client: client, set: h, cooldown: h.cooldownTime}
	if cfg.CooldownTime > 0 {
		d.cooldown, d.ownCD = cfg.CooldownTime, true
	}
	if cfg.RPM > 0 || cfg.TPM > 0 {
		d.limiter = ratelimit.NewLimiter(cfg.RPM, cfg.TPM)
	}
	d.fails = make([]int64, 0, min(h.allowedFails+1, 64))
	// gobreaker keeps the breaker's states and admits the single half-open
	// probe. It reads the wall clock, which a router's injected clock (and
	// every test) cannot step, so two things live beside it, on the
	// caller's clock: the cooldown deadline, which holds the deployment out
	// while its open state (here 1ns) is long over, and the failure window,
	// which decides when to trip (gobreaker hears of a failure only then).
	d.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        cfg.ID,
		MaxRequests: 1,
		Timeout:     time.Nanosecond,
		ReadyToTrip: func(gobreaker.Counts) bool { return true },
		IsExcluded:  func(err error) bool { return err == errRelease },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			d.state.Store(int32(to))
			d.gen.Add(1)
		},
	})
	return d, nil
}

// ID returns the deployment's unique identifier.
func (d *Deployment) ID() string { return d.cfg.ID }

// Config returns the deployment's configuration, with its defaults filled
// in. It must not be modified.
func (d *Deployment) Config() *Config { return &d.cfg }

// Client returns the client that sends this deployment's calls.
func (d *Deployment) Client() provider.Client { return d.client }

// String returns the config's String: the deployment without its secret.
func (d *Deployment) String() string { return d.cfg.String() }

// InFlight returns the number of calls begun and not yet ended.
func (d *Deployment) InFlight() int64 { return d.inFlight.Load() }

// Latency returns the moving average of successful non-streaming call
// latency (a timeout counts as a penalty sample), 0 when never measured.
func (d *Deployment) Latency() time.Duration { return d.latency.load() }

// TTFT returns the moving average of streaming calls' time to first token,
// 0 when never measured.
func (d *Deployment) TTFT() time.Duration { return d.ttft.load() }

// LatencyFor returns what latency-based routing needs in one cheap call:
// the average for a call of the given kind (TTFT for streams, Latency
// otherwise), 0 when never measured, and the time of its latest sample in
// Unix nanoseconds, 0 when never measured.
func (d *Deployment) LatencyFor(stream bool) (avg time.Duration, sampledAt int64) {
	e := &d.latency
	if stream {
		e = &d.ttft
	}
	return time.Duration(e.avg.Load()), e.at.Load()
}

// Snapshot returns the latest rate-limit snapshot read from this
// deployment's response headers, nil when none has been seen. The snapshot
// must not be modified.
func (d *Deployment) Snapshot() *ratelimit.Snapshot {
	if u := d.up.Load(); u != nil {
		return &u.snap
	}
	return nil
}

// CooldownUntil returns the end of the latest cooldown, the zero Time when
// there has been none. The deployment is cooling down while now is before it.
func (d *Deployment) CooldownUntil() time.Time { return unixTime(d.cooldownUntil.Load()) }

// ReadyAt returns the earliest time at which neither a cooldown nor the
// upstream's rate-limit headers keep the deployment out: the later of
// CooldownUntil and the reset of an exhausted budget. A router whose every
// deployment is out can wait until the smallest ReadyAt.
func (d *Deployment) ReadyAt() time.Time {
	return unixTime(max(d.cooldownUntil.Load(), d.exhaustedUntil.Load()))
}

// SetCooldown takes the deployment out of rotation until until, for
// cooldowns decided elsewhere (another router instance, shared state). It
// extends an active cooldown and never shortens one. It does not change the
// circuit breaker. reason is for the caller's logs and is not kept.
func (d *Deployment) SetCooldown(until time.Time, reason string) {
	_ = reason
	storeMax(&d.cooldownUntil, until.UnixNano())
}

// Available reports whether the deployment can take a request with
// promptTokens prompt tokens at now: ReasonOK, or the first reason it
// cannot, checked in this order: context window, cooldown, breaker,
// upstream exhaustion, local rpm, local tpm, parallel requests.
func (d *Deployment) Available(now time.Time, promptTokens int) Reason {
	return d.check(now.UnixNano(), promptTokens, promptTokens)
}

// check is Available with the context-window size (prompt only) apart from
// the budget size (the estimate Begin reserves).
func (d *Deployment) check(now int64, ctxTokens, budget int) Reason {
	if m := d.cfg.Info.MaxInputTokens; m > 0 && ctxTokens > m {
		return ReasonContextWindow
	}
	if now < d.cooldownUntil.Load() {
		return ReasonCooldown
	}
	if gobreaker.State(d.state.Load()) == gobreaker.StateHalfOpen && d.probe.Load() {
		return ReasonBreakerOpen
	}
	if d.upstreamExhausted(now, budget) {
		return ReasonExhausted
	}
	if d.cfg.RPM > 0 && d.reqMirror.frac(now)*float64(d.cfg.RPM) < 1 {
		return ReasonRPM
	}
	if d.cfg.TPM > 0 && budget > 0 && d.tokMirror.frac(now)*float64(d.cfg.TPM) < float64(budget) {
		return ReasonTPM
	}
	if m := d.cfg.MaxParallelRequests; m > 0 && d.inFlight.Load() >= int64(m) {
		return ReasonParallel
	}
	return ReasonOK
}

// Headroom returns the fraction, in [0, 1], of this deployment's rate-limit
// budget left at now: the smallest of
//
//   - the upstream's request and token budgets from the latest snapshot,
//     projected forward to now (buckets refill linearly until their reset,
//     as ratelimit.Snapshot.RequestsLeftAt), minus the requests and
//     estimated tokens this router began since the snapshot was observed,
//     over the limit (or, when the upstream sends no limit, the largest
//     remaining count seen);
//   - the local rpm and tpm buckets of Config.RPM and Config.TPM.
//
// It is 0 while the headers say the key is exhausted, and 1 when nothing is
// known.
func (d *Deployment) Headroom(now time.Time) float64 {
	n := now.UnixNano()
	if n < d.exhaustedUntil.Load() {
		return 0
	}
	h := 1.0
	if u := d.up.Load(); u != nil && n < u.horizon {
		el := n - u.obs
		if u.req.rem >= 0 {
			h = u.req.fraction(el, d.sinceReq.Load(), &d.peakReq)
		}
		if u.tok.rem >= 0 {
			if f := u.tok.fraction(el, d.sinceTok.Load(), &d.peakTok); f < h {
				h = f
			}
		}
	}
	if d.cfg.RPM > 0 {
		if f := d.reqMirror.frac(n); f < h {
			h = f
		}
	}
	if d.cfg.TPM > 0 {
		if f := d.tokMirror.frac(n); f < h {
			h = f
		}
	}
	return h
}

// clamp01 clamps f to [0, 1]. Unlike the min and max builtins it need not
// care for NaN and signed zeros, which makes it cheaper on the pick path.
func clamp01(f float64) float64 {
	if f < 0 {
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}

// upstreamExhausted reports whether the upstream's headers, projected to
// now and less this router's traffic since, leave no room for one more
// request of budget tokens.
func (d *Deployment) upstreamExhausted(now int64, budget int) bool {
	if now < d.exhaustedUntil.Load() {
		return true
	}
	u := d.up.Load()
	if u == nil || now >= u.horizon {
		return false
	}
	el := now - u.obs
	if left := u.req.left(el); left >= 0 && left-float64(d.sinceReq.Load()) < 1 {
		return true
	}
	if left := u.tok.left(el); left >= 0 && left-float64(d.sinceTok.Load()) < float64(max(budget, 1)) {
		return true
	}
	return false
}

// upstream is one snapshot with its budgets prepared for the pick path:
// integer nanoseconds instead of time.Time, and the refill rates divided
// out.
//
// Its size is 192 bytes, a size class of whole cache lines, and the fields
// Headroom reads (obs to tok) fill the first two.
type upstream struct {
	obs      int64 // snap.ObservedAt, unix ns
	horizon  int64 // unix ns after which the snapshot says nothing
	req, tok budget
	snap     ratelimit.Snapshot
}

func newUpstream(s ratelimit.Snapshot) *upstream {
	u := &upstream{
		snap: s,
		obs:  s.ObservedAt.UnixNano(),
		req:  newBudget(s.LimitRequests, s.RemainingRequests, s.ResetRequests),
		tok:  newBudget(s.LimitTokens, s.RemainingTokens, s.ResetTokens),
	}
	// After both budgets have fully reset (or, with no reset times, after
	// ratelimit.AssumedWindow) the counts of calls since the snapshot no
	// longer mean anything.
	u.horizon = u.obs + int64(max(s.ResetRequests, s.ResetTokens, ratelimit.AssumedWindow))
	return u
}

// budget is one of a snapshot's two budgets, as a function of the time
// el since the observation that needs few branches: linear from rem with
// slope rate, capped at cap, until end; after from then on.
type budget struct {
	end   int64   // el (ns) at which the linear part ends; 0 when unknown
	rem   float64 // remaining at the observation; -1 when unknown
	rate  float64 // refill per ns; 0 when it cannot grow
	cap   float64 // the most the linear part reaches
	after float64 // left from end on: the limit, or -1 (unknown)
	inv   float64 // 1/limit; 0 when the limit is unknown
}

// newBudget prepares (limit, remaining, reset) as ratelimit.Snapshot's
// projection reads them: a bucket refilling linearly from remaining to
// limit over reset; with no limit it cannot grow and is unknown after the
// reset; with no reset it holds for ratelimit.AssumedWindow.
func newBudget(limit, remaining int64, reset time.Duration) budget {
	if remaining < 0 {
		return budget{rem: -1, cap: -1, after: -1}
	}
	b := budget{rem: float64(remaining), cap: float64(remaining), after: -1}
	if limit > 0 {
		b.inv = 1 / float64(limit)
	}
	if reset < 0 {
		b.end = int64(ratelimit.AssumedWindow)
		return b
	}
	b.end = int64(reset)
	if limit >= 0 {
		b.after = float64(limit)
	}
	if reset > 0 && limit > remaining {
		b.rate = float64(limit-remaining) / float64(reset)
		b.cap = float64(limit)
	}
	return b
}

// left projects the budget el nanoseconds after its observation, as
// ratelimit.Snapshot.RequestsLeftAt does but in floating point without
// time.Time arithmetic (a fuzz test pins the two together); < 0 means
// unknown.
func (b *budget) left(el int64) float64 {
	if el <= 0 {
		return b.rem
	}
	if el < b.end {
		return min(b.rem+b.rate*float64(el), b.cap)
	}
	return b.after
}

// fraction returns (left - since) / limit clamped to [0, 1], with the
// peak remaining count standing in for an unknown limit; 1 when nothing is
// known.
func (b *budget) fraction(el, since int64, peakOf *atomic.Int64) float64 {
	left := b.left(el)
	if left < 0 {
		return 1
	}
	inv := b.inv
	if inv == 0 {
		peak := peakOf.Load()
		if peak <= 0 {
			if left-float64(since) >= 1 {
				return 1
			}
			return 0
		}
		inv = 1 / float64(peak)
	}
	return clamp01((left - float64(since)) * inv)
}

// storeSnapshot keeps s as the latest snapshot unless a newer one is
// already stored, and restarts the counts of traffic since. It returns the
// stored snapshot, nil when a newer one was kept.
func (d *Deployment) storeSnapshot(s ratelimit.Snapshot) *ratelimit.Snapshot {
	u := newUpstream(s)
	for {
		cur := d.up.Load()
		if cur != nil && cur.obs > u.obs {
			return nil
		}
		if d.up.CompareAndSwap(cur, u) {
			break
		}
	}
	d.sinceReq.Store(0)
	d.sinceTok.Store(0)
	storeMax(&d.peakReq, s.RemainingRequests)
	storeMax(&d.peakTok, s.RemainingTokens)
	return &u.snap
}

// storeMax sets v to max(v, n).
func storeMax(v *atomic.Int64, n int64) { raise(v, n) }

// raise sets v to max(v, n), returning v's value before and whether it
// rose. Of concurrent raises, each sees the value it replaced, so exactly
// one sees the value from before them all.
func raise(v *atomic.Int64, n int64) (prev int64, raised bool) {
	for {
		cur := v.Load()
		if n <= cur {
			return cur, false
		}
		if v.CompareAndSwap(cur, n) {
			return cur, true
		}
	}
}

func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// bucketMirror is a lock-free, slightly stale view of one bucket of the
// local ratelimit.Limiter (which locks), for the pick path. It holds the
// virtual time at which the bucket was empty: a bucket of burst b refilling
// in one minute holds b·(now-empty)/minute, capped at b. Begin and End
// refresh it after each change of the limiter.
type bucketMirror struct{ empty atomic.Int64 }

// frac returns the fraction of the bucket full at now.
func (m *bucketMirror) frac(now int64) float64 {
	return clamp01(float64(now-m.empty.Load()) * (1 / float64(time.Minute)))
}

// set records that the bucket was a fraction f full at now.
func (m *bucketMirror) set(now int64, f float64) {
	m.empty.Store(now - int64(f*float64(time.Minute)))
}

// refreshMirrors copies the limiter's state into the mirrors.
func (d *Deployment) refreshMirrors(now time.Time) {
	if d.limiter == nil {
		return
	}
	rf, tf := d.limiter.Headroom(now)
	n := now.UnixNano()
	d.reqMirror.set(n, rf)
	d.tokMirror.set(n, tf)
}
