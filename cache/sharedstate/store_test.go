package sharedstate

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// storeEnv is one Store under test with a clock that drives both the
// windows and the backend's TTLs.
type storeEnv struct {
	store   Store
	clock   *fakeClock
	advance func(d time.Duration)
	mr      *miniredis.Miniredis // nil unless miniredis
}

type storeMaker struct {
	name string
	make func(t *testing.T) storeEnv
}

func storeMakers() []storeMaker {
	return []storeMaker{
		{"memory", func(t *testing.T) storeEnv {
			// The memory store keeps time by the windows it is given.
			c := newFakeClock(t0)
			return storeEnv{store: NewMemoryStore(), clock: c, advance: c.Add}
		}},
		{"miniredis", func(t *testing.T) storeEnv {
			s, mr := newMini(t)
			c := newFakeClock(t0)
			mr.SetTime(t0)
			return storeEnv{store: s, clock: c, advance: func(d time.Duration) { c.Add(d); mr.FastForward(d) }, mr: mr}
		}},
		{"redis", func(t *testing.T) storeEnv {
			s := newReal(t)
			c := newFakeClock(t0)
			// The real server's TTLs follow its own clock; TTL tests skip it.
			return storeEnv{store: s, clock: c, advance: c.Add}
		}},
		{"cluster", func(t *testing.T) storeEnv {
			c := newFakeClock(t0)
			return storeEnv{store: newCluster(t), clock: c, advance: c.Add}
		}},
		{"sentinel", func(t *testing.T) storeEnv {
			c := newFakeClock(t0)
			return storeEnv{store: newSentinel(t), clock: c, advance: c.Add}
		}},
	}
}

func forEachStore(t *testing.T, f func(t *testing.T, e storeEnv)) {
	for _, m := range storeMakers() {
		t.Run(m.name, func(t *testing.T) { f(t, m.make(t)) })
	}
}

func TestStoreTryReserveLimits(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		rpm, tpm   int64
		tokens     int64
		wantOK     int // reservations that succeed out of 10
		wantUsage  Usage
		wantReject string
	}{
		{"rpm", 5, 0, 10, 5, Usage{5, 50}, "rpm"},
		{"tpm", 0, 35, 10, 3, Usage{3, 30}, "tpm"},
		{"both, rpm first", 2, 1000, 10, 2, Usage{2, 20}, "rpm"},
		{"unlimited", 0, 0, 10, 10, Usage{10, 100}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, e storeEnv) {
				okN := 0
				var last Usage
				for range 10 {
					ok, u, err := reserve(ctx, e.store, "dep-a", e.clock.Window(), Usage{1, tt.tokens}, Limits{tt.rpm, tt.tpm})
					if err != nil {
						t.Fatal(err)
					}
					if ok {
						okN++
					}
					last = u
				}
				if okN != tt.wantOK || last != tt.wantUsage {
					t.Fatalf("ok %d times, usage %+v; want %d, %+v", okN, last, tt.wantOK, tt.wantUsage)
				}
				if tt.wantReject != "" {
					if got := limitError("dep-a", last, 1, tt.tokens, Limits{tt.rpm, tt.tpm}).Limit; got != tt.wantReject {
						t.Errorf("rejected by %s, want %s", got, tt.wantReject)
					}
				}
				// Another deployment has its own budget.
				if ok, _, _ := reserve(ctx, e.store, "dep-b", e.clock.Window(), Usage{1, tt.tokens}, Limits{tt.rpm, tt.tpm}); !ok {
					t.Error("dep-b refused")
				}
			})
		})
	}
}

// TestStoreSlidingWindow checks the sliding approximation: the previous
// window counts in proportion to how much of it is still inside the
// trailing minute.
func TestStoreSlidingWindow(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		e.clock.Set(t0.Add(30 * time.Second))
		reserveAll := func() (n int64, u Usage) {
			for {
				ok, uu, err := reserve(ctx, e.store, "d", e.clock.Window(), Usage{Requests: 1}, Limits{RPM: 100})
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					return n, uu
				}
				n++
			}
		}
		if n, _ := reserveAll(); n != 100 {
			t.Fatalf("first window: %d reserved, want 100", n)
		}
		steps := []struct {
			at   time.Duration // from t0
			want int64         // reservations that fit
		}{
			{60 * time.Second, 0},  // previous window weighs 100%
			{75 * time.Second, 25}, // 75% of 100 left
			{90 * time.Second, 25}, // 50 of prev + 25 of cur = 75
			{120 * time.Second, 50},
			{180 * time.Second, 50},  // the 50 of [120s, 180s) weigh 100%
			{300 * time.Second, 100}, // two windows later: all gone
		}
		for _, s := range steps {
			e.clock.Set(t0.Add(s.at))
			n, u := reserveAll()
			if n != s.want || u.Requests != 100 {
				t.Errorf("at %v: %d reserved (usage %d), want %d (usage 100)", s.at, n, u.Requests, s.want)
			}
		}
	})
}

func TestStoreLease(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		w := e.clock.Window()
		lim := Limits{RPM: 10, TPM: 1000}
		steps := []struct {
			want, min, granted Usage
		}{
			{Usage{4, 400}, Usage{1, 100}, Usage{4, 400}},
			{Usage{4, 400}, Usage{1, 100}, Usage{4, 400}},
			{Usage{4, 400}, Usage{1, 100}, Usage{2, 200}}, // partial
			{Usage{4, 400}, Usage{1, 0}, Usage{}},         // nothing left
		}
		for i, s := range steps {
			g, _, err := e.store.Lease(ctx, "d", w, s.want, s.min, lim)
			if err != nil {
				t.Fatal(err)
			}
			if g != s.granted {
				t.Errorf("step %d: granted %+v, want %+v", i, g, s.granted)
			}
		}
		// Giving back makes room again, and usage never goes negative.
		if op, err := syncOp(ctx, e.store, w, SyncOp{ID: "d", Incr: Usage{-3, -300}}); err != nil || op.Usage != (Usage{7, 700}) {
			t.Fatalf("give back: %+v, %v", op.Usage, err)
		}
		if op, _ := syncOp(ctx, e.store, w, SyncOp{ID: "d", Incr: Usage{-100, -100000}}); op.Usage != (Usage{}) {
			t.Errorf("usage after over-refund %+v, want zero", op.Usage)
		}
		if g, _, _ := e.store.Lease(ctx, "d", w, Usage{4, 400}, Usage{4, 400}, lim); g != (Usage{4, 400}) {
			t.Errorf("after refund granted %+v", g)
		}
	})
}

func snap(at time.Time, remaining int64) ratelimit.Snapshot {
	s := ratelimit.Empty(at)
	s.LimitRequests, s.RemainingRequests, s.ResetRequests = 100, remaining, 7*time.Second
	return s
}

func TestStoreSnapshotNewestWins(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		now := e.clock.Now()
		steps := []struct {
			put       ratelimit.Snapshot
			wantAtSec int
		}{
			{snap(now.Add(2*time.Second), 20), 2},
			{snap(now.Add(1*time.Second), 10), 2}, // older: ignored
			{snap(now.Add(3*time.Second), 30), 3},
			{snap(now.Add(3*time.Second), 99), 3}, // same time: first kept
		}
		for i, s := range steps {
			op, err := syncOp(ctx, e.store, e.clock.Window(), SyncOp{ID: "d", Snapshot: s.put, HasSnapshot: true})
			if err != nil {
				t.Fatal(err)
			}
			got := op.SharedSnapshot
			if !op.HasSharedSnapshot || got.ObservedAt.Sub(now) != time.Duration(s.wantAtSec)*time.Second {
				t.Errorf("step %d: kept snapshot observed at +%v, want +%ds", i, got.ObservedAt.Sub(now), s.wantAtSec)
			}
		}
		got := mustSync(t, e.store, e.clock.Window(), SyncOp{ID: "d", Snapshot: snap(now, 0), HasSnapshot: true}).SharedSnapshot
		want := snap(now.Add(3*time.Second), 30)
		if !got.ObservedAt.Equal(want.ObservedAt) || got.RemainingRequests != 30 || got.ResetRequests != 7*time.Second ||
			got.LimitTokens != ratelimit.Unknown || got.RetryAfter != ratelimit.Unknown {
			t.Errorf("snapshot round trip: %+v, want %+v", got, want)
		}
	})
}

func TestStoreCooldownExtendsNeverShortens(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		now := e.clock.Now()
		steps := []struct {
			until      time.Duration
			reason     string
			wantUntil  time.Duration
			wantReason string
		}{
			{10 * time.Second, "429", 10 * time.Second, "429"},
			{5 * time.Second, "500", 10 * time.Second, "429"},
			{time.Minute, "auth", time.Minute, "auth"},
			{time.Minute, "other", time.Minute, "auth"},
		}
		for i, s := range steps {
			op, err := syncOp(ctx, e.store, Window{At: now}, SyncOp{ID: "d", Cooldown: Cooldown{Until: now.Add(s.until), Reason: s.reason}})
			if err != nil {
				t.Fatal(err)
			}
			got := op.SharedCooldown
			if got.Until.Sub(now) != s.wantUntil || got.Reason != s.wantReason {
				t.Errorf("step %d: %v %q, want %v %q", i, got.Until.Sub(now), got.Reason, s.wantUntil, s.wantReason)
			}
		}
	})
}

func TestStoreSyncInFlight(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		sync := func(replica string, n int64) int64 {
			ops := []SyncOp{{ID: "d", Replica: replica, InFlight: n}}
			if err := e.store.Sync(ctx, e.clock.Window(), ops); err != nil {
				t.Fatal(err)
			}
			return ops[0].SharedInFlight
		}
		if got := sync("r1", 3); got != 3 {
			t.Errorf("r1 alone: %d", got)
		}
		if got := sync("r2", 4); got != 7 {
			t.Errorf("r1+r2: %d", got)
		}
		if got := sync("r1", 1); got != 5 {
			t.Errorf("r1 updated: %d", got)
		}
		e.clock.Add(20 * time.Second)
		if got := sync("r2", 2); got != 3 {
			t.Errorf("after 20s: %d", got)
		}
		e.clock.Add(15 * time.Second) // r1 silent for 35 s: gone
		if got := sync("", 0); got != 2 {
			t.Errorf("r1 expired: %d, want 2", got)
		}
	})
}

func TestStoreSyncBatch(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, e storeEnv) {
		now := e.clock.Now()
		w := e.clock.Window()
		ops := []SyncOp{
			{ID: "a", Incr: Usage{3, 300}, Snapshot: snap(now, 5), HasSnapshot: true},
			{ID: "b", IncrPrev: Usage{10, 0}, Cooldown: Cooldown{Until: now.Add(time.Minute), Reason: "x"}},
			{ID: "c"},
		}
		if err := e.store.Sync(ctx, w, ops); err != nil {
			t.Fatal(err)
		}
		if ops[0].Usage != (Usage{3, 300}) || !ops[0].HasSharedSnapshot || ops[0].SharedSnapshot.RemainingRequests != 5 {
			t.Errorf("a: %+v", ops[0])
		}
		// t0 is a window start: the previous window weighs 100%.
		if ops[1].Usage != (Usage{10, 0}) || ops[1].SharedCooldown.Reason != "x" || ops[1].HasSharedSnapshot {
			t.Errorf("b: %+v", ops[1])
		}
		if ops[2].Usage != (Usage{}) || ops[2].HasSharedSnapshot || !ops[2].SharedCooldown.Until.IsZero() {
			t.Errorf("c: %+v", ops[2])
		}
		if err := e.store.Sync(ctx, w, nil); err != nil {
			t.Errorf("empty sync (ping): %v", err)
		}
	})
}

// TestStoreTTL checks that nothing outlives its TTL.
func TestStoreTTL(t *testing.T) {
	ctx := context.Background()
	for _, m := range storeMakers()[:2] {
		t.Run(m.name, func(t *testing.T) {
			e := m.make(t)
			now := e.clock.Now()
			if _, _, err := reserve(ctx, e.store, "d", e.clock.Window(), Usage{1, 10}, Limits{}); err != nil {
				t.Fatal(err)
			}
			if _, err := syncOp(ctx, e.store, e.clock.Window(), SyncOp{ID: "d", Snapshot: snap(now, 1), HasSnapshot: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := syncOp(ctx, e.store, e.clock.Window(), SyncOp{ID: "d", Cooldown: Cooldown{Until: now.Add(5 * time.Second), Reason: "r"}}); err != nil {
				t.Fatal(err)
			}
			ops := []SyncOp{{ID: "d", Replica: "r1", InFlight: 2}}
			_ = e.store.Sync(ctx, e.clock.Window(), ops)

			e.advance(2 * time.Minute)
			ops = []SyncOp{{ID: "d"}}
			_ = e.store.Sync(ctx, e.clock.Window(), ops)
			if !ops[0].HasSharedSnapshot || ops[0].Usage != (Usage{}) || !ops[0].SharedCooldown.Until.IsZero() || ops[0].SharedInFlight != 0 {
				t.Errorf("after 2 min: want only the snapshot left, got %+v", ops[0])
			}
			e.advance(10 * time.Minute)
			switch s := e.store.(type) {
			case *RedisStore:
				if keys := e.mr.Keys(); len(keys) != 0 {
					t.Errorf("keys left after 12 min: %v", keys)
				}
			case *memoryStore:
				_, _ = readOp(ctx, s, e.clock.Window(), "other") // triggers the sweep
				s.mu.Lock()
				_, left := s.deps["d"]
				s.mu.Unlock()
				if left {
					t.Error("memory entry left after 12 min")
				}
			}
		})
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(snap(t0, 3)))
	f.Add(encodeSnapshot(ratelimit.Empty(t0)))
	f.Add("00000000000000000001|1|2|3|4|5|6|7")
	f.Add("00000000000000000001|1|2|3")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := decodeSnapshot(v)
		if err != nil {
			return
		}
		if got := encodeSnapshot(s); got[stampLen:] != v[stampLen:] && len(v) > 0 {
			// Numbers may be spelled differently ("+1", "01"); decoding
			// the re-encoding must give the same snapshot.
			s2, err := decodeSnapshot(got)
			if err != nil || s2 != s {
				t.Fatalf("round trip %q -> %+v -> %q -> %+v", v, s, got, s2)
			}
		}
	})
}

func FuzzDecodeCooldown(f *testing.F) {
	f.Add(encodeCooldown(Cooldown{Until: t0, Reason: "rate_limited"}))
	f.Add("00000000000000000001|")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := decodeCooldown(v)
		if err != nil {
			return
		}
		c2, err := decodeCooldown(encodeCooldown(c))
		if err != nil || !c2.Until.Equal(c.Until) || c2.Reason != c.Reason {
			t.Fatalf("round trip %q: %+v -> %+v (%v)", v, c, c2, err)
		}
	})
}

// TestRedisSyncAfterScriptFlush: a server that lost its script cache (a
// restart, SCRIPT FLUSH) gets the scripts again, and no op runs twice.
func TestRedisSyncAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	s, mr := newMini(t)
	w := Window{At: t0}
	ops := []SyncOp{{ID: "a", Incr: Usage{Requests: 1}}, {ID: "b", Incr: Usage{Requests: 2}}}
	if err := s.Sync(ctx, w, ops); err != nil {
		t.Fatal(err)
	}
	mr.FlushAll()
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	ops = []SyncOp{{ID: "a", Incr: Usage{Requests: 1}}, {ID: "b", Incr: Usage{Requests: 2}}}
	if err := s.Sync(ctx, w, ops); err != nil {
		t.Fatal(err)
	}
	if ops[0].Usage.Requests != 1 || ops[1].Usage.Requests != 2 {
		t.Errorf("after script flush: %+v %+v", ops[0].Usage, ops[1].Usage)
	}
	if ok, _, err := reserve(ctx, s, "a", w, Usage{Requests: 1}, Limits{RPM: 2}); !ok || err != nil {
		t.Errorf("reserve after script flush: %v %v", ok, err)
	}
}
