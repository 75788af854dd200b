package router_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// These tests run several routers in one process, each with its own Redis
// client, as replicas of one service would: against a real Redis at
// REDIS_URL (default redis://127.0.0.1:6379/0) under a unique key prefix,
// and against miniredis, which always runs. They share one deployment: one
// API key of the fake upstream, limited to N requests per minute.

const replicas = 4

// stepClock is a clock the test steps, shared by the routers, their
// Syncers and the fake upstream's buckets; the routers' waits advance it.
type stepClock struct{ ns atomic.Int64 }

func newStepClock() *stepClock {
	c := &stepClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *stepClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *stepClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func uniquePrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "switchyard-router-test:" + hex.EncodeToString(b[:]) + ":"
}

// backend makes the stores of one test: one client per replica, all on
// the same Redis and prefix.
type backend struct {
	name string
	// open returns a function making a new store (a new client) for each
	// replica, and the miniredis server when there is one.
	open func(t *testing.T) (func() *sharedstate.RedisStore, *miniredis.Miniredis)
}

var backends = []backend{
	{"miniredis", func(t *testing.T) (func() *sharedstate.RedisStore, *miniredis.Miniredis) {
		mr := miniredis.RunT(t)
		return storeMaker(t, sharedstate.RedisConfig{Addr: mr.Addr(), Prefix: uniquePrefix()}), mr
	}},
	{"redis", func(t *testing.T) (func() *sharedstate.RedisStore, *miniredis.Miniredis) {
		cfg := sharedstate.RedisConfig{URL: redisURL(), Prefix: uniquePrefix()}
		probe, err := sharedstate.NewRedisStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if err := probe.Client().Ping(ctx).Err(); err != nil {
			_ = probe.Close()
			t.Skipf("no Redis at %s (set REDIS_URL to run against a real server): %v", cfg, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c := probe.Client()
			var keys []string
			iter := c.Scan(ctx, 0, cfg.Prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if len(keys) > 0 {
				_ = c.Del(ctx, keys...).Err()
			}
			_ = probe.Close()
		})
		return storeMaker(t, cfg), nil
	}},
}

func storeMaker(t *testing.T, cfg sharedstate.RedisConfig) func() *sharedstate.RedisStore {
	return func() *sharedstate.RedisStore {
		s, err := sharedstate.NewRedisStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

// fleet is replicas routers sharing one deployment of one fake upstream.
type fleet struct {
	clk     *stepClock
	srv     *openaitest.Server
	routers []*router.Router
	stores  []*sharedstate.RedisStore
	events  [][]router.SharedStateEvent
	mu      sync.Mutex
}

const sharedID = "shared-key"

// newFleet starts the fake upstream with one key limited to rpm requests
// per minute and the routers, each with its own store from newStore and
// the given Syncer configuration (its Timeout and ReplicaID set here).
func newFleet(t *testing.T, rpm int, newStore func() *sharedstate.RedisStore, sc sharedstate.Config) *fleet {
	t.Helper()
	f := &fleet{clk: newStepClock(), events: make([][]router.SharedStateEvent, replicas)}
	f.srv = openaitest.NewServer(openaitest.WithKey("sk-shared", openaitest.KeyConfig{RPM: rpm}), openaitest.WithClock(f.clk.Now))
	t.Cleanup(f.srv.Close)
	for i := range replicas {
		st := newStore()
		cfg := router.Config{Deployments: []deployment.Config{{
			ID: sharedID, ModelName: "mini", Model: "openai/gpt-4o-mini", APIKey: "sk-shared", BaseURL: f.srv.URL, RPM: rpm,
		}}}
		sc := sc
		// A generous timeout: these tests are about sharing while the
		// store answers (miniredis runs Lua slowly under -race on a loaded
		// machine); the outage test stops it outright.
		if sc.Timeout == 0 {
			sc.Timeout = 5 * time.Second
		}
		sc.ReplicaID = fmt.Sprint("replica-", i)
		r, err := router.New(cfg, router.WithClock(f.clk), quiet(),
			router.WithSharedState(st, sc),
			router.WithHooks(router.Hooks{OnSharedState: func(e router.SharedStateEvent) {
				f.mu.Lock()
				f.events[i] = append(f.events[i], e)
				f.mu.Unlock()
			}}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		f.routers = append(f.routers, r)
		f.stores = append(f.stores, st)
	}
	return f
}

func (f *fleet) flushAll(t *testing.T) {
	t.Helper()
	for i, r := range f.routers {
		if err := r.SharedState().Flush(t.Context()); err != nil {
			t.Fatalf("replica %d: Flush: %v", i, err)
		}
	}
}

func (f *fleet) eventsOf(i int) []router.SharedStateEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]router.SharedStateEvent(nil), f.events[i]...)
}

// TestSharedRPMAcrossReplicas is the multi-replica test: four routers, each
// with its own Redis client, send as much as they can to one key limited
// to N requests per minute. Together they send N within 2%, and never more:
// no call is a 429, and every call the routers refused was refused before
// reaching the upstream.
func TestSharedRPMAcrossReplicas(t *testing.T) {
	const (
		n       = 600
		workers = 6 // per replica
	)
	for _, be := range backends {
		for _, mode := range []sharedstate.SyncMode{sharedstate.SyncBatched, sharedstate.SyncEveryRequest} {
			t.Run(be.name+"/"+mode.String(), func(t *testing.T) {
				newStore, _ := be.open(t)
				f := newFleet(t, n, newStore, sharedstate.Config{Mode: mode})
				// A minute's window: N, within 2% and never more.
				loadFleet(t, f, workers, n, n-n/50, n)
				// 90 s later the sliding window still holds half of the
				// last minute's N (no burst of 2N across a boundary): N/2
				// more, though the upstream's bucket is full again.
				f.clk.Advance(90 * time.Second)
				f.srv.ResetStats()
				loadFleet(t, f, workers, n, n/2-n/50, n/2)
			})
		}
	}
}

// loadFleet sends as much as every replica can, workers callers each,
// until each replica refuses, and checks that the upstream saw between lo
// and hi requests, none of them refused with a 429.
func loadFleet(t *testing.T, f *fleet, workers, n, lo, hi int) {
	t.Helper()
	sent := make([]atomic.Int64, replicas)
	refused := make([]atomic.Int64, replicas)
	var wg sync.WaitGroup
	for i, r := range f.routers {
		for range workers {
			wg.Go(func() {
				// Each worker goes on until its replica has nothing left
				// across the fleet; a bound keeps a broken limit from
				// running forever.
				for range n {
					res, err := r.Do(t.Context(), chat("mini"), router.WithNumRetries(0))
					if err != nil {
						if !errors.Is(err, router.ErrNoDeployment) {
							t.Errorf("replica %d: %v", i, err)
						}
						if refused[i].Add(1) == 1 {
							t.Logf("replica %d refused: %v", i, err)
						}
						return
					}
					if res.Deployment != sharedID {
						t.Errorf("served by %s", res.Deployment)
					}
					sent[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	st := f.srv.Stats()
	var total int64
	t.Logf("%-10s %6s %8s", "replica", "sent", "refused")
	for i := range replicas {
		t.Logf("%-10d %6d %8d", i, sent[i].Load(), refused[i].Load())
		total += sent[i].Load()
	}
	t.Logf("total %d (want %d to %d); upstream saw %d requests, %d 429s", total, lo, hi, st.Requests, st.RateLimited)
	if st.Requests != total {
		t.Errorf("upstream saw %d requests, the routers report %d", st.Requests, total)
	}
	if st.Requests > int64(hi) {
		t.Errorf("upstream saw %d requests, more than %d", st.Requests, hi)
	}
	if st.Requests < int64(lo) {
		t.Errorf("upstream saw %d requests, fewer than %d", st.Requests, lo)
	}
	if st.RateLimited != 0 {
		t.Errorf("%d 429s", st.RateLimited)
	}
	for i := range replicas {
		if ev := f.eventsOf(i); len(ev) > 0 {
			t.Errorf("replica %d: shared state incidents %v", i, ev)
		}
		if sent[i].Load() == 0 {
			t.Errorf("replica %d sent nothing", i)
		}
	}
}

// TestSharedCooldownAcrossReplicas: a 429 with a retry hint cools the
// deployment down at the replica that got it; the other replicas honour
// the cooldown after one sync interval (here: one Flush by the replica
// that set it, one by each reader; the background loop pushes a cooldown
// at once and reads every interval). The newest rate-limit headers travel
// the same way.
func TestSharedCooldownAcrossReplicas(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			newStore, _ := be.open(t)
			f := newFleet(t, 10000, newStore, sharedstate.Config{Interval: new(time.Duration(0))})
			// Every replica serves once: all are healthy, none has seen
			// another's headers.
			for i, r := range f.routers {
				if _, err := r.Do(t.Context(), chat("mini")); err != nil {
					t.Fatalf("replica %d: %v", i, err)
				}
				f.clk.Advance(time.Millisecond)
			}
			f.flushAll(t)
			f.flushAll(t)
			newest := f.routers[replicas-1].Deployment(sharedID).Snapshot()
			for i, r := range f.routers {
				if s := r.Deployment(sharedID).Snapshot(); s == nil || !s.ObservedAt.Equal(newest.ObservedAt) {
					t.Errorf("replica %d: snapshot %v, want the newest, observed at %v", i, s, newest.ObservedAt)
				}
			}

			f.srv.SetFault(openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 30 * time.Second, Count: 1})
			if _, err := f.routers[0].Do(t.Context(), chat("mini"), router.WithNumRetries(0)); err == nil {
				t.Fatal("the 429 did not reach the caller")
			}
			until := f.routers[0].Deployment(sharedID).CooldownUntil()
			if !until.After(f.clk.Now()) {
				t.Fatalf("replica 0 is not cooling down (until %v, now %v)", until, f.clk.Now())
			}
			before := f.srv.Stats().Requests
			// Not seen before a sync.
			if got := f.routers[1].Deployment(sharedID).CooldownUntil(); got.After(f.clk.Now()) {
				t.Fatalf("replica 1 cooling down before any sync, until %v", got)
			}
			f.flushAll(t) // replica 0 pushes first, then the others read
			for i, r := range f.routers[1:] {
				if got := r.Deployment(sharedID).CooldownUntil(); got.Sub(until).Abs() > time.Millisecond {
					t.Errorf("replica %d: cooldown until %v, want %v", i+1, got, until)
				}
				_, err := r.Do(t.Context(), chat("mini"), router.WithNumRetries(0))
				if !errors.Is(err, router.ErrAllCoolingDown) {
					t.Errorf("replica %d: %v, want every deployment cooling down", i+1, err)
				}
			}
			if got := f.srv.Stats().Requests; got != before {
				t.Errorf("%d requests reached the upstream during the shared cooldown", got-before)
			}
			// After the cooldown every replica serves again.
			f.clk.Advance(31 * time.Second)
			for i, r := range f.routers {
				if _, err := r.Do(t.Context(), chat("mini")); err != nil {
					t.Errorf("replica %d after the cooldown: %v", i, err)
				}
			}
		})
	}
}

// TestSharedCooldownBackgroundLoop: with the Syncer's background loop (a
// 10 ms interval here) a cooldown reaches the other replicas by itself.
func TestSharedCooldownBackgroundLoop(t *testing.T) {
	newStore, _ := backends[0].open(t)
	f := newFleet(t, 10000, newStore, sharedstate.Config{Interval: new(10 * time.Millisecond)})
	f.srv.SetFault(openaitest.Fault{Kind: openaitest.FaultRateLimit, RetryAfter: 30 * time.Second, Count: 1})
	if _, err := f.routers[0].Do(t.Context(), chat("mini"), router.WithNumRetries(0)); err == nil {
		t.Fatal("the 429 did not reach the caller")
	}
	until := f.routers[0].Deployment(sharedID).CooldownUntil()
	start := time.Now()
	for i, r := range f.routers[1:] {
		for r.Deployment(sharedID).CooldownUntil().Sub(until).Abs() > time.Millisecond {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("replica %d never saw the cooldown", i+1)
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Logf("every replica saw the cooldown after %v (interval 10ms)", time.Since(start).Round(time.Millisecond))
}

// TestSharedStateRedisOutage stops Redis mid-run (miniredis Close) and
// starts it again on the same address: every request succeeds throughout,
// each replica reports the incident once and its end once, and sharing
// resumes: the usage counted during the outage reaches Redis afterwards.
func TestSharedStateRedisOutage(t *testing.T) {
	for _, mode := range []sharedstate.SyncMode{sharedstate.SyncBatched, sharedstate.SyncEveryRequest} {
		t.Run(mode.String(), func(t *testing.T) {
			newStore, mr := backends[0].open(t)
			f := newFleet(t, 100000, newStore, sharedstate.Config{Mode: mode, Interval: new(time.Duration(0)), Replicas: replicas})
			reader := newStore()
			usage := func() int64 {
				u, err := readUsage(t.Context(), reader, sharedID, f.clk.Now())
				if err != nil {
					t.Fatal(err)
				}
				return u.Requests
			}
			const perPhase = 20
			phase := func(name string) {
				t.Helper()
				for i, r := range f.routers {
					for range perPhase {
						if _, err := r.Do(t.Context(), chat("mini")); err != nil {
							t.Fatalf("%s: replica %d: %v", name, i, err)
						}
					}
				}
			}
			phase("before")
			f.flushAll(t)
			if got := usage(); got < replicas*perPhase {
				t.Fatalf("usage in Redis %d, want at least %d", got, replicas*perPhase)
			}

			mr.Close()
			phase("during the outage")
			for i, r := range f.routers {
				if err := r.SharedState().Flush(t.Context()); err == nil {
					t.Errorf("replica %d: Flush succeeded with Redis down", i)
				}
				if r.SharedState().Err() == nil {
					t.Errorf("replica %d: healthy with Redis down", i)
				}
			}
			phase("still during the outage")

			if err := mr.Restart(); err != nil {
				t.Fatal(err)
			}
			// The first call on a connection opened before the restart may
			// fail: a replica is back once one of its flushes succeeds.
			for i, r := range f.routers {
				var err error
				for range 10 {
					if err = r.SharedState().Flush(t.Context()); err == nil {
						break
					}
				}
				if err != nil {
					t.Fatalf("replica %d: Flush after the restart: %v", i, err)
				}
			}
			phase("after")
			f.flushAll(t)
			if got, want := usage(), int64(4*replicas*perPhase); got < want {
				t.Errorf("usage in Redis %d after the outage, want at least %d: the outage's usage was not pushed", got, want)
			}
			if st := f.srv.Stats(); st.Requests != 4*replicas*perPhase {
				t.Errorf("upstream saw %d requests, want %d", st.Requests, 4*replicas*perPhase)
			}
			for i := range f.routers {
				// One incident is the rule; a loaded machine may time a
				// read out right after the restart and open a second one.
				// Either way incidents alternate with recoveries and the
				// last event is a recovery: reported once per incident,
				// never per call.
				ev := f.eventsOf(i)
				ok := len(ev) >= 2 && len(ev)%2 == 0
				for j, e := range ev {
					if e.Component != router.ComponentState || (j%2 == 0) != (e.Err != nil) {
						ok = false
					}
				}
				if !ok {
					t.Errorf("replica %d: events %v, want incidents (error) each followed by one recovery (nil)", i, ev)
				}
			}
		})
	}
}

// TestSharedStateRedisOutageUnderLoad stops Redis while every replica is
// sending and starts it again while they still are: no call fails, and
// once Redis is back every call of the run, the outage's included, is
// counted in it.
func TestSharedStateRedisOutageUnderLoad(t *testing.T) {
	newStore, mr := backends[0].open(t)
	f := newFleet(t, 100000, newStore, sharedstate.Config{Interval: new(5 * time.Millisecond), Timeout: 50 * time.Millisecond, Replicas: replicas})
	const total = 600
	var (
		sent    atomic.Int64
		wg      sync.WaitGroup
		reached = func(n int64) {
			for sent.Load() < n && !t.Failed() {
				time.Sleep(time.Millisecond)
			}
		}
	)
	for i, r := range f.routers {
		for range 2 {
			wg.Go(func() {
				for sent.Load() < total {
					if _, err := r.Do(t.Context(), chat("mini")); err != nil {
						t.Errorf("replica %d: %v", i, err)
						return
					}
					sent.Add(1)
				}
			})
		}
	}
	reached(total / 4)
	mr.Close()
	reached(total / 2)
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// The background loop notices the restart by itself within a few
	// intervals; wait for every replica to share again.
	deadline := time.Now().Add(30 * time.Second)
	for i, r := range f.routers {
		for r.SharedState().Err() != nil || r.SharedState().Flush(t.Context()) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("replica %d never shared again", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	reader := newStore()
	u, err := readUsage(t.Context(), reader, sharedID, f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := sent.Load()
	t.Logf("%d calls, %d counted in Redis after the outage", n, u.Requests)
	if u.Requests < n {
		t.Errorf("Redis counts %d calls, fewer than the %d sent", u.Requests, n)
	}
	if st := f.srv.Stats(); st.Requests != n {
		t.Errorf("upstream saw %d requests, the callers %d", st.Requests, n)
	}
}

// readUsage reads deployment id's usage as the store shares it at now: a
// Sync that pushes nothing.
func readUsage(ctx context.Context, store sharedstate.Store, id string, now time.Time) (sharedstate.Usage, error) {
	ops := []sharedstate.SyncOp{{ID: id}}
	err := store.Sync(ctx, sharedstate.Window{At: now}, ops)
	return ops[0].Usage, err
}
