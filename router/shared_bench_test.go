package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// rttCounter is a go-redis hook counting round trips: one per command sent
// alone, one per pipeline.
type rttCounter struct{ n atomic.Int64 }

func (c *rttCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *rttCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *rttCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// benchRedis connects to REDIS_URL (default redis://127.0.0.1:6379/0) with
// a counting hook and a fresh key prefix, or skips.
func benchRedis(b *testing.B) (*sharedstate.RedisStore, *rttCounter) {
	b.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	client := redis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		b.Skipf("no Redis at %s (set REDIS_URL): %v", o.Addr, err)
	}
	var p [6]byte
	_, _ = rand.Read(p[:])
	prefix := "switchyard-bench:" + hex.EncodeToString(p[:]) + ":"
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var keys []string
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			_ = client.Del(ctx, keys...).Err()
		}
		_ = client.Close()
	})
	rc := &rttCounter{}
	client.AddHook(rc)
	return sharedstate.NewRedisStoreFromClient(client, prefix), rc
}

// BenchmarkRouterSharedState measures what sharing state through a real
// Redis adds to a call (three deployments with an rpm limit, a no-op
// provider client): redis-rtt/op is the Redis round trips per call, the
// background loop's included; none is the router without shared state.
func BenchmarkRouterSharedState(b *testing.B) {
	client := newNoop()
	ctx := context.Background()
	var deps []deployment.Config
	for _, id := range []string{"a", "b", "c"} {
		deps = append(deps, limited("g", id, 1_000_000_000))
	}
	req := chatReq("g")
	for _, mode := range []string{"none", "batched", "every-request"} {
		b.Run(mode, func(b *testing.B) {
			opts := []Option{
				WithClientFactory(func(deployment.Config) (provider.Client, error) { return client, nil }),
				WithLogger(slog.New(slog.DiscardHandler)),
			}
			var rtt *rttCounter
			if mode != "none" {
				store, rc := benchRedis(b)
				rtt = rc
				m := sharedstate.SyncBatched
				if mode == "every-request" {
					m = sharedstate.SyncEveryRequest
				}
				opts = append(opts, WithSharedState(store, sharedstate.Config{Mode: m}))
			}
			r, err := New(Config{Deployments: deps}, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if rtt != nil {
				rtt.n.Store(0)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Do(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			if rtt != nil {
				b.ReportMetric(float64(rtt.n.Load())/float64(b.N), "redis-rtt/op")
			}
		})
	}
}

// BenchmarkRouterResponseCache measures a call answered from an in-memory
// response cache (keying the request included) and a call that misses it.
func BenchmarkRouterResponseCache(b *testing.B) {
	client := newNoop()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []CallOption
	}{{"hit", nil}, {"miss", []CallOption{WithCacheControl(respcache.Control{NoCache: true, NoStore: true})}}} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := New(Config{Deployments: grp("g", "a", "b", "c")},
				WithClientFactory(func(deployment.Config) (provider.Client, error) { return client, nil }),
				WithLogger(slog.New(slog.DiscardHandler)),
				WithResponseCache(respcache.NewMemory(respcache.Config{}), respcache.Policy{}))
			if err != nil {
				b.Fatal(err)
			}
			req := chatReq("g")
			if _, err := r.Do(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.Do(ctx, req, tc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if res.CacheHit != (tc.name == "hit") {
					b.Fatalf("CacheHit %v", res.CacheHit)
				}
			}
		})
	}
}
