package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// SyncMode says how a [Syncer] shares usage with the other replicas.
type SyncMode uint8

const (
	// SyncBatched (the default) keeps the hot path free of round trips.
	// For a deployment with an rpm or tpm limit, the replica leases a small
	// slice of the limit from the Store (at most 2% of it by default, sized
	// to about one lease per interval) and reserves from the lease locally;
	// the Store never hands out more than the limit, so replicas together
	// never exceed it, and an unused lease is given back when its window
	// ends. Counts without a limit, token corrections, snapshots, cooldowns
	// and in-flight counts are pushed, and the shared state read back, in
	// one pipelined round trip per interval. Staleness: what other replicas
	// did is seen within one interval (plus the Store's latency); a
	// cooldown is pushed at once.
	SyncBatched SyncMode = iota
	// SyncEveryRequest reserves each request to a deployment with a limit
	// in the Store (one Lua call, one round trip): exact across replicas,
	// at the cost of one round trip per request. Everything else (requests
	// to deployments without limits, token corrections, snapshots,
	// cooldowns, in-flight counts) is batched as in SyncBatched.
	SyncEveryRequest
)

// String returns "batched" or "every-request".
func (m SyncMode) String() string {
	if m == SyncEveryRequest {
		return "every-request"
	}
	return "batched"
}

// Defaults of a Syncer.
const (
	DefaultSyncInterval = 100 * time.Millisecond
	DefaultSyncTimeout  = 50 * time.Millisecond
	DefaultLeaseShare   = 0.02
)

type syncerConfig struct {
	mode       SyncMode
	interval   time.Duration
	timeout    time.Duration
	window     time.Duration
	leaseShare float64
	replicas   int64
	replicaID  string
	now        func() time.Time
	log        *slog.Logger
	onError    func(error)
	onCooldown func(id string, c Cooldown)
	onSnapshot func(id string, s ratelimit.Snapshot)
}

// SyncerOption configures a [Syncer].
type SyncerOption func(*syncerConfig)

// WithMode selects how usage is shared; the default is SyncBatched.
func WithMode(m SyncMode) SyncerOption { return func(c *syncerConfig) { c.mode = m } }

// WithInterval sets how often the background loop pushes local state and
// refreshes shared state (default 100 ms). A negative interval starts no
// background loop: the caller calls [Syncer.Flush] itself.
func WithInterval(d time.Duration) SyncerOption { return func(c *syncerConfig) { c.interval = d } }

// WithTimeout bounds every Store call made on behalf of a request (default
// 50 ms). The background loop allows itself max(timeout, interval).
func WithTimeout(d time.Duration) SyncerOption { return func(c *syncerConfig) { c.timeout = d } }

// WithWindow sets the usage window length (default one minute: rpm, tpm).
func WithWindow(d time.Duration) SyncerOption { return func(c *syncerConfig) { c.window = d } }

// WithLeaseShare caps a batched lease at this fraction of the limit
// (default 0.02): smaller leases waste less of a limit at a window's end
// when replicas are uneven, larger ones need fewer round trips.
func WithLeaseShare(f float64) SyncerOption { return func(c *syncerConfig) { c.leaseShare = f } }

// WithReplicas says how many replicas share the limits. It is used only
// while the Store is unreachable: each replica then allows itself
// limit/replicas per window, so that the fleet stays near the limit. The
// default, 1, lets each replica use the whole limit during an outage
// (availability first).
func WithReplicas(n int) SyncerOption { return func(c *syncerConfig) { c.replicas = int64(n) } }

// WithReplicaID names this replica in the shared in-flight counts; the
// default is random.
func WithReplicaID(id string) SyncerOption { return func(c *syncerConfig) { c.replicaID = id } }

// WithClock sets the clock used for windows and cooldowns (default
// time.Now).
func WithClock(now func() time.Time) SyncerOption { return func(c *syncerConfig) { c.now = now } }

// WithLogger sets the logger (default slog.Default()). A Store incident is
// logged once when it starts and once when sharing resumes.
func WithLogger(l *slog.Logger) SyncerOption { return func(c *syncerConfig) { c.log = l } }

// WithOnError sets a callback told when sharing stops (with the error) and
// when it resumes (with nil), once per transition. It runs synchronously on
// the goroutine that noticed, so it must not block.
func WithOnError(f func(err error)) SyncerOption { return func(c *syncerConfig) { c.onError = f } }

// WithOnCooldown sets a callback told about cooldowns set by other
// replicas (the router calls Deployment.SetCooldown with them). It runs on
// the background goroutine and must not block.
func WithOnCooldown(f func(id string, c Cooldown)) SyncerOption {
	return func(c *syncerConfig) { c.onCooldown = f }
}

// WithOnSnapshot sets a callback told about rate-limit snapshots newer than
// this replica's, observed by other replicas. It runs on the background
// goroutine and must not block.
func WithOnSnapshot(f func(id string, s ratelimit.Snapshot)) SyncerOption {
	return func(c *syncerConfig) { c.onSnapshot = f }
}

// Syncer sits between the router and a [Store]. It answers the router's
// questions from local state and keeps that state in step with the Store
// as [SyncMode] says, so that a request costs at most one Store round trip
// (none on most requests in SyncBatched mode). When the Store fails, every
// call goes on from local state; the incident is logged and reported once
// and sharing resumes when the Store answers again (go-redis reconnects by
// itself; the background loop retries every interval).
//
// All methods are safe for concurrent use. The background goroutine stops
// with Close, which does not close the Store.
type Syncer struct {
	// immutable
	store Store
	cfg   syncerConfig
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	mu   sync.RWMutex
	deps map[string]*depState // guarded by mu

	flushMu sync.Mutex // one flush at a time
	ops     []SyncOp   // guarded by flushMu
	opDeps  []*depState

	healthy   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	errMu     sync.Mutex
	lastErr   error // guarded by errMu
}

// depState is one deployment's local view.
type depState struct {
	id string

	refill sync.Mutex // one lease refill at a time; taken before mu, never while holding it

	mu       sync.Mutex
	own      windows // this replica's usage, all of it
	pending  windows // usage not yet in the Store
	shared   Usage   // usage across replicas, as last seen
	sharedAt int64   // window index of shared
	lease    Usage   // leased from the Store, not yet spent
	leaseIdx int64   // window index of lease
	chunk    int64   // next lease size in requests
	leaseAt  time.Time
	avgTok   int64 // running average of tokens per request
	inflight int64
	others   int64 // in-flight at other replicas, as last seen
	snap     ratelimit.Snapshot
	hasSnap  bool
	snapDirt bool
	cd       Cooldown
	cdDirty  bool
}

// NewSyncer returns a Syncer over store, starting its background loop. A
// nil store means a fresh [MemoryStore] (nothing shared, same API).
func NewSyncer(store Store, opts ...SyncerOption) *Syncer {
	cfg := syncerConfig{interval: DefaultSyncInterval, timeout: DefaultSyncTimeout, leaseShare: DefaultLeaseShare, replicas: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.interval == 0 {
		cfg.interval = DefaultSyncInterval
	}
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultSyncTimeout
	}
	if cfg.window <= 0 {
		cfg.window = DefaultWindow
	}
	if !(cfg.leaseShare > 0 && cfg.leaseShare <= 1) {
		cfg.leaseShare = DefaultLeaseShare
	}
	cfg.replicas = max(cfg.replicas, 1)
	if cfg.replicaID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.replicaID = hex.EncodeToString(b[:])
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	if store == nil {
		store = &MemoryStore{Now: cfg.now}
	}
	s := &Syncer{
		store: store,
		cfg:   cfg,
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		deps:  make(map[string]*depState),
	}
	s.healthy.Store(true)
	if cfg.interval > 0 {
		go s.run()
	} else {
		close(s.done)
	}
	return s
}

// Mode returns the sync mode.
func (s *Syncer) Mode() SyncMode { return s.cfg.mode }

// Store returns the Store the Syncer shares state through.
func (s *Syncer) Store() Store { return s.store }

// Healthy reports whether the Store answered the last call made to it.
func (s *Syncer) Healthy() bool { return s.healthy.Load() }

// Err returns the error that started the current incident, nil when
// healthy.
func (s *Syncer) Err() error {
	if s.healthy.Load() {
		return nil
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.lastErr
}

func (s *Syncer) window(now time.Time) Window { return Window{At: now, Length: s.cfg.window} }

// dep returns id's state, creating it. Deployments are tracked until
// Forget.
func (s *Syncer) dep(id string) *depState {
	s.mu.RLock()
	d := s.deps[id]
	s.mu.RUnlock()
	if d != nil {
		return d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d = s.deps[id]; d == nil {
		d = &depState{id: id, chunk: 1}
		s.deps[id] = d
	}
	return d
}

func (s *Syncer) lookup(id string) *depState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.deps[id]
}

// Track starts sharing state for the deployments (so that cooldowns and
// snapshots from other replicas arrive before this replica first uses
// them). Reserve, ObserveSnapshot and SetCooldown track implicitly.
func (s *Syncer) Track(ids ...string) {
	for _, id := range ids {
		s.dep(id)
	}
}

// Forget stops tracking a deployment that was removed. Its unpushed local
// usage is dropped; shared keys expire by their TTL.
func (s *Syncer) Forget(id string) {
	s.mu.Lock()
	delete(s.deps, id)
	s.mu.Unlock()
}

// fail starts an incident, once.
func (s *Syncer) fail(err error) {
	if s.healthy.CompareAndSwap(true, false) {
		s.errMu.Lock()
		s.lastErr = err
		s.errMu.Unlock()
		s.cfg.log.Warn("cache: shared state unavailable; serving from local state", "err", err)
		if s.cfg.onError != nil {
			s.cfg.onError(err)
		}
	}
}

// recovered ends an incident, once.
func (s *Syncer) recovered() {
	if s.healthy.CompareAndSwap(false, true) {
		s.cfg.log.Info("cache: shared state available again")
		if s.cfg.onError != nil {
			s.cfg.onError(nil)
		}
	}
}

// Reservation is one request admitted by [Syncer.Reserve]. Call exactly one
// of Done (the request was sent) or Cancel (it was not) exactly once. The
// zero Reservation does nothing.
type Reservation struct {
	d      *depState
	idx    int64
	tokens int64
}

// Tokens returns the tokens reserved (the estimate passed to Reserve).
func (r Reservation) Tokens() int64 { return r.tokens }

// Done ends the request and corrects the token count to actualTokens (the
// usage the upstream reported; negative keeps the estimate). The correction
// reaches the Store with the next background push.
func (r Reservation) Done(actualTokens int64) {
	if r.d == nil {
		return
	}
	r.d.mu.Lock()
	r.d.inflight--
	if actualTokens >= 0 && actualTokens != r.tokens {
		u := Usage{Tokens: actualTokens - r.tokens}
		r.d.own.add(r.idx, u)
		r.d.pending.add(r.idx, u)
	}
	r.d.mu.Unlock()
}

// Cancel ends a request that was never sent and gives its reservation back.
func (r Reservation) Cancel() {
	if r.d == nil {
		return
	}
	r.d.mu.Lock()
	r.d.inflight--
	u := Usage{Requests: -1, Tokens: -r.tokens}
	r.d.own.add(r.idx, u)
	r.d.pending.add(r.idx, u)
	r.d.mu.Unlock()
}

// Reserve admits one request of an estimated tokens to deployment id if it
// fits the deployment's limits across all replicas (zero limits: no limit,
// the request is only counted). It returns a *LimitError when it does not
// fit, the context's error when ctx is done, and ErrClosed after Close;
// Store failures never reach the caller: Reserve falls back to local state
// (see [WithReplicas]). It waits for the Store at most the configured
// timeout, and not at all while the Store is known to be down.
func (s *Syncer) Reserve(ctx context.Context, id string, tokens int64, lim Limits) (Reservation, error) {
	if s.closed.Load() {
		return Reservation{}, ErrClosed
	}
	tokens = max(tokens, 0)
	now := s.cfg.now()
	w := s.window(now)
	i := w.Index()
	d := s.dep(id)
	r := Reservation{d: d, idx: i, tokens: tokens}
	one := Usage{Requests: 1, Tokens: tokens}
	switch {
	case lim.RPM <= 0 && lim.TPM <= 0:
		// Only counted: pushed with the next batch in both modes.
		d.mu.Lock()
		d.admit(i, one, one)
		d.mu.Unlock()
		return r, nil
	case !s.healthy.Load():
	case s.cfg.mode == SyncEveryRequest:
		ok, u, err := s.tryReserve(ctx, id, w, tokens, lim)
		if err == nil {
			d.mu.Lock()
			d.setShared(i, u)
			if ok {
				d.admit(i, one, Usage{})
			}
			d.mu.Unlock()
			if !ok {
				return Reservation{}, limitError(id, u, 1, tokens, lim)
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Reservation{}, ctx.Err()
		}
		s.fail(err)
	default:
		ok, u, err := s.reserveLeased(ctx, d, w, tokens, lim)
		if err == nil {
			if !ok {
				return Reservation{}, limitError(id, u, 1, tokens, lim)
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Reservation{}, ctx.Err()
		}
		s.fail(err)
	}
	return s.reserveLocal(d, w, tokens, lim)
}

func (s *Syncer) tryReserve(ctx context.Context, id string, w Window, tokens int64, lim Limits) (bool, Usage, error) {
	if _, local := s.store.(*MemoryStore); local { // cannot hang: no timer needed
		return s.store.TryReserve(ctx, id, w, 1, tokens, lim.RPM, lim.TPM)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	return s.store.TryReserve(ctx, id, w, 1, tokens, lim.RPM, lim.TPM)
}

// admit records an admitted request: all of it as this replica's own
// usage, push of it still to be pushed to the Store. d.mu must be held.
func (d *depState) admit(i int64, all, push Usage) {
	d.own.add(i, all)
	d.pending.add(i, push)
	d.inflight++
	if all.Requests > 0 {
		// Running average over roughly the last 16 requests.
		d.avgTok += (all.Tokens - d.avgTok) / 16
		if d.avgTok == 0 && all.Tokens > 0 {
			d.avgTok = all.Tokens
		}
	}
}

// setShared records the shared usage seen in window i. d.mu must be held.
func (d *depState) setShared(i int64, u Usage) {
	if i >= d.sharedAt {
		d.shared, d.sharedAt = u, i
	}
}

// rollLease gives back a lease from an earlier window. d.mu must be held.
func (d *depState) rollLease(i int64) {
	if d.leaseIdx != i {
		if d.lease != (Usage{}) {
			d.pending.add(d.leaseIdx, Usage{Requests: -d.lease.Requests, Tokens: -d.lease.Tokens})
		}
		d.lease, d.leaseIdx = Usage{}, i
	}
}

// split splits a request into the part leased from the Store (the
// dimensions with a limit) and the part only counted.
func split(one Usage, lim Limits) (leased, counted Usage) {
	if lim.RPM > 0 {
		leased.Requests = one.Requests
	} else {
		counted.Requests = one.Requests
	}
	if lim.TPM > 0 {
		leased.Tokens = one.Tokens
	} else {
		counted.Tokens = one.Tokens
	}
	return leased, counted
}

func covers(have, need Usage) bool {
	return have.Requests >= need.Requests && have.Tokens >= need.Tokens
}

// takeLease spends need from the lease if it covers it. d.mu must be held.
func (d *depState) takeLease(i int64, one, need, counted Usage) bool {
	d.rollLease(i)
	if !covers(d.lease, need) {
		return false
	}
	d.lease.Requests -= need.Requests
	d.lease.Tokens -= need.Tokens
	d.admit(i, one, counted)
	return true
}

// reserveLeased is SyncBatched's reservation: from the local lease, or by
// leasing more from the Store.
func (s *Syncer) reserveLeased(ctx context.Context, d *depState, w Window, tokens int64, lim Limits) (bool, Usage, error) {
	i := w.Index()
	one := Usage{Requests: 1, Tokens: tokens}
	need, counted := split(one, lim)
	d.mu.Lock()
	ok := d.takeLease(i, one, need, counted)
	d.mu.Unlock()
	if ok {
		return true, Usage{}, nil
	}

	d.refill.Lock()
	defer d.refill.Unlock()
	d.mu.Lock()
	if d.takeLease(i, one, need, counted) { // another goroutine refilled
		d.mu.Unlock()
		return true, Usage{}, nil
	}
	// Lease sizing: about one refill per interval, within the cap.
	capR := max(int64(float64(lim.RPM)*s.cfg.leaseShare), 1)
	if !d.leaseAt.IsZero() && w.At.Sub(d.leaseAt) < max(s.cfg.interval, DefaultSyncInterval) {
		d.chunk = min(d.chunk*2, capR)
	} else {
		d.chunk = max(d.chunk/2, 1)
	}
	d.chunk = min(d.chunk, capR)
	missing := Usage{Requests: max(need.Requests-d.lease.Requests, 0), Tokens: max(need.Tokens-d.lease.Tokens, 0)}
	want := Usage{}
	if lim.RPM > 0 {
		want.Requests = max(d.chunk, missing.Requests)
	}
	if lim.TPM > 0 {
		capT := max(int64(float64(lim.TPM)*s.cfg.leaseShare), 1)
		want.Tokens = max(min(d.chunk*max(d.avgTok, tokens), capT), missing.Tokens)
	}
	d.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	g, u, err := s.store.Lease(ctx, d.id, w, want, missing, lim)
	cancel()
	if err != nil {
		return false, Usage{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setShared(i, u)
	d.leaseAt = w.At
	d.rollLease(i)
	d.lease.Requests += g.Requests
	d.lease.Tokens += g.Tokens
	if !d.takeLease(i, one, need, counted) {
		return false, u, nil
	}
	return true, u, nil
}

// reserveLocal admits from this replica's own counts while the Store is
// unreachable, against limit/replicas.
func (s *Syncer) reserveLocal(d *depState, w Window, tokens int64, lim Limits) (Reservation, error) {
	i := w.Index()
	one := Usage{Requests: 1, Tokens: tokens}
	need, counted := split(one, lim)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.takeLease(i, one, need, counted) { // still valid budget
		return Reservation{d: d, idx: i, tokens: tokens}, nil
	}
	local := Limits{RPM: ceilDiv(lim.RPM, s.cfg.replicas), TPM: ceilDiv(lim.TPM, s.cfg.replicas)}
	u := d.own.estimate(w)
	if g := grant(u, one, local); g != one {
		return Reservation{}, limitError(d.id, u, 1, tokens, local)
	}
	d.admit(i, one, one)
	return Reservation{d: d, idx: i, tokens: tokens}, nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// Usage returns deployment id's usage over the trailing window across
// replicas, as last seen plus what this replica has not pushed yet: for
// usage-based routing. It never calls the Store.
func (s *Syncer) Usage(id string) Usage {
	d := s.lookup(id)
	if d == nil {
		return Usage{}
	}
	w := s.window(s.cfg.now())
	i := w.Index()
	d.mu.Lock()
	defer d.mu.Unlock()
	own := d.own.estimate(w)
	if d.sharedAt != i || !s.healthy.Load() {
		return own
	}
	p := d.pending.get(i)
	u := Usage{Requests: d.shared.Requests + p.Requests, Tokens: d.shared.Tokens + p.Tokens}
	return Usage{Requests: max(u.Requests, own.Requests), Tokens: max(u.Tokens, own.Tokens)}
}

// InFlight returns the number of requests in flight to deployment id at
// all replicas: this replica's exact count plus the others' as last
// published (at most one interval old). For least-busy routing.
func (s *Syncer) InFlight(id string) int64 {
	d := s.lookup(id)
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight + d.others
}

// ObserveSnapshot records a deployment's rate-limit snapshot (from a
// response's headers) unless a newer one is known; it is pushed to the
// other replicas with the next batch.
func (s *Syncer) ObserveSnapshot(id string, snap ratelimit.Snapshot) {
	d := s.dep(id)
	d.mu.Lock()
	if !d.hasSnap || snap.ObservedAt.After(d.snap.ObservedAt) {
		d.snap, d.hasSnap, d.snapDirt = snap, true, true
	}
	d.mu.Unlock()
}

// Snapshot returns the newest snapshot of deployment id seen by any
// replica, as last synced.
func (s *Syncer) Snapshot(id string) (ratelimit.Snapshot, bool) {
	d := s.lookup(id)
	if d == nil {
		return ratelimit.Snapshot{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snap, d.hasSnap
}

// SetCooldown records that deployment id must not be used until until;
// it extends, never shortens, a cooldown in force. It is pushed to the
// other replicas at once, in the background.
func (s *Syncer) SetCooldown(id string, until time.Time, reason string) {
	d := s.dep(id)
	d.mu.Lock()
	changed := until.After(d.cd.Until)
	if changed {
		d.cd, d.cdDirty = Cooldown{Until: until, Reason: reason}, true
	}
	d.mu.Unlock()
	if changed {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Cooldown returns deployment id's cooldown if one is in force now, from
// this replica or another.
func (s *Syncer) Cooldown(id string) (Cooldown, bool) {
	d := s.lookup(id)
	if d == nil {
		return Cooldown{}, false
	}
	d.mu.Lock()
	c := d.cd
	d.mu.Unlock()
	return c, c.Active(s.cfg.now())
}

func (s *Syncer) run() {
	defer close(s.done)
	t := time.NewTicker(s.cfg.interval)
	defer t.Stop()
	// While the Store is down, probe less and less often (up to every 16
	// intervals) rather than hammer it.
	var tick, every uint64 = 0, 1
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			tick++
			if tick%every != 0 {
				continue
			}
		case <-s.kick:
		}
		if s.flush(false) != nil {
			every = min(every*2, 16)
		} else {
			every = 1
		}
	}
}

// Flush pushes local state to the Store and refreshes shared state now,
// waiting at most max(timeout, interval). The background loop calls it
// every interval; call it directly when the loop is disabled.
func (s *Syncer) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.flushCtx(ctx, false)
}

func (s *Syncer) flush(final bool) error {
	return s.flushCtx(context.Background(), final)
}

type syncEvent struct {
	id   string
	cd   *Cooldown
	snap *ratelimit.Snapshot
}

func (s *Syncer) flushCtx(ctx context.Context, final bool) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	now := s.cfg.now()
	w := s.window(now)
	i := w.Index()

	s.mu.RLock()
	s.opDeps = s.opDeps[:0]
	for _, d := range s.deps {
		s.opDeps = append(s.opDeps, d)
	}
	s.mu.RUnlock()
	s.ops = s.ops[:0]
	for _, d := range s.opDeps {
		d.mu.Lock()
		if final {
			d.rollLease(i + 1) // give everything back
		} else {
			d.rollLease(i)
		}
		op := SyncOp{ID: d.id, Incr: d.pending.get(i), IncrPrev: d.pending.get(i - 1), Replica: s.cfg.replicaID, InFlight: d.inflight}
		d.pending = windows{}
		if d.snapDirt {
			op.Snapshot, op.HasSnapshot, d.snapDirt = d.snap, true, false
		}
		if d.cdDirty {
			op.Cooldown, d.cdDirty = d.cd, false
		}
		if final {
			op.InFlight = 0
		}
		d.mu.Unlock()
		s.ops = append(s.ops, op)
	}

	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.timeout, s.cfg.interval))
	err := s.store.Sync(ctx, w, s.ops)
	cancel()
	// A Store that failed without saying which ops failed failed them all.
	allFailed := err != nil
	for k := range s.ops {
		if s.ops[k].Err != nil {
			allFailed = false
		}
	}

	var events []syncEvent
	for k, d := range s.opDeps {
		op := &s.ops[k]
		d.mu.Lock()
		if op.Err != nil || allFailed {
			// Not applied: keep it for the next push.
			d.pending.add(i, op.Incr)
			d.pending.add(i-1, op.IncrPrev)
			if op.HasSnapshot && !d.snapDirt {
				d.snapDirt = !op.Snapshot.ObservedAt.Before(d.snap.ObservedAt)
			}
			if !op.Cooldown.Until.IsZero() && !d.cdDirty {
				d.cdDirty = !op.Cooldown.Until.Before(d.cd.Until)
			}
			d.mu.Unlock()
			continue
		}
		d.setShared(i, op.Usage)
		d.others = max(op.SharedInFlight-op.InFlight, 0)
		if op.HasSharedSnapshot && (!d.hasSnap || op.SharedSnapshot.ObservedAt.After(d.snap.ObservedAt)) {
			d.snap, d.hasSnap = op.SharedSnapshot, true
			sn := op.SharedSnapshot
			events = append(events, syncEvent{id: d.id, snap: &sn})
		}
		if op.SharedCooldown.Until.After(d.cd.Until) {
			d.cd = op.SharedCooldown
			c := op.SharedCooldown
			events = append(events, syncEvent{id: d.id, cd: &c})
		}
		d.mu.Unlock()
	}
	if err != nil {
		s.fail(err)
	} else {
		s.recovered()
	}
	for _, e := range events {
		if e.snap != nil && s.cfg.onSnapshot != nil {
			s.cfg.onSnapshot(e.id, *e.snap)
		}
		if e.cd != nil && s.cfg.onCooldown != nil && e.cd.Active(now) {
			s.cfg.onCooldown(e.id, *e.cd)
		}
	}
	return err
}

// Close stops the background loop, gives unused leases back and pushes
// what is left (waiting at most max(timeout, interval)), and withdraws
// this replica's in-flight counts. Later Reserve calls fail with
// ErrClosed. It does not close the Store.
func (s *Syncer) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
		if ferr := s.flush(true); ferr != nil && !errors.Is(ferr, ErrClosed) {
			err = ferr
		}
	})
	return err
}
