package sharedstate

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// NewMemoryStore returns an empty Store in process memory: the default of
// a Syncer over a nil Store (nothing shared, same code), the way to share
// state between routers of one process, and a reference for what a shared
// Store does. It is safe for concurrent use.
//
// It keeps time by the Window of each call (the callers' clock): entries
// expire like the Redis keys do (usage after two windows, snapshots and
// cooldowns after their TTL), and expired entries are swept at most once a
// minute during normal operations, so memory stays bounded by the number of
// live deployments.
func NewMemoryStore() Store { return &memoryStore{} }

// memoryStore is the Store of NewMemoryStore.
type memoryStore struct {
	mu        sync.Mutex
	deps      map[string]*memDep // guarded by mu
	lastSweep time.Time          // guarded by mu
}

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
	up       upBucket // follows snap; dropped with it
}

// dep returns id's entry, creating it; m.mu must be held.
func (m *memoryStore) dep(id string) *memDep {
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

// lock takes m.mu and sweeps expired entries when due.
func (m *memoryStore) lock(now time.Time) {
	m.mu.Lock()
	if now.Sub(m.lastSweep) >= time.Minute {
		m.lastSweep = now
		m.sweep(now)
	}
}

func (m *memoryStore) sweep(now time.Time) {
	cur := Window{At: now}.Index()
	for id, d := range m.deps {
		if d.hasSnap && !now.Before(d.snapExp) {
			d.hasSnap, d.snap, d.up = false, ratelimit.Snapshot{}, upBucket{}
		}
		if !d.cdExp.IsZero() && !now.Before(d.cdExp) {
			d.cd, d.cdExp = Cooldown{}, time.Time{}
		}
		for r, f := range d.inflight {
			if now.Sub(f.at) >= inFlightTTL {
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

// Lease implements [Store].
func (m *memoryStore) Lease(ctx context.Context, id string, w Window, want, min Usage, lim Limits) (Usage, Usage, error) {
	m.lock(w.At)
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

func (d *memDep) putSnapshot(now time.Time, s ratelimit.Snapshot) {
	if d.hasSnap && now.Before(d.snapExp) && !s.ObservedAt.After(d.snap.ObservedAt) {
		return
	}
	d.snap, d.hasSnap, d.snapExp = s, true, now.Add(snapshotTTL(s))
}

func (d *memDep) putCooldown(now time.Time, c Cooldown) {
	if c.Until.IsZero() {
		return
	}
	if !d.cdExp.IsZero() && now.Before(d.cdExp) && !c.Until.After(d.cd.Until) {
		return
	}
	d.cd, d.cdExp = c, now.Add(cooldownTTL(now, c.Until))
}

func (d *memDep) cooldown(now time.Time) Cooldown {
	if d.cdExp.IsZero() || !now.Before(d.cdExp) {
		return Cooldown{}
	}
	return d.cd
}

// Take implements [Store].
func (m *memoryStore) Take(ctx context.Context, id string, w Window, snap ratelimit.Snapshot, n int64) (bool, time.Duration, error) {
	now := w.At
	m.lock(now)
	defer m.mu.Unlock()
	d := m.dep(id)
	if !snap.ObservedAt.IsZero() {
		d.putSnapshot(now, snap)
	}
	if !d.hasSnap || !now.Before(d.snapExp) {
		return true, 0, nil
	}
	ok, wait := d.up.take(d.snap, float64(now.UnixMilli()), n)
	return ok, waitDuration(wait), nil
}

// Sync implements [Store].
func (m *memoryStore) Sync(ctx context.Context, w Window, ops []SyncOp) error {
	now := w.At
	m.lock(now)
	defer m.mu.Unlock()
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
		d.putCooldown(now, op.Cooldown)
		if op.Replica != "" {
			if d.inflight == nil {
				d.inflight = make(map[string]memInFlight)
			}
			d.inflight[op.Replica] = memInFlight{n: op.InFlight, at: now}
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
			if now.Sub(f.at) >= inFlightTTL {
				delete(d.inflight, r)
				continue
			}
			op.SharedInFlight += f.n
		}
	}
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

var _ Store = (*memoryStore)(nil)
