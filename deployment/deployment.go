package deployment

import (
	"errors"
	"fmt"
	"math"
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
	// immutable after New
	cfg      Config
	client   provider.Client
	set      Settings
	cooldown time.Duration // Config.CooldownTime, else Settings.CooldownTime
	ownCD    bool          // Config.CooldownTime was set: it wins over retry hints
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	limiter  *ratelimit.Limiter // nil when neither RPM nor TPM is set

	inFlight atomic.Int64
	latency  ewma // non-streaming calls
	ttft     ewma // streaming calls: time to first token

	// Cooldown and upstream exhaustion deadlines, unix nanoseconds, 0 = none.
	cooldownUntil  atomic.Int64
	exhaustedUntil atomic.Int64

	// Upstream rate-limit state: the latest snapshot, the requests and
	// estimated tokens this router began since it was stored, and the
	// largest remaining counts ever seen (the limit's stand-in when the
	// upstream sends remaining counts only).
	snap      atomic.Pointer[ratelimit.Snapshot]
	sinceReq  atomic.Int64
	sinceTok  atomic.Int64
	peakReq   atomic.Int64
	peakTok   atomic.Int64
	reqMirror bucketMirror // lock-free view of limiter's request bucket
	tokMirror bucketMirror // and of its token bucket

	// Breaker state mirrored from gobreaker's OnStateChange for lock-free
	// reads; gen counts state changes, so that outcomes of calls begun
	// before a change are dropped.
	state atomic.Int32 // gobreaker.State
	gen   atomic.Uint64
	probe atomic.Bool // a half-open probe is in flight

	mu    sync.Mutex // serialises failure accounting and trips
	fails []int64    // guarded by mu: failure times (unix ns) in the window, oldest first
}

// New returns a deployment for cfg that sends its calls through client.
// cfg.ID defaults to DefaultID(cfg) and zero fields of cfg.Info are filled
// from provider/models. It fails when cfg has no Model, or has a negative or
// non-finite weight or limit.
func New(cfg Config, client provider.Client, s Settings) (*Deployment, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		cfg.ID = DefaultID(cfg)
	}
	cfg.ExtraHeaders = cfg.ExtraHeaders.Clone()
	cfg.Tags = append([]string(nil), cfg.Tags...)
	cfg.Info = withModelDefaults(cfg.Model, cfg.Info)

	s = s.withDefaults()
	d := &Deployment{cfg: cfg, client: client, set: s, cooldown: s.CooldownTime}
	if cfg.CooldownTime > 0 {
		d.cooldown, d.ownCD = cfg.CooldownTime, true
	}
	if cfg.RPM > 0 || cfg.TPM > 0 {
		d.limiter = ratelimit.NewLimiter(cfg.RPM, cfg.TPM)
	}
	d.fails = make([]int64, 0, min(s.AllowedFails+1, 64))
	d.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        cfg.ID,
		MaxRequests: 1,
		// gobreaker reads the wall clock, which tests cannot step. Its open
		// state therefore lasts 1ns, and the cooldown deadline, kept here
		// with the injected clock, gates the half-open probe instead.
		Timeout: time.Nanosecond,
		// Failures are counted here, in a window on the injected clock;
		// gobreaker is only told of a failure in the closed state when the
		// deployment must trip.
		ReadyToTrip: func(gobreaker.Counts) bool { return true },
		IsExcluded:  func(err error) bool { return err == errRelease },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			d.state.Store(int32(to))
			d.gen.Add(1)
		},
	})
	return d, nil
}

func (c *Config) validate() error {
	switch {
	case c.Model == "":
		return errors.New("deployment: config has no model")
	case c.Weight < 0 || math.IsNaN(c.Weight) || math.IsInf(c.Weight, 0):
		return fmt.Errorf("deployment: %s: weight %v is not a finite number >= 0", c.Model, c.Weight)
	case c.RPM < 0, c.TPM < 0, c.MaxParallelRequests < 0:
		return fmt.Errorf("deployment: %s: rpm, tpm and max_parallel_requests must be >= 0", c.Model)
	case c.Timeout < 0, c.StreamTimeout < 0, c.CooldownTime < 0:
		return fmt.Errorf("deployment: %s: timeouts and cooldown_time must be >= 0", c.Model)
	case c.Info.MaxInputTokens < 0, c.Info.MaxOutputTokens < 0,
		c.Info.InputCostPerToken < 0, c.Info.OutputCostPerToken < 0:
		return fmt.Errorf("deployment: %s: model info must be >= 0", c.Model)
	}
	return nil
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

// LatencyAt returns when Latency last got a sample, the zero Time if never.
func (d *Deployment) LatencyAt() time.Time { return d.latency.sampledAt() }

// TTFT returns the moving average of streaming calls' time to first token,
// 0 when never measured.
func (d *Deployment) TTFT() time.Duration { return d.ttft.load() }

// TTFTAt returns when TTFT last got a sample, the zero Time if never.
func (d *Deployment) TTFTAt() time.Time { return d.ttft.sampledAt() }

// Snapshot returns the latest rate-limit snapshot read from this
// deployment's response headers, nil when none has been seen. The snapshot
// must not be modified.
func (d *Deployment) Snapshot() *ratelimit.Snapshot { return d.snap.Load() }

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
	if d.limiter != nil {
		if d.cfg.RPM > 0 && d.reqMirror.left(now, d.cfg.RPM) < 1 {
			return ReasonRPM
		}
		if d.cfg.TPM > 0 && budget > 0 && d.tokMirror.left(now, d.cfg.TPM) < float64(budget) {
			return ReasonTPM
		}
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
//     projected forward to now (buckets refill linearly until their reset),
//     minus the requests and estimated tokens this router began since the
//     snapshot was observed, over the limit (or, when the upstream sends no
//     limit, the largest remaining count seen);
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
	if s := d.liveSnapshot(now); s != nil {
		h = min(h,
			fraction(s.RequestsLeftAt(now), d.sinceReq.Load(), s.LimitRequests, d.peakReq.Load()),
			fraction(s.TokensLeftAt(now), d.sinceTok.Load(), s.LimitTokens, d.peakTok.Load()))
	}
	if d.limiter != nil {
		if d.cfg.RPM > 0 {
			h = min(h, d.reqMirror.left(n, d.cfg.RPM)/float64(d.cfg.RPM))
		}
		if d.cfg.TPM > 0 {
			h = min(h, d.tokMirror.left(n, d.cfg.TPM)/float64(d.cfg.TPM))
		}
	}
	return max(h, 0)
}

// fraction returns (left - since) / limit clamped to [0, 1], with peak
// standing in for an unknown limit; 1 when left is Unknown.
func fraction(left, since, limit, peak int64) float64 {
	if left < 0 {
		return 1
	}
	if limit <= 0 {
		limit = peak
	}
	if limit <= 0 {
		if left-since > 0 {
			return 1
		}
		return 0
	}
	f := float64(left-since) / float64(limit)
	return min(max(f, 0), 1)
}

// upstreamExhausted reports whether the upstream's headers, projected to
// now and less this router's traffic since, leave no room for one more
// request of budget tokens.
func (d *Deployment) upstreamExhausted(now int64, budget int) bool {
	if now < d.exhaustedUntil.Load() {
		return true
	}
	s := d.snap.Load()
	if s == nil {
		return false
	}
	t := time.Unix(0, now)
	if !live(s, t) {
		return false
	}
	if left := s.RequestsLeftAt(t); left >= 0 && left-d.sinceReq.Load() < 1 {
		return true
	}
	if left := s.TokensLeftAt(t); left >= 0 && left-d.sinceTok.Load() < int64(max(budget, 1)) {
		return true
	}
	return false
}

// liveSnapshot returns the latest snapshot if it still says something
// about now.
func (d *Deployment) liveSnapshot(now time.Time) *ratelimit.Snapshot {
	s := d.snap.Load()
	if s == nil || !live(s, now) {
		return nil
	}
	return s
}

// live reports whether s still describes now: until both budgets have
// fully reset (or, with no reset times, for ratelimit.AssumedWindow). After
// that the counts of requests since the snapshot no longer mean anything.
func live(s *ratelimit.Snapshot, now time.Time) bool {
	horizon := max(s.ResetRequests, s.ResetTokens, ratelimit.AssumedWindow)
	return now.Sub(s.ObservedAt) < horizon
}

// storeSnapshot keeps s as the latest snapshot unless a newer one is
// already stored, and restarts the counts of traffic since.
func (d *Deployment) storeSnapshot(s *ratelimit.Snapshot) {
	for {
		cur := d.snap.Load()
		if cur != nil && cur.ObservedAt.After(s.ObservedAt) {
			return
		}
		if d.snap.CompareAndSwap(cur, s) {
			break
		}
	}
	d.sinceReq.Store(0)
	d.sinceTok.Store(0)
	storeMax(&d.peakReq, s.RemainingRequests)
	storeMax(&d.peakTok, s.RemainingTokens)
	if until, ok := s.ExhaustedUntil(); ok {
		storeMax(&d.exhaustedUntil, until.UnixNano())
	}
}

// storeMax sets v to max(v, n).
func storeMax(v *atomic.Int64, n int64) {
	for {
		cur := v.Load()
		if n <= cur || v.CompareAndSwap(cur, n) {
			return
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

// left returns the tokens in a bucket of burst b at now.
func (m *bucketMirror) left(now int64, b int) float64 {
	f := float64(now-m.empty.Load()) / float64(time.Minute)
	return min(max(f, 0), 1) * float64(b)
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
