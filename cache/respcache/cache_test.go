package respcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/provider"
)

func testResponse() *provider.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-Id", "req-1")
	h.Set("X-Ratelimit-Remaining-Requests", "5") // stale once cached: dropped
	h.Set("Openai-Model", "gpt-4o-2024-08-06")
	return &provider.Response{StatusCode: 200, Header: h, Body: []byte(chatBody)}
}

// t0 is a fixed time, for tests that step time by hand.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type responseCacheEnv struct {
	cache Cache
	// advance moves time: the now passed to Get, and the backend's own
	// clock where it keeps one (miniredis).
	advance func(time.Duration)
}

func responseCaches(t *testing.T, now *time.Time) map[string]responseCacheEnv {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	envs := map[string]responseCacheEnv{
		"memory": {NewMemory(Config{TTL: time.Minute, MaxEntryBytes: 4096}), func(d time.Duration) { *now = now.Add(d) }},
		"miniredis": {NewRedis(c, Config{TTL: time.Minute, MaxEntryBytes: 4096, Prefix: "t:", Timeout: 5 * time.Second}),
			func(d time.Duration) { *now = now.Add(d); mr.FastForward(d) }},
	}
	return envs
}

func TestResponseCache(t *testing.T) {
	ctx := context.Background()
	now := t0
	for name, env := range responseCaches(t, &now) {
		now = t0
		t.Run(name, func(t *testing.T) {
			c := env.cache
			if _, ok, err := c.Get(ctx, "k", now); ok || err != nil {
				t.Fatalf("empty cache: hit=%v err=%v", ok, err)
			}
			e := NewEntry(testResponse(), t0)
			if err := c.Set(ctx, "k", e, 0); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, "short", e, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			got, ok, err := c.Get(ctx, "k", now)
			if !ok || err != nil {
				t.Fatalf("after Set: hit=%v err=%v", ok, err)
			}
			if string(got.Body) != chatBody || !got.StoredAt.Equal(t0) || got.Header.Get("X-Request-Id") != "req-1" ||
				got.Header.Get("Content-Type") != "application/json" || got.Header.Get("X-Ratelimit-Remaining-Requests") != "" {
				t.Errorf("entry %+v", got)
			}
			env.advance(11 * time.Second)
			if _, ok, _ := c.Get(ctx, "short", now); ok {
				t.Error("per-entry TTL not honoured")
			}
			if _, ok, _ := c.Get(ctx, "k", now); !ok {
				t.Error("default-TTL entry gone after 11 s")
			}
			env.advance(50 * time.Second)
			if _, ok, _ := c.Get(ctx, "k", now); ok {
				t.Error("entry alive after the default TTL")
			}
			big := &Entry{Body: make([]byte, 5000), StoredAt: now}
			_ = c.Set(ctx, "big", big, 0)
			if _, ok, _ := c.Get(ctx, "big", now); ok {
				t.Error("entry over the size limit stored")
			}
			_ = c.Set(ctx, "d", &Entry{Body: e.Body, Header: e.Header, StoredAt: now}, 0)
			if _, ok, _ := c.Get(ctx, "d", now); !ok {
				t.Error("entry not stored")
			}
			_ = c.Delete(ctx, "d")
			if _, ok, _ := c.Get(ctx, "d", now); ok {
				t.Error("deleted entry still there")
			}
		})
	}
}

func TestMemoryResponseCacheBounded(t *testing.T) {
	ctx := context.Background()
	c := NewMemory(Config{MaxEntries: 3})
	e := &Entry{Body: []byte("{}"), StoredAt: t0}
	for _, k := range []string{"a", "b", "c"} {
		_ = c.Set(ctx, k, e, 0)
	}
	_, _, _ = c.Get(ctx, "a", t0) // a is now the most recently used
	_ = c.Set(ctx, "d", e, 0)
	if n := c.(*memory).lru.Len(); n != 3 {
		t.Errorf("len %d, want 3", n)
	}
	if _, ok, _ := c.Get(ctx, "b", t0); ok {
		t.Error("least recently used entry b kept")
	}
	if _, ok, _ := c.Get(ctx, "a", t0); !ok {
		t.Error("recently used entry a evicted")
	}
}

func TestRedisResponseCacheReal(t *testing.T) {
	ctx := context.Background()
	client, prefix := realRedis(t)
	c := NewRedis(client, Config{Prefix: prefix, Timeout: time.Second})
	e := NewEntry(testResponse(), t0)
	if err := c.Set(ctx, "k", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "k", t0)
	if !ok || err != nil || string(got.Body) != chatBody {
		t.Fatalf("hit=%v err=%v", ok, err)
	}
	if ttl := client.PTTL(ctx, prefix+"resp:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("ttl %v", ttl)
	}
}

func TestRedisResponseCacheDown(t *testing.T) {
	mr := miniredis.RunT(t)
	cl := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer cl.Close()
	c := NewRedis(cl, Config{})
	mr.Close()
	_, ok, err := c.Get(context.Background(), "k", t0)
	var re *redisError
	if ok || !errors.As(err, &re) || re.op != "get" {
		t.Errorf("Redis down: hit=%v err=%v, want a redisError", ok, err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(NewEntry(testResponse(), t0)))
	f.Add([]byte("sy1\n1\nnull\n"))
	f.Add([]byte("sy1\nx\n{}\n"))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeEntry(v)
		if err != nil {
			return
		}
		e2, err := decodeEntry(encodeEntry(e))
		if err != nil || string(e2.Body) != string(e.Body) || !e2.StoredAt.Equal(e.StoredAt) || len(e2.Header) != len(e.Header) {
			t.Fatalf("round trip: %+v -> %+v (%v)", e, e2, err)
		}
	})
}

// redisURL is the real server the integration tests use.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// realRedis connects to the real Redis at REDIS_URL and returns a client
// and a unique key prefix whose keys are deleted at the end. It skips the
// test only when no server can be reached.
func realRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	o, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Skipf("redis: no server at %s: %v", o.Addr, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "switchyard-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
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
		_ = c.Close()
	})
	return c, prefix
}
