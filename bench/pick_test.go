package bench

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// pickDeployments returns n deployments with the live state a busy router
// has: weights, rpm and tpm limits, prices, latency samples, rate-limit
// headers, calls in flight. Every one is available at the returned time.
func pickDeployments(b *testing.B, n int) ([]*deployment.Deployment, time.Time) {
	b.Helper()
	t0 := simStart
	deps := make([]*deployment.Deployment, n)
	for i := range n {
		d, err := deployment.New(deployment.Config{
			ID:        "d" + strconv.Itoa(i),
			ModelName: "g",
			Model:     "my-server/model",
			Weight:    float64(1 + i%5),
			RPM:       1_000_000,
			TPM:       100_000_000,
			Info:      deployment.ModelInfo{InputCostPerToken: float64(1+i%3) * 1e-6, OutputCostPerToken: 4e-6},
		}, nil, deployment.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		a, err := d.Begin(t0, 500)
		if err != nil {
			b.Fatal(err)
		}
		a.End(t0, deployment.Outcome{
			Latency: time.Duration(100+i%17) * time.Millisecond,
			Header: http.Header{
				"X-Ratelimit-Limit-Requests":     {"10000"},
				"X-Ratelimit-Remaining-Requests": {strconv.Itoa(5000 + i%100)},
				"X-Ratelimit-Reset-Requests":     {"6s"},
				"X-Ratelimit-Limit-Tokens":       {"2000000"},
				"X-Ratelimit-Remaining-Tokens":   {strconv.Itoa(1_000_000 + i*37%1000)},
				"X-Ratelimit-Reset-Tokens":       {"6s"},
			},
		})
		for range i % 4 { // calls left in flight
			if _, err := d.Begin(t0, 500); err != nil {
				b.Fatal(err)
			}
		}
		deps[i] = d
	}
	now := t0.Add(time.Second)
	for _, d := range deps {
		if r := d.Available(now, 500); r != deployment.ReasonOK {
			b.Fatalf("%s not available: %v", d.ID(), r)
		}
	}
	return deps, now
}

// availableAt is the router's filter for a sampled pick: a deployment is
// usable when available at now (the router also checks tags and the
// deployments a call left out, which costs less).
type availableAt struct{ now time.Time }

func (a *availableAt) Usable(d *deployment.Deployment) bool {
	return d.Available(a.now, 500) == deployment.ReasonOK
}

// BenchmarkPick is the cost of one pick among n available deployments as
// the router makes it: up to strategy.SampleAbove deployments, Strategy.Pick
// over the candidates (the router filters them first, which is not
// counted); above, Sampler.Sample over the group's Pool, which checks each
// deployment it draws with Available (counted). On one goroutine and from
// GOMAXPROCS goroutines at once (RunParallel: ns/op is wall time per pick
// across all of them).
func BenchmarkPick(b *testing.B) {
	for _, name := range qualityStrategies {
		for _, n := range []int{3, 10, 100, 1000} {
			deps, now := pickDeployments(b, n)
			s, err := strategy.New(name, map[string]any{"seed": 1})
			if err != nil {
				b.Fatal(err)
			}
			info := &strategy.PickInfo{Now: now, PromptTokens: 500}
			pool, ok := strategy.NewPool(deps), &availableAt{now: now}
			pick := func() int { return s.Pick(deps, info) }
			if sm, is := s.(strategy.Sampler); is && pool.Sampled() {
				pick = func() int { return sm.Sample(pool, ok, info) }
			}
			if i := pick(); i < 0 || i >= n {
				b.Fatalf("%s picked %d of %d", name, i, n)
			}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if pick() < 0 {
						b.Fatal("no pick")
					}
				}
			})
			b.Run(fmt.Sprintf("%s/n=%d/parallel", name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if pick() < 0 {
							b.Error("no pick")
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkPickExact is Strategy.Pick over all n candidates, the exact scan
// the router falls back to when sampling finds nothing usable.
func BenchmarkPickExact(b *testing.B) {
	for _, name := range qualityStrategies {
		for _, n := range []int{10, 100, 1000} {
			deps, now := pickDeployments(b, n)
			s, err := strategy.New(name, map[string]any{"seed": 1})
			if err != nil {
				b.Fatal(err)
			}
			info := &strategy.PickInfo{Now: now, PromptTokens: 500}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.Pick(deps, info)
				}
			})
		}
	}
}
