package cache

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// MemoryStore is a [Store] in process memory: the default when replicas do
// not share state, and a reference for what a shared Store does. Its zero
// value is ready to use. It is safe for concurrent use.
//
// Entries expire like the Redis keys do (usage after two windows,
// snapshots and cooldowns after their TTL); expired entries are swept at
// most once a minute during normal operations, so memory stays bounded by
// the number of live deployments.
type MemoryStore struct {
	// Now is the clock used for TTLs; nil means time.Now. Usage windows use
	// the Window passed to each call.
	Now func() time.Time

	mu        sync.Mutex
	deps      map[string]*memDep
	lastSweep time.Time
	closed    bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

type memWindow struct {
	idx int64
	u   Usage
}

// windows holds the counts of the two latest usage windows, window i in
// slot i&1.
type windows [2]memWindow

// get returns window i's counts.
func (ws *windows) get(i int64) Usage {
	if s := ws[i&1]; s.idx == i {
		return s.u
	}
	return Usage{}
}

// estimate returns the sliding-window estimate at w.
func (ws *windows) estimate(w Window) Usage {
	i := w.Index()
	cur, prev, wt := ws.get(i), ws.get(i-1), w.prevWeight()
	return Usage{Requests: estimate(cur.Requests, prev.Requests, wt), Tokens: estimate(cur.Tokens, prev.Tokens, wt)}
}

// add adds u to window i unless a newer window already took its slot.
func (ws *windows) add(i int64, u Usage) {
	if u == (Usage{}) {
		return
	}
	s := &ws[i&1]
	switch {
	case s.idx == i:
	case s.idx < i || s.u == (Usage{}):
		*s = memWindow{idx: i}
	default:
		return // a late write to a window that is gone
	}
	s.u.Requests += u.Requests
	s.u.Tokens += u.Tokens
}

type memInFlight struct {
	n  int64
	at time.Time
}

type memDep struct {
	win      windows
	snap     ratelimit.Snapshot
	hasSnap  bool
	snapExp  time.Time
	cd       Cooldown
	cdExp    time.Time
	inflight map[string]memInFlight
}

func (m *MemoryStore) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// dep returns id's entry, creating it; m.mu must be held.
func (m *MemoryStore) dep(id string) *memDep {
	if m.deps == nil {
		m.deps = make(map[string]*memDep)
	}
	d := m.deps[id]
	if d == nil {
		d = &memDep{}
		m.deps[id] = d
	}
	return d
}

// lock takes m.mu and sweeps expired entries when due. It reports false
// (and releases the lock) when the store is closed.
func (m *MemoryStore) lock(at time.Time) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	now := m.now()
	if now.Sub(m.lastSweep) >= time.Minute {
		m.lastSweep = now
		m.sweep(now, at)
	}
	return true
}

func (m *MemoryStore) sweep(now, at time.Time) {
	cur := WindowAt(at, 0).Index()
	for id, d := range m.deps {
		if d.hasSnap && !now.Before(d.snapExp) {
			d.hasSnap, d.snap = false, ratelimit.Snapshot{}
		}
		if !d.cdExp.IsZero() && !now.Before(d.cdExp) {
			d.cd, d.cdExp = Cooldown{}, time.Time{}
		}
		for r, f := range d.inflight {
			if at.Sub(f.at) >= InFlightTTL {
				delete(d.inflight, r)
			}
		}
		// Usage windows are judged against the window length of the last
		// write, unknown here; one-minute windows older than the previous
		// one are certainly dead, longer windows rarely used.
		live := d.hasSnap || !d.cdExp.IsZero() || len(d.inflight) > 0
		for _, w := range d.win {
			if w.u != (Usage{}) && w.idx >= cur-1 {
				live = true
			}
		}
		if !live {
			delete(m.deps, id)
		}
	}
}

func (d *memDep) usage(w Window) Usage { return d.win.estimate(w) }

// add adds u to window i; like the Redis script, stored counts never go
// below zero.
func (d *memDep) add(i int64, u Usage) {
	d.win.add(i, u)
	if s := &d.win[i&1]; s.idx == i {
		s.u.Requests, s.u.Tokens = max(s.u.Requests, 0), max(s.u.Tokens, 0)
	}
}

// TryReserve implements [Store].
func (m *MemoryStore) TryReserve(ctx context.Context, id string, w Window, reqs, tokens, rpmLimit, tpmLimit int64) (bool, Usage, error) {
	want := Usage{Requests: reqs, Tokens: tokens}
	g, u, err := m.Lease(ctx, id, w, want, want, Limits{RPM: rpmLimit, TPM: tpmLimit})
	return err == nil && g == want, u, err
}

// Lease implements [Store].
func (m *MemoryStore) Lease(ctx context.Context, id string, w Window, want, min Usage, lim Limits) (Usage, Usage, error) {
	if !m.lock(w.At) {
		return Usage{}, Usage{}, &StoreError{Op: "lease", Err: ErrClosed}
	}
	defer m.mu.Unlock()
	d := m.dep(id)
	u := d.usage(w)
	g := grant(u, want, lim)
	if g.Requests < min.Requests || g.Tokens < min.Tokens || d.win[w.Index()&1].idx > w.Index() {
		// Refused, or asked for a window older than one already
		// counted (a caller whose clock runs behind): nothing granted.
		return Usage{}, u, nil
	}
	d.add(w.Index(), g)
	return g, Usage{Requests: u.Requests + g.Requests, Tokens: u.Tokens + g.Tokens}, nil
}

// IncrUsage implements [Store].
func (m *MemoryStore) IncrUsage(ctx context.Context, id string, w Window, reqs, tokens int64) (Usage, error) {
	if !m.lock(w.At) {
		return Usage{}, &StoreError{Op: "incr", Err: ErrClosed}
	}
	defer m.mu.Unlock()
	d := m.dep(id)
	d.add(w.Index(), Usage{Requests: reqs, Tokens: tokens})
	return d.usage(w), nil
}

// SetSnapshot implements [Store].
func (m *MemoryStore) SetSnapshot(ctx context.Context, id string, s ratelimit.Snapshot) (ratelimit.Snapshot, error) {
	if !m.lock(s.ObservedAt) {
		return ratelimit.Snapshot{}, &StoreError{Op: "snapshot", Err: ErrClosed}
	}
	defer m.mu.Unlock()
	d := m.dep(id)
	d.putSnapshot(m.now(), s)
	return d.snap, nil
}

func (d *memDep) putSnapshot(now time.Time, s ratelimit.Snapshot) {
	if d.hasSnap && now.Before(d.snapExp) && !s.ObservedAt.After(d.snap.ObservedAt) {
		return
	}
	d.snap, d.hasSnap, d.snapExp = s, true, now.Add(snapshotTTL(s))
}

// SetCooldown implements [Store].
func (m *MemoryStore) SetCooldown(ctx context.Context, id string, now time.Time, c Cooldown) (Cooldown, error) {
	if !m.lock(now) {
		return Cooldown{}, &StoreError{Op: "cooldown", Err: ErrClosed}
	}
	defer m.mu.Unlock()
	d := m.dep(id)
	d.putCooldown(m.now(), now, c)
	return d.cooldown(m.now()), nil
}

func (d *memDep) putCooldown(storeNow, now time.Time, c Cooldown) {
	if c.Until.IsZero() {
		return
	}
	if !d.cdExp.IsZero() && storeNow.Before(d.cdExp) && !c.Until.After(d.cd.Until) {
		return
	}
	d.cd, d.cdExp = c, storeNow.Add(cooldownTTL(now, c.Until))
}

func (d *memDep) cooldown(storeNow time.Time) Cooldown {
	if d.cdExp.IsZero() || !storeNow.Before(d.cdExp) {
		return Cooldown{}
	}
	return d.cd
}

// Sync implements [Store].
func (m *MemoryStore) Sync(ctx context.Context, w Window, ops []SyncOp) error {
	if !m.lock(w.At) {
		err := &StoreError{Op: "sync", Err: ErrClosed}
		for k := range ops {
			ops[k].Err = err
		}
		return err
	}
	defer m.mu.Unlock()
	now := m.now()
	i := w.Index()
	for k := range ops {
		op := &ops[k]
		op.Err = nil
		d := m.dep(op.ID)
		d.add(i-1, op.IncrPrev)
		d.add(i, op.Incr)
		if op.HasSnapshot {
			d.putSnapshot(now, op.Snapshot)
		}
		d.putCooldown(now, w.At, op.Cooldown)
		if op.Replica != "" {
			if d.inflight == nil {
				d.inflight = make(map[string]memInFlight)
			}
			d.inflight[op.Replica] = memInFlight{n: op.InFlight, at: w.At}
		}
		op.Usage = d.usage(w)
		op.HasSharedSnapshot = d.hasSnap && now.Before(d.snapExp)
		op.SharedSnapshot = ratelimit.Snapshot{}
		if op.HasSharedSnapshot {
			op.SharedSnapshot = d.snap
		}
		op.SharedCooldown = d.cooldown(now)
		op.SharedInFlight = 0
		for r, f := range d.inflight {
			if w.At.Sub(f.at) >= InFlightTTL {
				delete(d.inflight, r)
				continue
			}
			op.SharedInFlight += f.n
		}
	}
	return nil
}

// Close implements [Store]; later calls fail with [ErrClosed].
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	m.closed, m.deps = true, nil
	m.mu.Unlock()
	return nil
}

// snapshotTTL is how long a stored snapshot stays useful: until its
// longest reset or retry hint has passed, at least ten minutes (its limits
// stay informative after a reset) and at most a day.
func snapshotTTL(s ratelimit.Snapshot) time.Duration {
	ttl := 10 * time.Minute
	for _, d := range []time.Duration{s.ResetRequests, s.ResetTokens, s.RetryAfter} {
		ttl = max(ttl, d+time.Minute)
	}
	return min(ttl, 24*time.Hour)
}

// cooldownTTL is how long a cooldown ending at until must be kept, seen
// from now: until it ends, plus a minute for clock skew between replicas.
func cooldownTTL(now, until time.Time) time.Duration {
	return max(until.Sub(now), 0) + time.Minute
}

var _ Store = (*MemoryStore)(nil)
