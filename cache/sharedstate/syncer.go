package sharedstate

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

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
	cfg   settings
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

// NewSyncer returns a Syncer over store, configured by cfg (see [Config]
// for the defaults of its zero fields), and starts its background loop. A
// nil store means a fresh [NewMemoryStore] (nothing shared, same API).
func NewSyncer(store Store, cfg Config) *Syncer {
	if store == nil {
		store = NewMemoryStore()
	}
	s := &Syncer{
		store: store,
		cfg:   cfg.settings(),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		deps:  make(map[string]*depState),
	}
	s.healthy.Store(true)
	if s.cfg.interval > 0 {
		go s.run()
	} else {
		close(s.done)
	}
	return s
}

// Err returns the error that started the current Store incident: nil while
// the Store answers (the last call made to it succeeded).
func (s *Syncer) Err() error {
	if s.healthy.Load() {
		return nil
	}
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.lastErr
}

func (s *Syncer) window(now time.Time) Window { return Window{At: now, Length: s.cfg.Window} }

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
		s.cfg.Logger.Warn("sharedstate: store unavailable; serving from local state", "err", err)
		if s.cfg.OnError != nil {
			s.cfg.OnError(err)
		}
	}
}

// recovered ends an incident, once.
func (s *Syncer) recovered() {
	if s.healthy.CompareAndSwap(false, true) {
		s.cfg.Logger.Info("sharedstate: store available again")
		if s.cfg.OnError != nil {
			s.cfg.OnError(nil)
		}
	}
}

// Usage returns deployment id's usage over the trailing window across
// replicas, as last seen plus what this replica has not pushed yet: for
// usage-based routing. It never calls the Store.
func (s *Syncer) Usage(id string) Usage {
	d := s.lookup(id)
	if d == nil {
		return Usage{}
	}
	w := s.window(s.cfg.Now())
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
	return c, s.cfg.Now().Before(c.Until)
}
