package router

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/strategy"
)

// bigGroup returns n deployments of group "g", d777 alone tagged "x".
func bigGroup(n int) Config {
	var cfg Config
	for i := range n {
		d := dep("g", fmt.Sprint("d", i))
		if i == 777 {
			d.Tags = []string{"x"}
		}
		cfg.Deployments = append(cfg.Deployments, d)
	}
	return cfg
}

// TestLargeGroupFindsTheOnlyServingDeployment: in a sampled group of 1,000,
// a call only one deployment serves still finds it (the exact scan after
// the strategy's draws miss), with every strategy.
func TestLargeGroupFindsTheOnlyServingDeployment(t *testing.T) {
	for _, name := range strategy.Names() {
		if _, ok := mustStrategy(t, name).(strategy.Sampler); !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cfg := bigGroup(1000)
			cfg.Settings.RoutingStrategy = name
			h := newHarness(t, cfg)
			for range 20 {
				res, err := h.r.Do(t.Context(), chatReq("g"), WithTags("x"))
				if err != nil {
					t.Fatal(err)
				}
				if res.Deployment != "d777" {
					t.Fatalf("served by %s, want d777", res.Deployment)
				}
			}
		})
	}
}

// TestLargeGroupNeverRetriesALeftOutDeployment: in a sampled group, a
// deployment that failed the call is not drawn again for it.
func TestLargeGroupNeverRetriesALeftOutDeployment(t *testing.T) {
	for _, name := range []string{strategy.NameSimpleShuffle, strategy.NameLeastBusy, strategy.NameUsage} {
		t.Run(name, func(t *testing.T) {
			cfg := bigGroup(40)
			cfg.Settings.RoutingStrategy = name
			retries := 45
			cfg.Settings.NumRetries = &retries
			h := newHarness(t, cfg)
			for i := range 40 {
				if i != 5 {
					h.client(fmt.Sprint("d", i)).setScript(step{err: perr(provider.ClassServer, 503)})
				}
			}
			res, err := h.r.Do(t.Context(), chatReq("g"))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, a := range res.Attempts {
				if seen[a.Deployment] {
					t.Fatalf("%s attempted twice in one call: %v", a.Deployment, attemptIDs(res.Attempts))
				}
				seen[a.Deployment] = true
			}
			if res.Deployment != "d5" {
				t.Fatalf("served by %s, want d5", res.Deployment)
			}
		})
	}
}

func mustStrategy(t *testing.T, name string) strategy.Strategy {
	t.Helper()
	s, err := strategy.New(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// BenchmarkPickDeployment is the router's whole pick for an untagged call
// in a group of n available deployments: filtering and the strategy's
// pick (the exact scan up to strategy.SampleAbove, sampling above).
func BenchmarkPickDeployment(b *testing.B) {
	for _, name := range []string{strategy.NameSimpleShuffle, strategy.NameLeastBusy, strategy.NameLatency, strategy.NameUsage, strategy.NameCost} {
		for _, n := range []int{10, 100, 1000} {
			cfg := bigGroup(n)
			cfg.Settings.RoutingStrategy = name
			r, err := New(cfg, WithClientFactory(newFakes().factory), WithClock(newClock()),
				WithLogger(slog.New(slog.DiscardHandler)), WithRand(1))
			if err != nil {
				b.Fatal(err)
			}
			g := r.state.Load().groups["g"]
			c := &call{r: r}
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if c.pickDeployment(g) == nil {
						b.Fatal("no pick")
					}
				}
			})
		}
	}
}
