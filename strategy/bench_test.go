package strategy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// benchCands returns n deployments with realistic state: weights, rpm,
// prices, latency and TTFT samples, rate-limit snapshots, calls in flight.
func benchCands(b *testing.B, n int) []*deployment.Deployment {
	cands := make([]*deployment.Deployment, n)
	for i := range n {
		cands[i] = dep(b, deployment.Config{
			ID:     fmt.Sprint("d", i),
			Weight: float64(1 + i%5),
			RPM:    1_000_000,
			Info:   deployment.ModelInfo{InputCostPerToken: float64(1+i%3) * 1e-6, OutputCostPerToken: 4e-6},
		})
		run(b, cands[i], t0, deployment.Outcome{
			Latency: time.Duration(100+i%17) * time.Millisecond,
			Header:  rlHeader("10000", fmt.Sprint(5000+i%100), "60s"),
		})
		for range i % 4 {
			begin(b, cands[i], t0)
		}
	}
	return cands
}

var strategies = []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"}

func BenchmarkPick(b *testing.B) {
	for _, name := range strategies {
		for _, n := range []int{3, 10, 100, 1000} {
			cands := benchCands(b, n)
			s := mustNew(b, name, map[string]any{})
			info := &strategy.PickInfo{Now: t0.Add(time.Second), PromptTokens: 500}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.Pick(cands, info)
				}
			})
			b.Run(fmt.Sprintf("%s/n=%d/parallel", name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						s.Pick(cands, info)
					}
				})
			})
		}
	}
}

func BenchmarkLowestOrder(b *testing.B) {
	cands := benchCands(b, 100)
	buf := make([]*deployment.Deployment, len(cands))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, cands)
		strategy.LowestOrder(buf)
	}
}
