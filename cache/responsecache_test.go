package cache

import (
	"context"
	"net/http"
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

type responseCacheEnv struct {
	cache   ResponseCache
	advance func(time.Duration)
}

func responseCaches(t *testing.T) map[string]responseCacheEnv {
	clock := newFakeClock(t0)
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	envs := map[string]responseCacheEnv{
		"memory": {NewMemoryResponseCache(WithResponseClock(clock.Now), WithTTL(time.Minute), WithMaxEntryBytes(4096)), clock.Add},
		"miniredis": {NewRedisResponseCache(c, WithTTL(time.Minute), WithMaxEntryBytes(4096), WithKeyPrefix("t:"),
			WithResponseTimeout(5*time.Second)), mr.FastForward},
	}
	return envs
}

func TestResponseCache(t *testing.T) {
	ctx := context.Background()
	for name, env := range responseCaches(t) {
		t.Run(name, func(t *testing.T) {
			c := env.cache
			if _, ok, err := c.Get(ctx, "k"); ok || err != nil {
				t.Fatalf("empty cache: hit=%v err=%v", ok, err)
			}
			e := NewEntry(testResponse(), t0)
			if err := c.Set(ctx, "k", e, 0); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, "short", e, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			got, ok, err := c.Get(ctx, "k")
			if !ok || err != nil {
				t.Fatalf("after Set: hit=%v err=%v", ok, err)
			}
			if string(got.Body) != chatBody || !got.StoredAt.Equal(t0) || got.Header.Get("X-Request-Id") != "req-1" ||
				got.Header.Get("Content-Type") != "application/json" || got.Header.Get("X-Ratelimit-Remaining-Requests") != "" {
				t.Errorf("entry %+v", got)
			}
			env.advance(11 * time.Second)
			if _, ok, _ := c.Get(ctx, "short"); ok {
				t.Error("per-entry TTL not honoured")
			}
			if _, ok, _ := c.Get(ctx, "k"); !ok {
				t.Error("default-TTL entry gone after 11 s")
			}
			env.advance(50 * time.Second)
			if _, ok, _ := c.Get(ctx, "k"); ok {
				t.Error("entry alive after the default TTL")
			}
			big := &Entry{Body: make([]byte, 5000), StoredAt: t0}
			_ = c.Set(ctx, "big", big, 0)
			if _, ok, _ := c.Get(ctx, "big"); ok {
				t.Error("entry over the size limit stored")
			}
			_ = c.Set(ctx, "d", e, 0)
			_ = c.Delete(ctx, "d")
			if _, ok, _ := c.Get(ctx, "d"); ok {
				t.Error("deleted entry still there")
			}
		})
	}
}

func TestMemoryResponseCacheBounded(t *testing.T) {
	ctx := context.Background()
	c := NewMemoryResponseCache(WithMaxEntries(3))
	e := &Entry{Body: []byte("{}")}
	for _, k := range []string{"a", "b", "c"} {
		_ = c.Set(ctx, k, e, 0)
	}
	_, _, _ = c.Get(ctx, "a") // a is now the most recently used
	_ = c.Set(ctx, "d", e, 0)
	if c.Len() != 3 {
		t.Errorf("len %d, want 3", c.Len())
	}
	if _, ok, _ := c.Get(ctx, "b"); ok {
		t.Error("least recently used entry b kept")
	}
	if _, ok, _ := c.Get(ctx, "a"); !ok {
		t.Error("recently used entry a evicted")
	}
}

func TestRedisResponseCacheReal(t *testing.T) {
	ctx := context.Background()
	s := newReal(t)
	c := NewRedisResponseCache(s.Client(), WithKeyPrefix(s.Prefix()), WithResponseTimeout(time.Second))
	e := NewEntry(testResponse(), t0)
	if err := c.Set(ctx, "k", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "k")
	if !ok || err != nil || string(got.Body) != chatBody {
		t.Fatalf("hit=%v err=%v", ok, err)
	}
	if ttl := s.Client().PTTL(ctx, s.Prefix()+"resp:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("ttl %v", ttl)
	}
}

func TestRedisResponseCacheDown(t *testing.T) {
	mr := miniredis.RunT(t)
	cl := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer cl.Close()
	c := NewRedisResponseCache(cl)
	mr.Close()
	_, ok, err := c.Get(context.Background(), "k")
	var se *StoreError
	if ok || !errorsAs(err, &se) {
		t.Errorf("Redis down: hit=%v err=%v, want a StoreError", ok, err)
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
