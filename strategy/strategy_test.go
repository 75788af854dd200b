package strategy_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func dep(t testing.TB, cfg deployment.Config) *deployment.Deployment {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "my-server/unknown-model" // not in provider/models: no defaults
	}
	if cfg.ID == "" {
		cfg.ID = fmt.Sprintf("d%p", &cfg)
	}
	d, err := deployment.New(cfg, nil, deployment.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func deps(t testing.TB, cfgs ...deployment.Config) []*deployment.Deployment {
	out := make([]*deployment.Deployment, len(cfgs))
	for i, c := range cfgs {
		if c.ID == "" {
			c.ID = fmt.Sprint("d", i)
		}
		out[i] = dep(t, c)
	}
	return out
}

func mustNew(t testing.TB, name string, args map[string]any) strategy.Strategy {
	t.Helper()
	s, err := strategy.New(name, args)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run drives one call on d at now with outcome o, like the router does.
func run(t testing.TB, d *deployment.Deployment, now time.Time, o deployment.Outcome) {
	t.Helper()
	a, err := d.Begin(now, 10)
	if err != nil {
		t.Fatal(err)
	}
	a.End(now, o)
}

// begin starts a call on d and leaves it in flight.
func begin(t testing.TB, d *deployment.Deployment, now time.Time) deployment.Attempt {
	t.Helper()
	a, err := d.Begin(now, 10)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// available filters cands as the router does before Pick.
func available(cands []*deployment.Deployment, info *strategy.PickInfo) []*deployment.Deployment {
	var out []*deployment.Deployment
	for _, d := range cands {
		if d.Available(info.Now, info.PromptTokens) == deployment.ReasonOK {
			out = append(out, d)
		}
	}
	return out
}

// counts picks n times and returns how often each ID won.
func counts(s strategy.Strategy, cands []*deployment.Deployment, info *strategy.PickInfo, n int) map[string]int {
	c := map[string]int{}
	for range n {
		i := s.Pick(cands, info)
		c[cands[i].ID()]++
	}
	return c
}

func TestNew(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"", "simple-shuffle"},
		{"simple-shuffle", "simple-shuffle"},
		{"least-busy", "least-busy"},
		{"latency-based-routing", "latency-based-routing"},
		{"usage-based-routing", "usage-based-routing"},
		{"usage-based-routing-v2", "usage-based-routing-v2"},
		{"cost-based-routing", "cost-based-routing"},
	} {
		s, err := strategy.New(tc.name, nil)
		if err != nil {
			t.Fatalf("New(%q): %v", tc.name, err)
		}
		if s.Name() != tc.want {
			t.Errorf("New(%q).Name() = %q, want %q", tc.name, s.Name(), tc.want)
		}
	}
}

func TestNewUnknown(t *testing.T) {
	_, err := strategy.New("fastest-please", nil)
	var ue *strategy.UnknownStrategyError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnknownStrategyError", err)
	}
	for _, n := range []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"} {
		if !slices.Contains(ue.Valid, n) || !strings.Contains(err.Error(), n) {
			t.Errorf("the error does not list %q: %v", n, err)
		}
	}
}

func TestNewBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name, strategy, arg string
		args                map[string]any
	}{
		{"negative buffer", "latency-based-routing", "lowest_latency_buffer", map[string]any{"lowest_latency_buffer": -0.1}},
		{"buffer as string", "latency-based-routing", "lowest_latency_buffer", map[string]any{"lowest_latency_buffer": "0.1"}},
		{"NaN buffer", "latency-based-routing", "lowest_latency_buffer", map[string]any{"lowest_latency_buffer": math.NaN()}},
		{"bad ttl", "latency-based-routing", "ttl", map[string]any{"ttl": "soon"}},
		{"zero ttl", "latency-based-routing", "ttl", map[string]any{"ttl": 0}},
		{"list size 0", "latency-based-routing", "max_latency_list_size", map[string]any{"max_latency_list_size": 0}},
		{"list size fraction", "latency-based-routing", "max_latency_list_size", map[string]any{"max_latency_list_size": 2.5}},
		{"unknown arg", "least-busy", "lowest_latency_buffer", map[string]any{"lowest_latency_buffer": 0.1}},
		{"fractional seed", "simple-shuffle", "seed", map[string]any{"seed": 1.5}},
		{"bool seed", "usage-based-routing", "seed", map[string]any{"seed": true}},
		{"output tokens", "cost-based-routing", "expected_output_tokens", map[string]any{"expected_output_tokens": -3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := strategy.New(tc.strategy, tc.args)
			var ae *strategy.ArgError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ArgError", err)
			}
			if ae.Arg != tc.arg || ae.Strategy != tc.strategy || !strings.HasPrefix(err.Error(), "strategy: ") || strings.Count(err.Error(), "strategy") != 1 {
				t.Errorf("err = %v (arg %q), want one about %q", err, ae.Arg, tc.arg)
			}
		})
	}
}

func TestNewGoodArgs(t *testing.T) {
	for _, args := range []map[string]any{
		{"lowest_latency_buffer": 0.5, "ttl": 3600, "max_latency_list_size": 10},
		{"lowest_latency_buffer": 0, "ttl": "90s"},
		{"ttl": 30 * time.Second, "lowest_latency_buffer": float32(0.1), "seed": int64(7)},
	} {
		if _, err := strategy.New("latency-based-routing", args); err != nil {
			t.Errorf("New(latency, %v): %v", args, err)
		}
	}
}

type firstOne struct{}

func (firstOne) Name() string                                          { return "first-one" }
func (firstOne) Pick([]*deployment.Deployment, *strategy.PickInfo) int { return 0 }

// registrations numbers TestRegister's names, which the registry keeps for
// the life of the process, so that -count=N registers fresh ones.
var registrations atomic.Int64

func TestRegister(t *testing.T) {
	name := fmt.Sprint("first-one-", registrations.Add(1))
	f := func(args map[string]any) (strategy.Strategy, error) {
		if len(args) > 0 {
			return nil, errors.New("no arguments")
		}
		return firstOne{}, nil
	}
	if err := strategy.Register(name, f); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	s := mustNew(t, name, nil)
	if _, ok := s.(firstOne); !ok || !slices.Contains(strategy.Names(), name) {
		t.Errorf("custom strategy not registered: New = %T, Names = %v", s, strategy.Names())
	}
	if _, err := strategy.New(name, map[string]any{"x": 1}); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("a factory's error = %v, want it wrapped with the name", err)
	}

	// A taken name is refused, and the first registration stays.
	other := func(map[string]any) (strategy.Strategy, error) { return mustNew(t, "least-busy", nil), nil }
	err := strategy.Register(name, other)
	if err == nil || !strings.HasPrefix(err.Error(), "strategy: ") || !strings.Contains(err.Error(), strconv.Quote(name)) {
		t.Errorf("Register(%q) again: err = %v, want one naming it", name, err)
	}
	if _, ok := mustNew(t, name, nil).(firstOne); !ok {
		t.Errorf("a refused Register replaced %q", name)
	}

	// Built-in names can never be replaced.
	for _, b := range append(strategies, "usage-based-routing-v2") {
		err := strategy.Register(b, f)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(b)) || !strings.Contains(err.Error(), "built-in") {
			t.Errorf("Register(%q): err = %v, want a built-in refused by name", b, err)
		}
		if s := mustNew(t, b, nil); s.Name() != b {
			t.Errorf("after Register(%q), New makes %q", b, s.Name())
		}
	}

	// Bad input is refused, not ignored.
	if err := strategy.Register("", f); err == nil || !strings.Contains(err.Error(), "empty name") {
		t.Errorf(`Register(""): err = %v`, err)
	}
	nilName := fmt.Sprint("nil-factory-", registrations.Add(1))
	if err := strategy.Register(nilName, nil); err == nil || !strings.Contains(err.Error(), nilName) {
		t.Errorf("Register(nil factory): err = %v, want one naming %q", err, nilName)
	}
	if slices.Contains(strategy.Names(), nilName) || slices.Contains(strategy.Names(), "") {
		t.Errorf("a refused registration is listed: %v", strategy.Names())
	}
}

// A strategy value works without the registry: nothing in Pick or in
// LowestOrder depends on how the value was made.
func TestUnregisteredValue(t *testing.T) {
	var s strategy.Strategy = firstOne{}
	cands := strategy.LowestOrder(deps(t, deployment.Config{ID: "a", Order: 2}, deployment.Config{ID: "b", Order: 1}))
	if got := cands[s.Pick(cands, &strategy.PickInfo{Now: t0})].ID(); got != "b" {
		t.Errorf("picked %q, want b", got)
	}
	if slices.Contains(strategy.Names(), s.Name()) {
		t.Errorf("%q is registered, want it not to be", s.Name())
	}
}

func TestLowestOrder(t *testing.T) {
	cands := deps(t,
		deployment.Config{ID: "o2", Order: 2},
		deployment.Config{ID: "o1a", Order: 1},
		deployment.Config{ID: "o1b", Order: 1},
		deployment.Config{ID: "o3", Order: 3},
	)
	got := strategy.LowestOrder(cands)
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID())
	}
	if !slices.Equal(ids, []string{"o1a", "o1b"}) {
		t.Errorf("LowestOrder = %v, want [o1a o1b]", ids)
	}
	if len(strategy.LowestOrder(nil)) != 0 {
		t.Error("LowestOrder(nil) not empty")
	}
}

func TestEmptyAndNil(t *testing.T) {
	one := deps(t, deployment.Config{})
	for _, n := range strategies {
		s := mustNew(t, n, nil)
		if got := s.Pick(nil, &strategy.PickInfo{Now: t0}); got != -1 {
			t.Errorf("%s: Pick(nil) = %d, want -1", n, got)
		}
		if got := s.Pick(one, nil); got != 0 {
			t.Errorf("%s: Pick(one, nil) = %d, want 0", n, got)
		}
		if got := s.Pick(append(one, one...), nil); got != 0 && got != 1 {
			t.Errorf("%s: Pick(two, nil) = %d", n, got)
		}
	}
}

func TestSimpleShuffleWeights(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		name string
		cfgs []deployment.Config
		want map[string]float64 // expected shares
	}{
		{"weight", []deployment.Config{{ID: "a", Weight: 1}, {ID: "b", Weight: 2}, {ID: "c", Weight: 7}},
			map[string]float64{"a": 0.1, "b": 0.2, "c": 0.7}},
		{"rpm when no weight", []deployment.Config{{ID: "a", RPM: 100}, {ID: "b", RPM: 300}},
			map[string]float64{"a": 0.25, "b": 0.75}},
		{"tpm when no weight nor rpm", []deployment.Config{{ID: "a", TPM: 9000}, {ID: "b", TPM: 1000}},
			map[string]float64{"a": 0.9, "b": 0.1}},
		{"weight beats rpm", []deployment.Config{{ID: "a", Weight: 1, RPM: 1000}, {ID: "b", Weight: 3, RPM: 1}},
			map[string]float64{"a": 0.25, "b": 0.75}},
		// LiteLLM decides from the first deployment only and would go uniform here.
		{"first without weight", []deployment.Config{{ID: "a"}, {ID: "b", Weight: 1}, {ID: "c", Weight: 3}},
			map[string]float64{"a": 2.0 / 6, "b": 1.0 / 6, "c": 3.0 / 6}},
		{"uniform", []deployment.Config{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}},
			map[string]float64{"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustNew(t, "simple-shuffle", map[string]any{"seed": 42})
			got := counts(s, deps(t, tc.cfgs...), &strategy.PickInfo{Now: t0}, n)
			for id, share := range tc.want {
				if f := float64(got[id]) / n; math.Abs(f-share) > 0.01 {
					t.Errorf("%s won %.4f of picks, want %.4f ± 0.01", id, f, share)
				}
			}
		})
	}
}

func TestSeedReproducible(t *testing.T) {
	cands := deps(t, deployment.Config{}, deployment.Config{}, deployment.Config{}, deployment.Config{})
	seq := func(seed int) []int {
		s := mustNew(t, "simple-shuffle", map[string]any{"seed": seed})
		var out []int
		for range 50 {
			out = append(out, s.Pick(cands, nil))
		}
		return out
	}
	if !slices.Equal(seq(1), seq(1)) {
		t.Error("the same seed gave different picks")
	}
	if slices.Equal(seq(1), seq(2)) {
		t.Error("different seeds gave the same 50 picks")
	}
}

func TestLeastBusy(t *testing.T) {
	cands := deps(t, deployment.Config{ID: "a"}, deployment.Config{ID: "b"}, deployment.Config{ID: "c"}, deployment.Config{ID: "d"})
	for i, busy := range []int{3, 1, 1, 5} {
		for range busy {
			begin(t, cands[i], t0)
		}
	}
	s := mustNew(t, "least-busy", map[string]any{"seed": 1})
	got := counts(s, cands, &strategy.PickInfo{Now: t0}, 10_000)
	if got["a"]+got["d"] != 0 {
		t.Errorf("picked a busier deployment: %v", got)
	}
	if math.Abs(float64(got["b"]-got["c"])) > 400 {
		t.Errorf("ties not spread evenly: %v", got)
	}
}

// TestLeastBusySpreads picks and keeps calls in flight, as concurrent
// traffic does: the load must end up even.
func TestLeastBusySpreads(t *testing.T) {
	cands := deps(t, deployment.Config{ID: "a"}, deployment.Config{ID: "b"}, deployment.Config{ID: "c"})
	s := mustNew(t, "least-busy", map[string]any{"seed": 3})
	for range 30 {
		begin(t, cands[s.Pick(cands, nil)], t0)
	}
	for _, d := range cands {
		if d.InFlight() != 10 {
			t.Errorf("%s has %d in flight, want 10", d.ID(), d.InFlight())
		}
	}
}

func TestLatencyBased(t *testing.T) {
	ms := time.Millisecond
	info := &strategy.PickInfo{Now: t0}
	setup := func(t *testing.T) []*deployment.Deployment {
		cands := deps(t, deployment.Config{ID: "a"}, deployment.Config{ID: "b"}, deployment.Config{ID: "c"})
		for i, l := range []time.Duration{100 * ms, 300 * ms, 110 * ms} {
			run(t, cands[i], t0, deployment.Outcome{Latency: l})
		}
		// Streams: b has the fastest first token.
		for i, l := range []time.Duration{50 * ms, 20 * ms, 60 * ms} {
			run(t, cands[i], t0, deployment.Outcome{Stream: true, TTFT: l})
		}
		return cands
	}
	t.Run("lowest wins", func(t *testing.T) {
		got := counts(mustNew(t, "latency-based-routing", map[string]any{"seed": 1}), setup(t), info, 1000)
		if got["a"] != 1000 {
			t.Errorf("picks %v, want all a", got)
		}
	})
	t.Run("buffer shares", func(t *testing.T) {
		s := mustNew(t, "latency-based-routing", map[string]any{"seed": 1, "lowest_latency_buffer": 0.2})
		got := counts(s, setup(t), info, 10_000)
		if got["b"] != 0 || got["a"] < 4500 || got["c"] < 4500 {
			t.Errorf("picks %v, want a and c about evenly, never b", got)
		}
	})
	t.Run("streams use TTFT", func(t *testing.T) {
		got := counts(mustNew(t, "latency-based-routing", nil), setup(t), &strategy.PickInfo{Now: t0, Stream: true}, 100)
		if got["b"] != 100 {
			t.Errorf("picks %v, want all b", got)
		}
	})
	t.Run("never measured is tried", func(t *testing.T) {
		cands := append(setup(t), dep(t, deployment.Config{ID: "new"}))
		s := mustNew(t, "latency-based-routing", nil)
		if i := s.Pick(cands, info); cands[i].ID() != "new" {
			t.Fatalf("picked %s, want the unmeasured deployment", cands[i].ID())
		}
		// One exploratory call at a time: while it is in flight, the
		// others are picked.
		a := begin(t, cands[3], t0)
		if i := s.Pick(cands, info); cands[i].ID() != "a" {
			t.Errorf("picked %s while new has a call in flight, want a", cands[i].ID())
		}
		a.End(t0, deployment.Outcome{Latency: 50 * ms})
		if i := s.Pick(cands, info); cands[i].ID() != "new" {
			t.Errorf("picked %s, want new, now measured fastest", cands[i].ID())
		}
	})
}

func TestLatencyRecoversFromOneSlowSample(t *testing.T) {
	ms := time.Millisecond
	a, b := dep(t, deployment.Config{ID: "a"}), dep(t, deployment.Config{ID: "b"})
	cands := []*deployment.Deployment{a, b}
	s := mustNew(t, "latency-based-routing", map[string]any{"ttl": 60})
	run(t, a, t0, deployment.Outcome{Latency: 100 * ms})
	run(t, b, t0, deployment.Outcome{Latency: 150 * ms})
	run(t, a, t0, deployment.Outcome{Latency: 20 * time.Second}) // one outlier

	// Traffic goes to b until a's sample is a ttl old; a gets no sample.
	now := t0
	for range 59 {
		now = now.Add(time.Second)
		info := &strategy.PickInfo{Now: now}
		if d := cands[s.Pick(cands, info)]; d != b {
			t.Fatalf("at +%v picked %s, want b", now.Sub(t0), d.ID())
		}
		run(t, b, now, deployment.Outcome{Latency: 150 * ms})
	}
	// a's sample is now a ttl old: it is explored once...
	now = now.Add(time.Second)
	info := &strategy.PickInfo{Now: now}
	if d := cands[s.Pick(cands, info)]; d != a {
		t.Fatalf("after the ttl picked %s, want an exploratory pick of a", d.ID())
	}
	// ...and its normal answer wins it back the traffic.
	run(t, a, now, deployment.Outcome{Latency: 100 * ms})
	for range 10 {
		if d := cands[s.Pick(cands, info)]; d != a {
			t.Fatalf("after one fast sample picked %s (a at %v, b at %v), want a", d.ID(), a.Latency(), b.Latency())
		}
	}
}

func rlHeader(limit, remaining, reset string) http.Header {
	return http.Header{
		"X-Ratelimit-Limit-Requests":     {limit},
		"X-Ratelimit-Remaining-Requests": {remaining},
		"X-Ratelimit-Reset-Requests":     {reset},
	}
}

func TestUsageBased(t *testing.T) {
	cands := deps(t, deployment.Config{ID: "low"}, deployment.Config{ID: "high"}, deployment.Config{ID: "empty"})
	run(t, cands[0], t0, deployment.Outcome{Header: rlHeader("100", "10", "60s")})
	run(t, cands[1], t0, deployment.Outcome{Header: rlHeader("100", "80", "60s")})
	run(t, cands[2], t0, deployment.Outcome{Header: rlHeader("100", "0", "30s")})
	s := mustNew(t, "usage-based-routing", map[string]any{"seed": 1})

	info := &strategy.PickInfo{Now: t0}
	live := available(cands, info)
	if len(live) != 2 {
		t.Fatalf("%d available, want 2 (the exhausted key skipped)", len(live))
	}
	if got := counts(s, live, info, 100); got["high"] != 100 {
		t.Errorf("picks %v, want all high", got)
	}
	// Sending to high uses its headroom up: 80 left - 75 sent < low's 10.
	for range 75 {
		begin(t, cands[1], t0)
	}
	if got := counts(s, live, info, 100); got["low"] != 100 {
		t.Errorf("after 75 calls to high, picks %v, want all low", got)
	}
	// 100 requests refill over 30s: still exhausted until one request has
	// refilled (300ms), available after it, full after the reset.
	info = &strategy.PickInfo{Now: t0.Add(300*time.Millisecond - time.Microsecond)}
	if len(available(cands, info)) != 2 {
		t.Error("the exhausted key came back before one request refilled")
	}
	info = &strategy.PickInfo{Now: t0.Add(300 * time.Millisecond)}
	if len(available(cands, info)) != 3 {
		t.Error("the exhausted key stayed out after one request refilled")
	}
	info = &strategy.PickInfo{Now: t0.Add(30 * time.Second)}
	live = available(cands, info)
	if i := s.Pick(live, info); live[i].ID() != "empty" {
		t.Errorf("after its reset picked %s, want the refilled key", live[i].ID())
	}
}

func TestUsageBasedTies(t *testing.T) {
	cands := deps(t, deployment.Config{ID: "a"}, deployment.Config{ID: "b"}, deployment.Config{ID: "c"})
	got := counts(mustNew(t, "usage-based-routing-v2", map[string]any{"seed": 9}), cands, &strategy.PickInfo{Now: t0}, 9000)
	for _, id := range []string{"a", "b", "c"} {
		if got[id] < 2700 || got[id] > 3300 {
			t.Errorf("unknown headroom everywhere: picks %v, want about even", got)
		}
	}
}

func TestCostBased(t *testing.T) {
	cands := deps(t,
		deployment.Config{ID: "cheap-in", Info: deployment.ModelInfo{InputCostPerToken: 1e-6, OutputCostPerToken: 4e-6}},
		deployment.Config{ID: "cheap-out", Info: deployment.ModelInfo{InputCostPerToken: 3e-6, OutputCostPerToken: 1e-6}},
		deployment.Config{ID: "unpriced"},
	)
	s := mustNew(t, "cost-based-routing", map[string]any{"seed": 1})
	for _, tc := range []struct {
		name string
		info strategy.PickInfo
		want string
	}{
		{"long prompt", strategy.PickInfo{PromptTokens: 10_000, OutputTokens: 100}, "cheap-in"},
		{"long answer", strategy.PickInfo{PromptTokens: 100, OutputTokens: 10_000}, "cheap-out"},
		{"per token sum", strategy.PickInfo{}, "cheap-out"}, // 5e-6 vs 4e-6
		{"default output size", strategy.PickInfo{PromptTokens: 100}, "cheap-out"},
	} {
		got := counts(s, cands, &tc.info, 100)
		if got[tc.want] != 100 {
			t.Errorf("%s: picks %v, want all %s", tc.name, got, tc.want)
		}
	}
	if got := counts(s, cands[2:], &strategy.PickInfo{}, 10); got["unpriced"] != 10 {
		t.Errorf("only an unpriced candidate: %v", got)
	}
	twins := deps(t,
		deployment.Config{ID: "x", Info: deployment.ModelInfo{InputCostPerToken: 1e-6}},
		deployment.Config{ID: "y", Info: deployment.ModelInfo{InputCostPerToken: 1e-6}},
	)
	if got := counts(s, twins, &strategy.PickInfo{}, 2000); got["x"] < 900 || got["y"] < 900 {
		t.Errorf("equal prices: picks %v, want about even", got)
	}
}

func TestPickAllocatesNothing(t *testing.T) {
	cands := deps(t, deployment.Config{Weight: 1}, deployment.Config{Weight: 2}, deployment.Config{Weight: 3})
	for _, d := range cands {
		run(t, d, t0, deployment.Outcome{Latency: time.Second, Header: rlHeader("100", "50", "1m")})
	}
	info := &strategy.PickInfo{Now: t0, PromptTokens: 100}
	for _, n := range []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"} {
		for _, args := range []map[string]any{nil, {"seed": 1}} {
			s := mustNew(t, n, args)
			if allocs := testing.AllocsPerRun(100, func() { s.Pick(cands, info) }); allocs != 0 {
				t.Errorf("%s %v: %v allocations per Pick", n, args, allocs)
			}
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { cands[0].Available(t0, 100) }); allocs != 0 {
		t.Errorf("Available: %v allocations", allocs)
	}
}

func TestConcurrentPicks(t *testing.T) {
	cands := deps(t, deployment.Config{Weight: 1}, deployment.Config{Weight: 2}, deployment.Config{}, deployment.Config{RPM: 1000})
	for _, n := range []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"} {
		for _, args := range []map[string]any{nil, {"seed": 5}} {
			s := mustNew(t, n, args)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 200 {
						now := t0.Add(time.Duration(i) * time.Millisecond)
						info := &strategy.PickInfo{Now: now, PromptTokens: 10}
						j := s.Pick(cands, info)
						if j < 0 || j >= len(cands) {
							t.Errorf("%s: Pick = %d", n, j)
							return
						}
						if a, err := cands[j].Begin(now, 10); err == nil {
							a.End(now, deployment.Outcome{Latency: time.Duration(w+1) * time.Millisecond})
						}
					}
				}()
			}
			wg.Wait()
		}
	}
}
