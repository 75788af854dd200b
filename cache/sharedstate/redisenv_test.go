package sharedstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// fakeClock is an injectable clock that tests step by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Window() Window      { return Window{At: c.Now()} }

// t0 is the start of a window, for tests that care where in the window
// they are.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newMini starts a miniredis and a RedisStore on it.
func newMini(t testing.TB) (*RedisStore, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	s, err := NewRedisStore(RedisConfig{Addr: mr.Addr(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, mr
}

func randomPrefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "switchyard-test:" + hex.EncodeToString(b[:]) + ":"
}

// redisURL is the real server the integration tests use.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// newReal connects to the real Redis at REDIS_URL with a unique prefix,
// deleting the prefix's keys at the end. It skips the test only when no
// server can be reached.
func newReal(t testing.TB) *RedisStore {
	t.Helper()
	s, err := NewRedisStore(RedisConfig{URL: redisURL(), Prefix: randomPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Client().Ping(ctx).Err(); err != nil {
		_ = s.Close()
		t.Skipf("redis: no server at %s: %v", redactURL(redisURL()), err)
	}
	t.Cleanup(func() {
		cleanupPrefix(t, s.Client(), s.prefix)
		_ = s.Close()
	})
	return s
}

func cleanupPrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// cmdCounter is a go-redis hook counting round trips: one per command sent
// alone, one per pipeline.
type cmdCounter struct{ rtt, cmds, leases atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.rtt.Add(1)
		c.cmds.Add(1)
		if a := cmd.Args(); len(a) > 1 && (a[1] == reserveScript.Hash() || cmd.Name() == "eval") {
			c.leases.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.rtt.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// readOp syncs an op that pushes nothing for deployment id at w and
// returns it with what the store shares: its usage, snapshot, cooldown and
// in-flight sum.
func readOp(ctx context.Context, store Store, w Window, id string) (SyncOp, error) {
	return syncOp(ctx, store, w, SyncOp{ID: id})
}

// syncOp syncs one op and returns it with its results.
func syncOp(ctx context.Context, store Store, w Window, op SyncOp) (SyncOp, error) {
	ops := []SyncOp{op}
	err := store.Sync(ctx, w, ops)
	return ops[0], err
}

// mustSync is syncOp that fails the test on an error.
func mustSync(t testing.TB, store Store, w Window, op SyncOp) SyncOp {
	t.Helper()
	op, err := syncOp(t.Context(), store, w, op)
	if err != nil {
		t.Fatal(err)
	}
	return op
}
