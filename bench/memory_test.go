package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC() // a second cycle also frees what sync.Pool's victim cache held
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemory measures the router's memory:
//
//   - per_deployment: the live heap a router holds per deployment
//     (B/deployment), from a router of 10,000 deployments in 100 model
//     groups, each with rpm and tpm limits, an ID, a key and a base URL,
//     and a shared in-memory client (so client memory is not counted);
//   - steady_state: the live-heap growth over 200,000 calls through a
//     router of 10 deployments (heap_growth_B, after warm-up and full
//     collections; it must stay flat), with the simulated clock moving a
//     millisecond per call so that rate-limit windows roll over.
func BenchmarkMemory(b *testing.B) {
	noop := newNoopClient()
	factory := router.WithClientFactory(func(deployment.Config) (provider.Client, error) { return noop, nil })
	configs := func(n int) []deployment.Config {
		deps := make([]deployment.Config, n)
		for i := range deps {
			id := strconv.Itoa(i)
			deps[i] = deployment.Config{
				ID: "dep-" + id, ModelName: "group-" + strconv.Itoa(i%100), Model: "openai/gpt-4o-mini",
				APIKey: "sk-proj-" + id, BaseURL: "https://example.invalid/v1",
				RPM: 10_000, TPM: 2_000_000,
			}
		}
		return deps
	}

	b.Run("per_deployment", func(b *testing.B) {
		const n = 10_000
		cfg := router.Config{Deployments: configs(n)}
		var perDep float64
		for b.Loop() {
			before := heapAfterGC()
			r, err := router.New(cfg, factory, quiet())
			if err != nil {
				b.Fatal(err)
			}
			after := heapAfterGC()
			if got := len(r.Deployments()); got != n {
				b.Fatalf("%d deployments, want %d", got, n)
			}
			runtime.KeepAlive(r)
			perDep = float64(int64(after)-int64(before)) / n
		}
		b.ReportMetric(perDep, "B/deployment")
	})

	b.Run("steady_state", func(b *testing.B) {
		const warm, calls = 20_000, 200_000
		var clock atomic.Int64
		clock.Store(simStart.UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()) }
		deps := configs(10)
		for i := range deps {
			deps[i].ModelName = "g"
		}
		ctx := context.Background()
		req := chatRequest("g", "hi")
		var growth float64
		for b.Loop() {
			r, err := router.New(router.Config{Deployments: deps, Settings: router.Settings{RoutingStrategy: "usage-based-routing"}},
				factory, router.WithClock(funcClock{now: now}), quiet())
			if err != nil {
				b.Fatal(err)
			}
			call := func(n int) {
				for range n {
					clock.Add(int64(time.Millisecond))
					res, err := r.Do(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					if res.ModelGroup != "g" || r.Deployment(res.Deployment) == nil {
						b.Fatalf("served by %q of %q", res.Deployment, res.ModelGroup)
					}
				}
			}
			call(warm)
			before := heapAfterGC()
			call(calls)
			after := heapAfterGC()
			runtime.KeepAlive(r)
			growth = float64(int64(after) - int64(before))
		}
		b.ReportMetric(growth, "heap_growth_B")
		b.ReportMetric(growth/calls, "heap_growth_B/call")
		if growth > 256<<10 {
			b.Errorf("live heap grew by %.0f bytes over %d calls: state accumulates", growth, calls)
		}
	})
}
