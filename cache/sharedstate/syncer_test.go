package sharedstate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// discardRedisLog silences go-redis's own logger (one line per failed
// dial), which the fault tests provoke on purpose.
type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(discardRedisLog{})
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// errorLog records what a Syncer reports through Config.OnError.
type errorLog struct {
	mu     sync.Mutex
	events []error
}

func (l *errorLog) record(err error) {
	l.mu.Lock()
	l.events = append(l.events, err)
	l.mu.Unlock()
}

// pattern returns the reports as "E" (error) and "R" (recovered).
func (l *errorLog) pattern() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b []byte
	for _, e := range l.events {
		if e != nil {
			b = append(b, 'E')
		} else {
			b = append(b, 'R')
		}
	}
	return string(b)
}

var modes = []SyncMode{SyncEveryRequest, SyncBatched}

// hammer runs workers goroutines on each syncer, each reserving on dep
// until refused, and returns how many reservations succeeded.
func hammer(t *testing.T, syncers []*Syncer, workers int, dep string, lim Limits) int64 {
	t.Helper()
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, s := range syncers {
		for range workers {
			wg.Go(func() {
				for range 100000 {
					r, err := s.Reserve(context.Background(), dep, 1, lim)
					if err != nil {
						var le *LimitError
						if !errors.As(err, &le) {
							t.Errorf("reserve: %v", err)
						}
						return
					}
					total.Add(1)
					r.Done(-1)
				}
			})
		}
	}
	wg.Wait()
	return total.Load()
}

// testMultiReplica has four replicas, each with its own client, share one
// deployment limited to N rpm and checks that together they reserve
// exactly what the sliding window allows, window after window.
func testMultiReplica(t *testing.T, newStore func(t *testing.T) (Store, *cmdCounter)) {
	const n = 200
	lim := Limits{RPM: n}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			clock := newFakeClock(t0.Add(time.Second))
			var syncers []*Syncer
			var counters []*cmdCounter
			for r := range 4 {
				st, cnt := newStore(t)
				counters = append(counters, cnt)
				s := NewSyncer(st, Config{Mode: mode, Now: clock.Now, Logger: quiet,
					ReplicaID: fmt.Sprint("r", r), Timeout: 5 * time.Second})
				t.Cleanup(func() { _ = s.Close() })
				syncers = append(syncers, s)
			}
			steps := []struct {
				at   time.Duration
				want int64
			}{
				{time.Second, n},             // fresh window
				{30 * time.Second, 0},        // same window, limit spent
				{90 * time.Second, n / 2},    // half of the previous window still counts
				{150 * time.Second, n - n/4}, // previous window held n/2, 50% of it counts
			}
			for _, st := range steps {
				clock.Set(t0.Add(st.at))
				var rtt0 int64
				for _, c := range counters {
					rtt0 += c.leases.Load()
				}
				got := hammer(t, syncers, 4, "dep-"+mode.String(), lim)
				if got != st.want {
					t.Errorf("at %v: replicas reserved %d together, want %d", st.at, got, st.want)
				}
				var rtt int64
				for _, c := range counters {
					rtt += c.leases.Load()
				}
				rtt -= rtt0
				t.Logf("at %v: %d reserved, %d reserve/lease calls", st.at, got, rtt)
				// Batched leases grow to 2% of the limit (4 requests here):
				// 50 leases per full window, plus each replica's ramp-up and
				// the 16 refusals that end the hammer; every-request mode
				// makes one call per reservation.
				if mode == SyncBatched && got >= 100 && rtt*2 > got {
					t.Errorf("batched: %d lease calls for %d reservations, want under 1 per 2", rtt, got)
				}
			}
		})
	}
}

func TestMultiReplicaMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	testMultiReplica(t, func(t *testing.T) (Store, *cmdCounter) {
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		cnt := &cmdCounter{}
		c.AddHook(cnt)
		t.Cleanup(func() { _ = c.Close() })
		return NewRedisStoreFromClient(c, "mr:"), cnt
	})
}

func TestMultiReplicaRedis(t *testing.T) {
	prefix := newReal(t).prefix
	testMultiReplica(t, func(t *testing.T) (Store, *cmdCounter) {
		s, err := NewRedisStore(RedisConfig{URL: redisURL(), Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		cnt := &cmdCounter{}
		s.Client().AddHook(cnt)
		t.Cleanup(func() { _ = s.Close() })
		return s, cnt
	})
}

// TestMultiReplicaMemory is the same with one shared MemoryStore.
func TestMultiReplicaMemory(t *testing.T) {
	m := NewMemoryStore()
	testMultiReplica(t, func(t *testing.T) (Store, *cmdCounter) { return m, &cmdCounter{} })
}

// TestSyncerTokens checks tpm limits, corrections and cancellations.
func TestSyncerTokens(t *testing.T) {
	ctx := context.Background()
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			store, _ := newMini(t)
			clock := newFakeClock(t0)
			s := NewSyncer(store, Config{Mode: mode, Now: clock.Now, Interval: new(time.Duration(0)), Logger: quiet})
			defer s.Close()
			lim := Limits{TPM: 1000}
			var rs []Reservation
			for range 10 {
				r, err := s.Reserve(ctx, "d", 100, lim)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			_, err := s.Reserve(ctx, "d", 100, lim)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != "tpm" {
				t.Fatalf("11th reservation: %v, want tpm LimitError", err)
			}
			rs[0].Done(40)  // used 60 fewer than estimated
			rs[1].Done(-1)  // unknown: keep estimate
			rs[2].Cancel()  // never sent: 100 back
			rs[3].Done(100) // exact
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if op, _ := readOp(ctx, store, clock.Window(), "d"); op.Usage != (Usage{Requests: 9, Tokens: 840}) {
				t.Errorf("shared usage %+v, want 9 requests, 840 tokens", op.Usage)
			}
			if u := s.Usage("d"); u != (Usage{Requests: 9, Tokens: 840}) {
				t.Errorf("Syncer.Usage %+v, want 9 requests, 840 tokens", u)
			}
			if got := s.InFlight("d"); got != 6 {
				t.Errorf("in flight %d, want 6", got)
			}
			// 160 tokens are free again.
			if _, err := s.Reserve(ctx, "d", 150, lim); err != nil {
				t.Errorf("after corrections: %v", err)
			}
		})
	}
}

// TestSyncerSharesCooldownsSnapshotsInFlight checks what one replica
// learns from another through the Store.
func TestSyncerSharesCooldownsSnapshotsInFlight(t *testing.T) {
	ctx := context.Background()
	store, _ := newMini(t)
	clock := newFakeClock(t0)
	type cdEvent struct {
		id string
		c  Cooldown
	}
	var mu sync.Mutex
	var cds []cdEvent
	var snaps []string
	a := NewSyncer(store, Config{Now: clock.Now, Interval: new(time.Duration(0)), ReplicaID: "a", Logger: quiet})
	b := NewSyncer(store, Config{Now: clock.Now, Interval: new(time.Duration(0)), ReplicaID: "b", Logger: quiet,
		OnCooldown: func(id string, c Cooldown) {
			mu.Lock()
			cds = append(cds, cdEvent{id, c})
			mu.Unlock()
		},
		OnSnapshot: func(id string, s ratelimit.Snapshot) {
			mu.Lock()
			snaps = append(snaps, fmt.Sprint(id, s.RemainingRequests))
			mu.Unlock()
		}})
	defer a.Close()
	defer b.Close()
	b.Track("d1", "d2")
	now := clock.Now()

	a.SetCooldown("d1", now.Add(30*time.Second), "429")
	a.SetCooldown("d1", now.Add(10*time.Second), "shorter") // ignored: never shortens
	a.ObserveSnapshot("d2", snap(now, 42))
	a.ObserveSnapshot("d2", snap(now.Add(-time.Second), 7)) // older: ignored
	for range 3 {
		if _, err := a.Reserve(ctx, "d2", 0, Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := b.Reserve(ctx, "d2", 0, Limits{})
	for _, s := range []*Syncer{a, b} {
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c, ok := b.Cooldown("d1")
	if !ok || c.Reason != "429" || !c.Until.Equal(now.Add(30*time.Second)) {
		t.Errorf("b's cooldown of d1: %+v %v", c, ok)
	}
	if sn, ok := b.Snapshot("d2"); !ok || sn.RemainingRequests != 42 {
		t.Errorf("b's snapshot of d2: %+v %v", sn, ok)
	}
	if got := b.InFlight("d2"); got != 4 {
		t.Errorf("b sees %d in flight, want 4 (3 at a, 1 at b)", got)
	}
	mu.Lock()
	if len(cds) != 1 || cds[0].id != "d1" || cds[0].c.Reason != "429" || len(snaps) != 1 || snaps[0] != "d242" {
		t.Errorf("callbacks: cooldowns %+v, snapshots %v", cds, snaps)
	}
	mu.Unlock()

	r.Done(0)
	_ = b.Flush(ctx)
	if got := b.InFlight("d2"); got != 3 {
		t.Errorf("after Done: %d in flight, want 3", got)
	}
	// A cooldown that has ended is no longer reported.
	clock.Add(31 * time.Second)
	if _, ok := b.Cooldown("d1"); ok {
		t.Error("cooldown still active after it ended")
	}
	// A replica that closes withdraws its in-flight count.
	_ = a.Close()
	_ = b.Flush(ctx)
	if got := b.InFlight("d2"); got != 0 {
		t.Errorf("after a closed: %d in flight, want 0", got)
	}
}

// TestSyncerFaultMiniredis stops Redis mid-run: every call goes on from
// local state, the incident is reported once, and sharing resumes (with the
// outage's usage pushed) when Redis is back.
func TestSyncerFaultMiniredis(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			mr := miniredis.RunT(t)
			store, err := NewRedisStore(RedisConfig{Addr: mr.Addr(), Prefix: "f:"})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			runFault(t, mode, store, func() { mr.Close() }, func() {
				if err := mr.Restart(); err != nil {
					t.Fatal(err)
				}
			}, true)
		})
	}
}

// runFault drives one Syncer through an outage. keepsData says whether
// the server keeps its data across the restart.
func runFault(t *testing.T, mode SyncMode, store *RedisStore, stop, start func(), keepsData bool) {
	ctx := context.Background()
	clock := newFakeClock(t0.Add(time.Second))
	var errs errorLog
	s := NewSyncer(store, Config{Mode: mode, Now: clock.Now, Interval: new(time.Duration(0)), Logger: quiet,
		OnError: errs.record, Timeout: 2 * time.Second})
	lim := Limits{RPM: 1000}
	reserve := func(n int) {
		t.Helper()
		for range n {
			r, err := s.Reserve(ctx, "d", 1, lim)
			if err != nil {
				t.Fatalf("reserve: %v", err)
			}
			r.Done(-1)
		}
	}
	reserve(10)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	reserve(20) // the first notices, the rest do not even try
	s.SetCooldown("d", clock.Now().Add(time.Hour), "outage")
	for range 3 {
		if err := s.Flush(ctx); err == nil {
			t.Fatal("flush succeeded with Redis down")
		}
	}
	if s.Err() == nil || errs.pattern() != "E" {
		t.Fatalf("during the outage: err=%v reports %q, want an error and one E", s.Err(), errs.pattern())
	}
	start()
	// go-redis reconnects by itself; the first flush may meet a broken
	// pooled connection.
	var err error
	for range 5 {
		if err = s.Flush(ctx); err == nil {
			break
		}
	}
	if err != nil || s.Err() != nil || errs.pattern() != "ER" {
		t.Fatalf("after restart: flush %v, err=%v, reports %q, want ER", err, s.Err(), errs.pattern())
	}
	reserve(5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	op, err := readOp(ctx, store, clock.Window(), "d")
	u := op.Usage
	switch {
	case err != nil:
		t.Errorf("shared usage: %v", err)
	case keepsData && u.Requests != 35:
		t.Errorf("shared usage %+v, want 35 requests", u)
	case !keepsData && mode == SyncEveryRequest && u.Requests != 25:
		// The 10 before were lost with the server; the 20 of the outage
		// were pushed after it.
		t.Errorf("shared usage %+v, want 25 requests", u)
	case !keepsData && u.Requests < 20:
		// Leases granted by the lost server are given back to the new one.
		t.Errorf("shared usage %+v, want at least the outage's 20 requests", u)
	}
	op, err = readOp(ctx, store, clock.Window(), "d")
	if c := op.SharedCooldown; err != nil || c.Reason != "outage" {
		t.Errorf("cooldown set during the outage: %+v (%v)", c, err)
	}
}

// blockingStore never answers before the context ends: a Redis that
// hangs.
type blockingStore struct{}

func (b *blockingStore) Lease(ctx context.Context, id string, w Window, want, min Usage, lim Limits) (Usage, Usage, error) {
	<-ctx.Done()
	return Usage{}, Usage{}, &StoreError{Op: "lease", Err: ctx.Err()}
}

func (b *blockingStore) Sync(ctx context.Context, w Window, ops []SyncOp) error {
	<-ctx.Done()
	return &StoreError{Op: "sync", Err: ctx.Err()}
}

func (b *blockingStore) Take(ctx context.Context, id string, w Window, snap ratelimit.Snapshot, n int64) (bool, time.Duration, error) {
	<-ctx.Done()
	return false, 0, &StoreError{Op: "take", Err: ctx.Err()}
}

// TestSyncerHungStore checks that a Store that never answers costs at most
// one timeout, after which calls are served locally, within limit/replicas.
func TestSyncerHungStore(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			var errs errorLog
			s := NewSyncer(&blockingStore{}, Config{Mode: mode, Interval: new(time.Duration(0)), Logger: quiet,
				Timeout: time.Millisecond, Replicas: 4, OnError: errs.record})
			defer s.Close()
			lim := Limits{RPM: 100}
			n := 0
			for range 50 {
				if _, err := s.Reserve(context.Background(), "d", 0, lim); err != nil {
					var le *LimitError
					if !errors.As(err, &le) || le.Limit != "rpm" {
						t.Fatalf("reserve: %v", err)
					}
					continue
				}
				n++
			}
			if n != 25 || errs.pattern() != "E" {
				t.Errorf("admitted %d locally (want 100/4 = 25), reports %q (want E)", n, errs.pattern())
			}
		})
	}
}

// TestSyncerCanceledContext: a caller that gave up gets its own error and
// does not start an incident.
func TestSyncerCanceledContext(t *testing.T) {
	var errs errorLog
	s := NewSyncer(&blockingStore{}, Config{Mode: SyncEveryRequest, Interval: new(time.Duration(0)), Logger: quiet, OnError: errs.record})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Reserve(ctx, "d", 0, Limits{RPM: 1})
	if !errors.Is(err, context.Canceled) || s.Err() != nil || errs.pattern() != "" {
		t.Errorf("err %v, syncer err %v, reports %q", err, s.Err(), errs.pattern())
	}
}

func TestSyncerClosed(t *testing.T) {
	s := NewSyncer(nil, Config{}) // memory store, background loop running
	if _, err := s.Reserve(context.Background(), "d", 1, Limits{RPM: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // twice is fine
	if _, err := s.Reserve(context.Background(), "d", 1, Limits{RPM: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	var zero Reservation
	zero.Done(1)
	zero.Cancel()
}

// TestSyncerLeaseGivenBack: a lease unused when its window ends goes back
// to the Store, so the sliding estimate only counts what was spent.
func TestSyncerLeaseGivenBack(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	clock := newFakeClock(t0.Add(time.Second))
	s := NewSyncer(store, Config{Now: clock.Now, Interval: new(time.Duration(0)), Logger: quiet})
	defer s.Close()
	lim := Limits{RPM: 10000}
	for range 50 { // the lease grows to 2% of 10000
		if _, err := s.Reserve(ctx, "d", 0, lim); err != nil {
			t.Fatal(err)
		}
	}
	if op, _ := readOp(ctx, store, clock.Window(), "d"); op.Usage.Requests <= 50 {
		t.Fatalf("store usage %d: expected an outstanding lease", op.Usage.Requests)
	}
	clock.Add(time.Minute)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prev := Window{At: t0.Add(time.Second)}
	if op, _ := readOp(ctx, store, prev, "d"); op.Usage.Requests != 50 {
		t.Errorf("previous window holds %d, want the 50 spent", op.Usage.Requests)
	}
}
