package sharedstate

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// run is the background loop: a flush every interval, and at once when a
// cooldown is set.
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
// waiting at most max(Timeout, Interval). The background loop calls it
// every interval; call it directly when the loop is off (Config.Interval
// explicitly zero).
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
	now := s.cfg.Now()
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
		op := SyncOp{ID: d.id, Incr: d.pending.get(i), IncrPrev: d.pending.get(i - 1), Replica: s.cfg.ReplicaID, InFlight: d.inflight}
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

	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.Timeout, s.cfg.interval))
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
		if e.snap != nil && s.cfg.OnSnapshot != nil {
			s.cfg.OnSnapshot(e.id, *e.snap)
		}
		if e.cd != nil && s.cfg.OnCooldown != nil && now.Before(e.cd.Until) {
			s.cfg.OnCooldown(e.id, *e.cd)
		}
	}
	return err
}

// Close stops the background loop, gives unused leases back and pushes
// what is left (waiting at most max(Timeout, Interval)), and withdraws
// this replica's in-flight counts. Later Reserve and Flush calls fail with
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
