package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// The routing-quality workload: four API keys of one upstream model behind
// one alias, each with its own requests-per-minute limit (enforced by the
// fake upstream's token buckets) and its own latency (simulated).
var qualityKeys = []simKey{
	{key: "sk-a", rpm: 40, latency: 400 * time.Millisecond},
	{key: "sk-b", rpm: 80, latency: 900 * time.Millisecond},
	{key: "sk-c", rpm: 120, latency: 600 * time.Millisecond},
	{key: "sk-d", rpm: 160, latency: 1500 * time.Millisecond},
}

// The faulty key of the fault scenarios, and the timeout every deployment
// gets in them (real time; the hung attempt costs as much simulated time).
const (
	faultyKey       = "sk-b"
	hangTimeout     = 40 * time.Millisecond
	errorLatency    = 20 * time.Millisecond // simulated time of an error answer (429, 5xx, quota)
	loadFraction    = 0.9                   // offered load over the capacity of the working keys
	warmupMinutes   = 1                     // simulated minutes run before measuring
	cooldownMinutes = 1                     // simulated minutes of load kept up after measuring
	measureMinutes  = 5                     // simulated minutes measured
	latencySpread   = 0.25                  // sigma of the log-normal latency factor
)

type simKey struct {
	key     string
	rpm     int
	latency time.Duration // median simulated latency of a success
}

// qualityScenario is one situation the strategies are compared in.
type qualityScenario struct {
	name string
	// learn leaves the deployments' rpm unset, so the router knows the
	// limits only from the upstream's x-ratelimit headers.
	learn bool
	// fault is installed on faultyKey at the start of measurement (or,
	// with midway, half-way through it); nil for none.
	fault  *openaitest.Fault
	midway bool
	// timeout is every deployment's Timeout.
	timeout time.Duration
	// load is the offered load over the working keys' capacity; zero
	// means loadFraction.
	load float64
	// poisson makes arrivals a Poisson process (bursty, as independent
	// callers are) instead of evenly spaced.
	poisson bool
}

var qualityScenarios = []qualityScenario{
	{name: "healthy/rpm=config"},
	{name: "healthy/rpm=headers", learn: true},
	{name: "bursty/rpm=headers", learn: true, poisson: true},
	{name: "overload/rpm=config", load: 1.2},
	{name: "5xx", fault: &openaitest.Fault{Kind: openaitest.FaultServerError, Key: faultyKey, Status: 500}},
	{name: "hang", fault: &openaitest.Fault{Kind: openaitest.FaultHang, Key: faultyKey}, timeout: hangTimeout},
	{name: "quota-midway", fault: &openaitest.Fault{Kind: openaitest.FaultInsufficientQuota, Key: faultyKey}, midway: true},
}

var qualityStrategies = []string{"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "cost-based-routing"}

// BenchmarkQuality measures routing quality under load for each strategy
// and scenario (healthy keys with limits configured or learned from
// headers, bursty arrivals, overload at 120%, one key failing with 5xx,
// hanging, or out of quota midway). One op is one whole simulation: 7
// simulated minutes of load, at 90% of the capacity of the keys that work
// unless the scenario says otherwise; the metrics describe the requests
// that arrive in minutes 2 to 6 (the first minute warms the router up, the
// last keeps the load on while the measured requests finish):
//
//   - success_%: caller requests that got an answer;
//   - upstream_429_%: upstream calls refused with 429 rate_limit_exceeded;
//   - retries/req: retries per caller request;
//   - sim_p50_ms, sim_p99_ms: caller latency in simulated milliseconds
//     (upstream latencies are simulated; real timeouts count as simulated
//     time too);
//   - max_key_util_%, min_key_util_%: successes served by a key over its
//     rpm limit, for the busiest and the idlest working key (the faulty key
//     of a fault scenario is left out).
//
// The run fails when the router answers wrongly: a body that is not the
// answer to the request sent, or a deployment outside the group.
func BenchmarkQuality(b *testing.B) {
	for _, sc := range qualityScenarios {
		for _, strat := range qualityStrategies {
			b.Run(sc.name+"/"+strat, func(b *testing.B) {
				var res qualityResult
				for b.Loop() {
					res = runQuality(b, sc, strat)
				}
				res.report(b)
			})
		}
	}
}

// qualityResult is what one simulation measured.
type qualityResult struct {
	requests, ok, retries int
	latencies             []time.Duration
	served                map[string]int // successes per key
	upstream              openaitest.Stats
	errs                  map[string]int // first error text per kind, for the log
	faultyKey             string
}

func (r *qualityResult) report(b *testing.B) {
	b.ReportMetric(pct(r.ok, r.requests), "success_%")
	b.ReportMetric(pct(int(r.upstream.RateLimited), int(r.upstream.Requests)), "upstream_429_%")
	b.ReportMetric(float64(r.retries)/float64(max(r.requests, 1)), "retries/req")
	b.ReportMetric(ms(percentile(r.latencies, 0.50)), "sim_p50_ms")
	b.ReportMetric(ms(percentile(r.latencies, 0.99)), "sim_p99_ms")
	hi, lo := 0.0, math.Inf(1)
	for _, k := range qualityKeys {
		if k.key == r.faultyKey {
			continue
		}
		u := pct(r.served[k.key], k.rpm*measureMinutes)
		hi, lo = max(hi, u), min(lo, u)
	}
	b.ReportMetric(hi, "max_key_util_%")
	b.ReportMetric(lo, "min_key_util_%")
	var util []string
	for _, k := range qualityKeys {
		util = append(util, fmt.Sprintf("%s %.0f%%", k.key, pct(r.served[k.key], k.rpm*measureMinutes)))
	}
	b.Logf("key utilisation: %s; caller errors by kind: %v", strings.Join(util, ", "), r.errs)
}

// runQuality runs one simulation of sc with the named strategy.
func runQuality(b testing.TB, sc qualityScenario, strat string) qualityResult {
	b.Helper()
	s := newSim()
	var opts []openaitest.Option
	capacity := 0
	for _, k := range qualityKeys {
		opts = append(opts, openaitest.WithKey(k.key, openaitest.KeyConfig{RPM: k.rpm}))
		if sc.fault == nil || k.key != faultyKey {
			capacity += k.rpm
		}
	}
	srv := openaitest.NewServer(append(opts, openaitest.WithClock(s.Now), openaitest.WithHistory(0))...)
	defer srv.Close()
	hc := &http.Client{Transport: openai.NewTransport()}
	defer hc.CloseIdleConnections()

	rng := rand.New(rand.NewPCG(1, 2)) // used by one goroutine at a time (see sim)
	var deps []deployment.Config
	latency := map[string]time.Duration{}
	for _, k := range qualityKeys {
		d := deployment.Config{
			ID: k.key, ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini",
			APIKey: k.key, BaseURL: srv.URL, HTTPClient: hc, Timeout: sc.timeout,
		}
		if !sc.learn {
			d.RPM = k.rpm
		}
		deps = append(deps, d)
		latency[k.key] = k.latency
	}
	factory := func(cfg deployment.Config) (provider.Client, error) {
		c, err := openai.New(openai.Config{
			Model: cfg.Model, APIKey: cfg.APIKey, BaseURL: cfg.BaseURL,
			HTTPClient: cfg.HTTPClient, DeploymentID: cfg.ID,
		})
		if err != nil {
			return nil, err
		}
		return &simClient{inner: c, sim: s, rng: rng, latency: latency[cfg.APIKey], timeout: sc.timeout}, nil
	}
	r, err := router.New(router.Config{
		Deployments: deps,
		Aliases:     map[string]string{"fast": "gpt-4o-mini"},
		Settings:    router.Settings{RoutingStrategy: strat, RoutingStrategyArgs: map[string]any{"seed": 1}},
	}, router.WithClock(s), router.WithRand(1),
		router.WithClientFactory(factory), quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()

	load := sc.load
	if load == 0 {
		load = loadFraction
	}
	perMinute := load * float64(capacity)
	step := time.Duration(float64(time.Minute) / perMinute)
	// Load runs before the measured requests (so they meet a router and
	// keys in their steady state) and after them (so they compete with
	// later arrivals for as long as they wait, as earlier ones did: without
	// it, the last measured requests would find the keys to themselves).
	warm := int(perMinute * warmupMinutes)
	end := warm + int(perMinute*measureMinutes)
	total := end + int(perMinute*cooldownMinutes)
	arrivals := make([]time.Duration, total)
	for i := range arrivals {
		arrivals[i] = time.Duration(i) * step
		if sc.poisson && i > 0 {
			arrivals[i] = arrivals[i-1] + time.Duration(rng.ExpFloat64()*float64(step))
		}
	}
	faultAt := warm
	if sc.midway {
		faultAt = warm + (end-warm)/2
	}

	res := qualityResult{served: map[string]int{}, errs: map[string]int{}}
	if sc.fault != nil {
		res.faultyKey = faultyKey
	}
	var (
		mu       sync.Mutex
		wrong    error
		upstream openaitest.Stats
	)
	ctx := context.Background()
	s.runAt(total, func(i int) time.Duration { return arrivals[i] }, func(i int) {
		if i == warm {
			srv.ResetStats()
		}
		if sc.fault != nil && i == faultAt {
			srv.SetFault(*sc.fault)
		}
		measured := i >= warm && i < end
		start := s.Now()
		want := "req " + strconv.Itoa(i)
		res1, err := r.Do(ctx, chatRequest("fast", want))
		lat := s.Now().Sub(start)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			if !bytes.Contains(res1.Body, []byte("echo: "+want)) || !slices.ContainsFunc(qualityKeys, func(k simKey) bool { return k.key == res1.Deployment }) {
				wrong = fmt.Errorf("request %d: answered by %q with %s", i, res1.Deployment, res1.Body)
			}
		}
		if i == end {
			upstream = srv.Stats()
		}
		if !measured {
			return
		}
		res.requests++
		res.latencies = append(res.latencies, lat)
		if err == nil {
			res.ok++
			res.retries += res1.Retries
			res.served[res1.Deployment]++
			return
		}
		var re *router.Error
		if errors.As(err, &re) {
			res.retries += max(len(re.Attempts)-1, 0)
		}
		kind := "other"
		var pe *provider.Error
		switch {
		case errors.Is(err, router.ErrNoDeployment):
			kind = "no deployment"
		case errors.As(err, &pe):
			kind = pe.Class.String()
		}
		res.errs[kind]++
	})
	if wrong != nil {
		b.Fatal(wrong)
	}
	if upstream.Requests == 0 {
		upstream = srv.Stats()
	}
	res.upstream = upstream
	return res
}

// simClient sends each call to the fake upstream at once (its buckets see
// the simulated time the call starts), then holds the answer until the
// call's simulated latency has passed: the key's latency times a
// log-normal factor for a success, errorLatency for an error answer, the
// attempt's timeout for a call that timed out.
type simClient struct {
	inner   provider.Client
	sim     *sim
	rng     *rand.Rand
	latency time.Duration
	timeout time.Duration
}

func (c *simClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	start := c.sim.Now()
	resp, err := c.inner.Do(ctx, req)
	lat := errorLatency
	switch {
	case err == nil:
		lat = time.Duration(float64(c.latency) * math.Exp(latencySpread*c.rng.NormFloat64()))
	case ctx.Err() != nil && c.timeout > 0:
		lat = c.timeout
	}
	c.sim.sleepUntil(start.Add(lat))
	return resp, err
}

func (c *simClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest, Message: "bench: the simulation serves non-streaming calls only"}
}

// chatRequest is a small chat completion whose answer ("echo: " + text)
// proves which request it answers.
func chatRequest(model, text string) *provider.Request {
	return &provider.Request{
		Endpoint: provider.EndpointChat,
		Model:    model,
		Body:     []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"` + text + `"}],"max_tokens":16}`),
	}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the q-quantile of ds (nearest rank); it sorts ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
