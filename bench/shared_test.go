package bench

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// noSharing stands for "no shared state" among the sync modes.
const noSharing sharedstate.SyncMode = 255

// errNoWait makes a router fail a call instead of waiting for a deployment
// to free up.
var errNoWait = errors.New("bench: no waiting")

// BenchmarkSharedRouter measures routers that share their deployments'
// state through Redis (router.WithSharedState; REDIS_URL, default
// redis://127.0.0.1:6379/0; skipped when none answers), per sync mode:
//
//   - overhead/<mode>: one router, an in-memory client, three deployments
//     with rpm and tpm limits never reached: ns/op (and p50_us, p99_us)
//     against overhead/none (no shared state) is the time a request gains;
//     rt/req the Redis round trips per request, background sync included;
//   - limit/<mode>: four routers (replicas, each with its own Redis
//     connection pool) share one deployment limited to 600 requests per
//     minute and together offer 1,200 calls within one minute (a clock
//     held still, calls fail instead of waiting): granted_% is the calls
//     answered over the limit (100 is exact; above 100 fails the
//     benchmark unless a replica lost Redis, which incidents counts);
//     limit/none is the same without shared state, where each replica
//     allows the whole limit.
func BenchmarkSharedRouter(b *testing.B) {
	ctx := context.Background()
	noop := newNoopClient()
	factory := router.WithClientFactory(func(deployment.Config) (provider.Client, error) { return noop, nil })
	limited := func(n, rpm int) []deployment.Config {
		deps := make([]deployment.Config, n)
		for i := range deps {
			deps[i] = deployment.Config{ID: "d" + strconv.Itoa(i), ModelName: "g", Model: "openai/gpt-4o-mini", RPM: rpm, TPM: rpm * 1000}
		}
		return deps
	}
	b.Run("overhead/none", func(b *testing.B) {
		r, err := router.New(router.Config{Deployments: limited(3, 1<<30)}, factory, quiet())
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		benchRouterDo(b, r, nil)
	})
	for _, mode := range syncModes {
		b.Run("overhead/"+mode.String(), func(b *testing.B) {
			store := &countingStore{Store: newRedisStore(b, randomPrefix())}
			var incidents atomic.Int64
			r, err := router.New(router.Config{Deployments: limited(3, 1<<30)}, factory, quiet(),
				router.WithSharedState(store, sharedstate.Config{Mode: mode}),
				router.WithHooks(router.Hooks{OnSharedState: func(e router.SharedStateEvent) {
					if e.Err != nil {
						incidents.Add(1)
					}
				}}))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			benchRouterDo(b, r, store)
			b.ReportMetric(float64(incidents.Load()), "incidents")
		})
	}
	for _, mode := range append([]sharedstate.SyncMode{noSharing}, syncModes...) {
		name := "limit/none"
		if mode != noSharing {
			name = "limit/" + mode.String()
		}
		b.Run(name, func(b *testing.B) {
			const replicas, limit, offered = 4, 600, 1200
			at := simStart.Truncate(time.Minute).Add(time.Second)
			now := func() time.Time { return at }
			noWait := func(context.Context, time.Duration) error { return errNoWait }
			var granted, calls, incidents int64
			for b.Loop() {
				prefix := randomPrefix()
				var (
					routers []*router.Router
					stores  []*countingStore
					inc     atomic.Int64
				)
				for range replicas {
					st := &countingStore{Store: newRedisStore(b, prefix)}
					opts := []router.Option{factory, quiet(), router.WithClock(funcClock{now, noWait}),
						router.WithHooks(router.Hooks{OnSharedState: func(e router.SharedStateEvent) {
							if e.Err != nil {
								inc.Add(1)
							}
						}})}
					if mode != noSharing {
						opts = append(opts, router.WithSharedState(st, sharedstate.Config{Mode: mode}))
					}
					r, err := router.New(router.Config{Deployments: limited(1, limit)}, opts...)
					if err != nil {
						b.Fatal(err)
					}
					routers, stores = append(routers, r), append(stores, st)
				}
				var ok atomic.Int64
				var wg sync.WaitGroup
				req := chatRequest("g", "hi")
				for _, r := range routers {
					wg.Go(func() {
						for range offered / replicas {
							if _, err := r.Do(ctx, req, router.WithNumRetries(0)); err == nil {
								ok.Add(1)
							}
						}
					})
				}
				wg.Wait()
				calls = 0
				for i, r := range routers {
					_ = r.Close()
					calls += stores[i].calls.Load()
				}
				granted, incidents = ok.Load(), inc.Load()
				// Without sharing each replica allows the whole limit: the
				// baseline that shows what sharing prevents.
				if granted > limit && incidents == 0 && mode != noSharing {
					b.Fatalf("%d calls answered against a shared limit of %d", granted, limit)
				}
			}
			b.ReportMetric(pct(int(granted), limit), "granted_%")
			b.ReportMetric(float64(calls)/offered, "rt/req")
			b.ReportMetric(float64(incidents), "incidents")
		})
	}
}

// benchRouterDo times r.Do on group "g"; store counts round trips (nil:
// none).
func benchRouterDo(b *testing.B, r *router.Router, store *countingStore) {
	b.Helper()
	ctx := context.Background()
	req := chatRequest("g", "hi")
	var before int64
	if store != nil {
		before = store.calls.Load()
	}
	lat := make([]time.Duration, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		res, err := r.Do(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if res.ModelGroup != "g" || r.Deployment(res.Deployment) == nil {
			b.Fatalf("served by %q of %q", res.Deployment, res.ModelGroup)
		}
	}
	if store != nil {
		b.ReportMetric(float64(store.calls.Load()-before)/float64(b.N), "rt/req")
	}
	b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds())/1e3, "p50_us")
	b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds())/1e3, "p99_us")
}
