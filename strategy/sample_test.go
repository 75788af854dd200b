package strategy_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// usableSet is a Filter that accepts the deployments in it.
type usableSet map[*deployment.Deployment]bool

func (u usableSet) Usable(d *deployment.Deployment) bool { return u[d] }

// availableNow is a Filter that accepts what is available at its time, as
// the router's does.
type availableNow struct{ now time.Time }

func (a *availableNow) Usable(d *deployment.Deployment) bool {
	return d.Available(a.now, 500) == deployment.ReasonOK
}

// samplers makes each built-in strategy, seeded, as a Sampler.
func samplers(t testing.TB) map[string]strategy.Sampler {
	out := map[string]strategy.Sampler{}
	for _, n := range strategies {
		s, ok := mustNew(t, n, map[string]any{"seed": 7}).(strategy.Sampler)
		if !ok {
			t.Fatalf("%s does not implement Sampler", n)
		}
		out[n] = s
	}
	out["latency-buffer"] = mustNew(t, "latency-based-routing", map[string]any{"seed": 7, "lowest_latency_buffer": 0.5}).(strategy.Sampler)
	return out
}

// big returns n deployments with weights 1..5, three prices, and latency
// samples.
func big(t testing.TB, n int) []*deployment.Deployment {
	cfgs := make([]deployment.Config, n)
	for i := range cfgs {
		cfgs[i] = deployment.Config{
			Weight: float64(1 + i%5),
			Info:   deployment.ModelInfo{InputCostPerToken: float64(1+i%3) * 1e-6, OutputCostPerToken: 4e-6},
		}
	}
	ds := deps(t, cfgs...)
	for i, d := range ds {
		run(t, d, t0, deployment.Outcome{Latency: time.Duration(100+i%17) * time.Millisecond})
	}
	return ds
}

func TestSampleSmallOrMixedOrderPoolsAreNotSampled(t *testing.T) {
	small := strategy.NewPool(big(t, strategy.SampleAbove))
	mixed := big(t, 100)
	mixed = append(mixed, dep(t, deployment.Config{Order: 2}))
	for name, p := range map[string]*strategy.Pool{"small": small, "mixed order": strategy.NewPool(mixed), "nil": nil} {
		if p.Sampled() {
			t.Errorf("%s pool: Sampled() = true", name)
		}
		for sn, s := range samplers(t) {
			if i := s.Sample(p, usableSet{}, &strategy.PickInfo{Now: t0}); i != -1 {
				t.Errorf("%s pool, %s: Sample = %d, want -1 (exact scan)", name, sn, i)
			}
		}
	}
}

func TestSampleNeverPicksUnusable(t *testing.T) {
	ds := big(t, 1000)
	p := strategy.NewPool(ds)
	ok := usableSet{}
	for i, d := range ds {
		if i%3 == 0 {
			ok[d] = true
		}
	}
	info := &strategy.PickInfo{Now: t0.Add(time.Second), PromptTokens: 10}
	for name, s := range samplers(t) {
		found := 0
		for range 5000 {
			i := s.Sample(p, ok, info)
			if i < 0 {
				continue
			}
			found++
			if !ok[ds[i]] {
				t.Fatalf("%s picked unusable %s", name, ds[i].ID())
			}
		}
		if found < 4900 {
			t.Errorf("%s: %d of 5000 samples found a usable deployment with a third usable", name, found)
		}
	}
}

func TestSampleOnlyUsableOneIsLeftToTheExactScan(t *testing.T) {
	ds := big(t, 1000)
	p := strategy.NewPool(ds)
	ok := usableSet{ds[777]: true}
	for name, s := range samplers(t) {
		for range 100 {
			if i := s.Sample(p, ok, &strategy.PickInfo{Now: t0}); i != -1 && i != 777 {
				t.Fatalf("%s: Sample = %d, want 777 or -1", name, i)
			}
		}
	}
}

// TestSampleShuffleWeights checks that sampled simple-shuffle follows the
// weights (1..5) of the usable deployments: a chi-square test over 100,000
// picks, 4 degrees of freedom, against 18.47 (p = 0.001).
func TestSampleShuffleWeights(t *testing.T) {
	ds := big(t, 1000)
	p := strategy.NewPool(ds)
	s := samplers(t)["simple-shuffle"]
	for _, tt := range []struct {
		name string
		ok   strategy.Filter
	}{
		{"all usable", &availableNow{now: t0.Add(time.Second)}},
		{"even ones usable", evenOnes(ds)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got, want [5]float64
			for i, d := range ds {
				if tt.ok.Usable(d) {
					want[i%5] += float64(1 + i%5)
				}
			}
			sum := want[0] + want[1] + want[2] + want[3] + want[4]
			const picks = 100_000
			for range picks {
				i := s.Sample(p, tt.ok, &strategy.PickInfo{Now: t0})
				if i < 0 {
					t.Fatal("no pick")
				}
				got[i%5]++
			}
			chi := 0.0
			for c := range 5 {
				e := want[c] / sum * picks
				chi += (got[c] - e) * (got[c] - e) / e
			}
			if chi > 18.47 {
				t.Errorf("picks per weight %v, want proportional to %v: chi-square %.1f > 18.47", got, want, chi)
			}
		})
	}
}

func evenOnes(ds []*deployment.Deployment) usableSet {
	ok := usableSet{}
	for i, d := range ds {
		if i%2 == 0 {
			ok[d] = true
		}
	}
	return ok
}

func TestSampleCostPicksTheCheapest(t *testing.T) {
	ds := big(t, 1000) // input prices 1, 2, 3e-6 by i%3
	p := strategy.NewPool(ds)
	s := samplers(t)["cost-based-routing"]
	ok := usableSet{}
	for i, d := range ds {
		if i%3 != 0 || i < 30 { // few of the cheapest usable
			ok[d] = true
		}
	}
	for range 1000 {
		i := s.Sample(p, ok, &strategy.PickInfo{Now: t0, PromptTokens: 100})
		if i >= 0 && i%3 != 0 {
			t.Fatalf("picked %s at input price %v, want one of the cheapest", ds[i].ID(), ds[i].Config().Info.InputCostPerToken)
		}
	}
}

// TestSampleLeastBusySpreads starts 5,000 calls in a group of 1,000 idle
// deployments through sampled least-busy and checks the load stays even
// (Mitzenmacher: the best of d >= 2 random choices keeps the maximum load
// within ln ln n / ln d + O(1) of the mean, against ln n / ln ln n for one
// random choice).
func TestSampleLeastBusySpreads(t *testing.T) {
	ds := deps(t, make([]deployment.Config, 1000)...)
	p := strategy.NewPool(ds)
	s := samplers(t)["least-busy"]
	ok := &availableNow{now: t0}
	for range 5000 {
		i := s.Sample(p, ok, &strategy.PickInfo{Now: t0})
		if i < 0 {
			t.Fatal("no pick")
		}
		begin(t, ds[i], t0)
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, d := range ds {
		lo, hi = min(lo, d.InFlight()), max(hi, d.InFlight())
	}
	if hi > 6 || lo < 4 {
		t.Errorf("calls in flight range from %d to %d per deployment, want 5 give or take 1", lo, hi)
	}
}

func TestSampleAllocatesNothing(t *testing.T) {
	ds := big(t, 1000)
	p := strategy.NewPool(ds)
	ok := &availableNow{now: t0.Add(time.Second)}
	info := &strategy.PickInfo{Now: t0.Add(time.Second), PromptTokens: 100}
	for name, s := range samplers(t) {
		if allocs := testing.AllocsPerRun(100, func() { s.Sample(p, ok, info) }); allocs != 0 {
			t.Errorf("%s: %v allocations per Sample", name, allocs)
		}
	}
}

func BenchmarkSample(b *testing.B) {
	for _, name := range strategies {
		for _, n := range []int{100, 1000} {
			ds := benchCands(b, n)
			p := strategy.NewPool(ds)
			s := mustNew(b, name, nil).(strategy.Sampler)
			ok := &availableNow{now: t0.Add(time.Second)}
			info := &strategy.PickInfo{Now: t0.Add(time.Second), PromptTokens: 500}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if s.Sample(p, ok, info) < 0 {
						b.Fatal("no pick")
					}
				}
			})
		}
	}
}
