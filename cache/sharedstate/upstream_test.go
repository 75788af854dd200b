package sharedstate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// drainedSnap is what the fake upstream reports for a 120 rpm key whose
// request bucket is empty at at: nothing left, full again in a minute.
func drainedSnap(at time.Time) ratelimit.Snapshot {
	s := ratelimit.Empty(at)
	s.LimitRequests, s.RemainingRequests, s.ResetRequests = 120, 0, time.Minute
	return s
}

// TestStoreTake steps one deployment's upstream bucket through a script of
// takes and snapshots; every Store (the memory store in Go, Redis in Lua)
// must give the same answers.
func TestStoreTake(t *testing.T) {
	type step struct {
		advance time.Duration
		snap    func(now time.Time) ratelimit.Snapshot // pushed with the take; nil: none
		n       int64
		ok      bool
		wait    time.Duration // when refused
	}
	none := func(time.Time) ratelimit.Snapshot { return ratelimit.Snapshot{} }
	half := func(now time.Time) ratelimit.Snapshot { // 60 of 120 left: refills 1 per 500 ms
		s := ratelimit.Empty(now)
		s.LimitRequests, s.RemainingRequests, s.ResetRequests = 120, 60, 30*time.Second
		return s
	}
	unknown := func(now time.Time) ratelimit.Snapshot { // a retry hint only
		s := ratelimit.Empty(now)
		s.RetryAfter = time.Second
		return s
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no snapshot: granted", []step{{n: 1, ok: true}, {n: 100, ok: true}}},
		{"drained: one per refill, across every taker", []step{
			{snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: 499 * time.Millisecond, n: 1, ok: false, wait: time.Millisecond},
			{advance: time.Millisecond, n: 1, ok: true},
			{n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: time.Second, n: 1, ok: true},
			{n: 1, ok: true},
			{n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"given back", []step{
			{snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: 500 * time.Millisecond, n: 1, ok: true},
			{n: -1, ok: true},
			{n: 1, ok: true},
			{n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"a newer, lower snapshot lowers the bucket", []step{
			{snap: half, n: 1, ok: true},
			{advance: time.Second, snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"a newer, higher snapshot does not raise it", []step{
			{snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: 500 * time.Millisecond, n: 1, ok: true},
			// The snapshot does not know of the request just taken.
			{snap: func(now time.Time) ratelimit.Snapshot {
				s := drainedSnap(now)
				s.RemainingRequests, s.ResetRequests = 1, 59500*time.Millisecond
				return s
			}, n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"an older snapshot changes nothing", []step{
			{snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: 500 * time.Millisecond, snap: func(now time.Time) ratelimit.Snapshot { return half(now.Add(-time.Hour)) }, n: 1, ok: true},
			{snap: none, n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"full again after the reset", []step{
			{snap: drainedSnap, n: 1, ok: false, wait: 500 * time.Millisecond},
			{advance: 2 * time.Minute, n: 120, ok: true},
			{n: 1, ok: false, wait: 500 * time.Millisecond},
		}},
		{"no remaining count: granted", []step{{snap: unknown, n: 1, ok: true}, {n: 1, ok: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, e storeEnv) {
				ctx := context.Background()
				for i, st := range tt.steps {
					e.advance(st.advance)
					var snap ratelimit.Snapshot
					if st.snap != nil {
						snap = st.snap(e.clock.Now())
					}
					ok, wait, err := e.store.Take(ctx, "dep-up", e.clock.Window(), snap, st.n)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if ok != st.ok || (!ok && wait != st.wait) {
						t.Errorf("step %d: Take(%d) = %v, wait %v; want %v, wait %v", i, st.n, ok, wait, st.ok, st.wait)
					}
				}
			})
		})
	}
}

// takeCounter counts a Store's Take calls.
type takeCounter struct {
	Store
	takes atomic.Int64
}

func (c *takeCounter) Take(ctx context.Context, id string, w Window, snap ratelimit.Snapshot, n int64) (bool, time.Duration, error) {
	c.takes.Add(1)
	return c.Store.Take(ctx, id, w, snap, n)
}

// TestSyncerUpstreamAcrossReplicas: four Syncers share one Store. Once
// one of them has read that the upstream budget is used up, they admit
// together one request per refill (500 ms at 120 rpm), in both modes, and
// refuse the others with an "upstream" *LimitError saying when the next
// fits. While the budget is far from used up, no request costs a Take.
func TestSyncerUpstreamAcrossReplicas(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			clock := newFakeClock(t0)
			store := &takeCounter{Store: NewMemoryStore()}
			sys := make([]*Syncer, 4)
			for i := range sys {
				sys[i] = NewSyncer(store, Config{Mode: mode, Interval: new(time.Duration(0)), Now: clock.Now, Logger: quiet})
				defer sys[i].Close()
			}
			lim := Limits{RPM: 120}
			plenty := ratelimit.Empty(clock.Now())
			plenty.LimitRequests, plenty.RemainingRequests, plenty.ResetRequests = 120, 100, 10*time.Second
			sys[0].ObserveSnapshot("d", plenty)
			for _, s := range sys {
				if err := s.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				r, err := s.Reserve(ctx, "d", 10, lim)
				if err != nil {
					t.Fatal(err)
				}
				r.Done(10)
			}
			if n := store.takes.Load(); n != 0 {
				t.Errorf("%d Takes with 100 of 120 requests left", n)
			}

			clock.Add(time.Second)
			sys[2].ObserveSnapshot("d", drainedSnap(clock.Now()))
			if err := sys[2].Flush(ctx); err != nil { // pushed before the others read
				t.Fatal(err)
			}
			admitted := 0
			for step := range 20 { // 2 s in 100 ms steps, every Syncer trying each step
				for _, s := range sys { // the background loops, in step
					if err := s.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
				for i, s := range sys {
					r, err := s.Reserve(ctx, "d", 10, lim)
					var le *LimitError
					switch {
					case err == nil:
						admitted++
						r.Done(10)
					case errors.As(err, &le) && le.Limit == "upstream":
						if le.RetryAfter <= 0 || le.RetryAfter > 500*time.Millisecond {
							t.Errorf("step %d, replica %d: retry after %v", step, i, le.RetryAfter)
						}
					default:
						t.Fatalf("step %d, replica %d: %v", step, i, err)
					}
				}
				clock.Add(100 * time.Millisecond)
			}
			// At 0.5, 1.0, 1.5 s of the 2 s (the 2.0 s step is not run).
			if admitted != 3 {
				t.Errorf("%d requests admitted in 2 s of a drained 120 rpm budget, want 3", admitted)
			}
		})
	}
}

// failingTake is a Store whose Take fails.
type failingTake struct{ Store }

func (failingTake) Take(context.Context, string, Window, ratelimit.Snapshot, int64) (bool, time.Duration, error) {
	return false, 0, &StoreError{Op: "take", Err: errors.New("connection refused")}
}

// TestSyncerUpstreamStoreDown: a Take that fails admits the request (the
// deployment's own projection of the headers still holds) and starts an
// incident, reported once; while it lasts no Take is tried.
func TestSyncerUpstreamStoreDown(t *testing.T) {
	clock := newFakeClock(t0)
	var errs errorLog
	store := &takeCounter{Store: failingTake{NewMemoryStore()}}
	s := NewSyncer(store, Config{Interval: new(time.Duration(0)), Now: clock.Now, Logger: quiet, OnError: errs.record})
	defer s.Close()
	s.ObserveSnapshot("d", drainedSnap(clock.Now()))
	for i := range 3 {
		r, err := s.Reserve(context.Background(), "d", 1, Limits{})
		if err != nil {
			t.Fatalf("reservation %d: %v", i, err)
		}
		r.Done(1)
	}
	var se *StoreError
	if err := s.Err(); !errors.As(err, &se) || se.Op != "take" {
		t.Errorf("Err() = %v, want the take's *StoreError", err)
	}
	if n := store.takes.Load(); n != 1 {
		t.Errorf("%d Takes, want 1: none while the incident lasts", n)
	}
	if got := errs.pattern(); got != "E" {
		t.Errorf("OnError calls %q, want one incident (E)", got)
	}
}
