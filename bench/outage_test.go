package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// The outage scenario: a group of three deployments (keys of one fake
// upstream, 500 ms median latency) takes 50 requests a second; after one
// simulated minute every deployment answers 500 for one minute, then all
// come back, and the load goes on for one more minute.
const (
	outageRate     = 50 // requests per simulated second
	outageStart    = time.Minute
	outageDuration = time.Minute
	outageTail     = time.Minute
)

var outageKeys = []string{"sk-a", "sk-b", "sk-c"}

// outageSettings are the router settings compared: the defaults, the
// defaults as they were before the retry budget and the 2s MaxRetryWait,
// and both with cooldowns off (LiteLLM's cooldown_time: 0), where nothing
// but the retry budget holds retries back.
var outageSettings = []struct {
	name string
	s    router.Settings
}{
	{"defaults", router.Settings{}},
	{"no-budget,maxwait=60s", oldDefaults(router.Settings{})},
	{"cooldown=off", router.Settings{Deployment: deployment.Settings{CooldownTime: new(time.Duration(0))}}},
	{"cooldown=off,no-budget,maxwait=60s", oldDefaults(router.Settings{Deployment: deployment.Settings{CooldownTime: new(time.Duration(0))}})},
}

// oldDefaults sets what the defaults were before the retry budget and the
// 2s MaxRetryWait.
func oldDefaults(s router.Settings) router.Settings {
	s.RetryBudget.Disabled, s.MaxRetryWait = true, 60*time.Second
	return s
}

// BenchmarkOutage runs the outage scenario on the simulated clock (see
// sim). One op is one whole simulation (3 simulated minutes); the metrics:
//
//   - upstream_calls/req: upstream calls per request arriving during the
//     outage (1 means no retry multiplied the load);
//   - outage_success_%, success_%: caller success during the outage and
//     over the whole run;
//   - outage_p50_ms, outage_p99_ms: simulated time until a caller got its
//     answer or error during the outage;
//   - recover_ms: simulated time from the deployments' return to the
//     arrival of the first request from which on every request succeeded.
func BenchmarkOutage(b *testing.B) {
	for _, o := range outageSettings {
		b.Run(o.name, func(b *testing.B) {
			var res outageResult
			for b.Loop() {
				res = runOutage(b, o.s)
			}
			b.ReportMetric(float64(res.outageCalls)/float64(max(res.outageReqs, 1)), "upstream_calls/req")
			b.ReportMetric(pct(res.outageOK, res.outageReqs), "outage_success_%")
			b.ReportMetric(pct(res.ok, res.requests), "success_%")
			b.ReportMetric(ms(percentile(res.outageLat, 0.50)), "outage_p50_ms")
			b.ReportMetric(ms(percentile(res.outageLat, 0.99)), "outage_p99_ms")
			b.ReportMetric(ms(res.recover), "recover_ms")
		})
	}
}

type outageResult struct {
	requests, ok                      int
	outageReqs, outageOK, outageCalls int
	outageLat                         []time.Duration
	recover                           time.Duration
}

func runOutage(b testing.TB, set router.Settings) outageResult {
	b.Helper()
	s := newSim()
	srv := openaitest.NewServer(openaitest.WithClock(s.Now), openaitest.WithHistory(0))
	defer srv.Close()
	hc := &http.Client{Transport: openai.NewTransport()}
	defer hc.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(1, 2)) // used by one goroutine at a time (see sim)

	var deps []deployment.Config
	for _, k := range outageKeys {
		deps = append(deps, deployment.Config{
			ID: k, ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: k, BaseURL: srv.URL, HTTPClient: hc,
		})
	}
	factory := func(cfg deployment.Config) (provider.Client, error) {
		c, err := openai.New(openai.Config{
			Model: cfg.Model, APIKey: cfg.APIKey, BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient, DeploymentID: cfg.ID,
		})
		if err != nil {
			return nil, err
		}
		return &simClient{inner: c, sim: s, rng: rng, latency: 500 * time.Millisecond}, nil
	}
	r, err := router.New(router.Config{Deployments: deps, Settings: set},
		router.WithClock(s), router.WithRand(1), router.WithClientFactory(factory), quiet())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()

	step := time.Second / outageRate
	n := int((outageStart + outageDuration + outageTail) / step)
	faultAt, backAt := int(outageStart/step), int((outageStart+outageDuration)/step)
	var (
		mu       sync.Mutex
		res      outageResult
		lastFail = -1 // the last request after the return that failed
	)
	s.run(n, step, func(i int) {
		switch i {
		case faultAt:
			srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Status: 500})
		case backAt:
			srv.ClearFaults()
		}
		start := s.Now()
		res1, err := r.Do(context.Background(), chatRequest("gpt-4o-mini", "hello"))
		lat := s.Now().Sub(start)
		calls := 0
		if err == nil {
			calls = len(res1.Attempts)
		} else if re := (*router.Error)(nil); errors.As(err, &re) {
			calls = len(re.Attempts)
		}
		mu.Lock()
		defer mu.Unlock()
		res.requests++
		if err == nil {
			res.ok++
		}
		switch {
		case i >= faultAt && i < backAt:
			res.outageReqs++
			res.outageCalls += calls
			res.outageLat = append(res.outageLat, lat)
			if err == nil {
				res.outageOK++
			}
		case i >= backAt && err != nil:
			lastFail = max(lastFail, i)
		}
	})
	if lastFail >= 0 {
		res.recover = time.Duration(lastFail+1-backAt) * step
	}
	return res
}
