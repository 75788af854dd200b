package router_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// These tests run the router with its default client factory
// (provider/openai) against the fake upstream of provider/openaitest over
// real HTTP on loopback.

// simClock is a clock the test steps, shared by the router and the fake
// upstream's rate-limit buckets; the router's waits advance it.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSimClock() *simClock {
	return &simClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

func quiet() router.Option { return router.WithLogger(slog.New(slog.DiscardHandler)) }

func chat(model string) *provider.Request {
	return &provider.Request{
		Endpoint: provider.EndpointChat,
		Model:    model,
		Body:     []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"hello there"}],"max_tokens":16}`),
	}
}

func keyDep(srv *openaitest.Server, group, id, key string) deployment.Config {
	return deployment.Config{ID: id, ModelName: group, Model: "openai/gpt-4o-mini", APIKey: key, BaseURL: srv.URL}
}

func TestIntegrationFailoverOverHTTP(t *testing.T) {
	srv := openaitest.NewServer(openaitest.WithAnyKey(openaitest.KeyConfig{RPM: 1000}))
	defer srv.Close()
	srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-bad", Status: 503})
	r, err := router.New(router.Config{Deployments: []deployment.Config{
		keyDep(srv, "mini", "bad", "sk-bad"), keyDep(srv, "mini", "good", "sk-good"),
	}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		res, err := r.Do(t.Context(), chat("mini"))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if res.Deployment != "good" || !strings.Contains(string(res.Body), "echo: hello there") {
			t.Fatalf("call %d served by %s: %s", i, res.Deployment, res.Body)
		}
		if res.Header.Get("X-Ratelimit-Limit-Requests") != "1000" || res.Header.Get(router.HeaderModelGroup) != "mini" {
			t.Errorf("headers %v", res.Header)
		}
		if n := len(res.Attempts); n == 2 && (res.Attempts[0].StatusCode != 503 || res.Attempts[0].Class != provider.ClassServer) {
			t.Errorf("first attempt %+v", res.Attempts[0])
		}
	}
}

func TestIntegrationStreaming(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	r, err := router.New(router.Config{Deployments: []deployment.Config{
		keyDep(srv, "mini", "a", "sk-a"), keyDep(srv, "mini", "b", "sk-b"),
	}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	read := func(s provider.Stream) (n int) {
		for s.Next() {
			n++
		}
		return n
	}
	t.Run("retried before the first event", func(t *testing.T) {
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: "sk-a", Status: 502})
		defer srv.ClearFaults()
		for range 5 {
			s, err := r.Stream(t.Context(), chat("mini"))
			if err != nil {
				t.Fatal(err)
			}
			if n := read(s); n == 0 || s.Err() != nil || s.Deployment != "b" {
				t.Errorf("%d events from %s, err %v", n, s.Deployment, s.Err())
			}
			_ = s.Close()
		}
	})
	t.Run("cut midway reaches the caller", func(t *testing.T) {
		srv.SetFault(openaitest.Fault{Kind: openaitest.FaultStreamCut, AfterChunks: 2})
		defer srv.ClearFaults()
		before := srv.Stats().Requests
		s, err := r.Stream(t.Context(), chat("mini"))
		if err != nil {
			t.Fatal(err)
		}
		n := read(s)
		_ = s.Close()
		if n != 2 || s.Err() == nil {
			t.Fatalf("%d events, err %v: a cut stream must end with an error", n, s.Err())
		}
		var pe *provider.Error
		if !errors.As(s.Err(), &pe) || pe.Deployment != s.Deployment {
			t.Errorf("Err = %#v", s.Err())
		}
		if got := srv.Stats().Requests - before; got != 1 {
			t.Errorf("%d upstream requests: no retry once events reached the caller", got)
		}
	})
}

func TestIntegrationFallbacks(t *testing.T) {
	srv := openaitest.NewServer()
	defer srv.Close()
	r, err := router.New(router.Config{
		Deployments: []deployment.Config{
			keyDep(srv, "main", "m", "sk-main"), keyDep(srv, "big", "b", "sk-big"), keyDep(srv, "safe", "s", "sk-safe"),
		},
		Settings: router.Settings{
			ContextWindowFallbacks: map[string][]string{"main": {"big"}},
			ContentPolicyFallbacks: map[string][]string{"main": {"safe"}},
		},
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fault openaitest.Fault
		want  string
	}{
		{openaitest.Fault{Kind: openaitest.FaultContextLength, Key: "sk-main", Window: 1}, "big"},
		{openaitest.Fault{Kind: openaitest.FaultContentPolicy, Key: "sk-main"}, "safe"},
		{openaitest.Fault{Kind: openaitest.FaultContentFilter, Key: "sk-main"}, "safe"},
	} {
		t.Run(tt.fault.Kind.String(), func(t *testing.T) {
			srv.SetFault(tt.fault)
			defer srv.ClearFaults()
			res, err := r.Do(t.Context(), chat("main"))
			if err != nil {
				t.Fatal(err)
			}
			if res.ModelGroup != tt.want || len(res.Attempts) != 2 {
				t.Errorf("served by %s after %d attempts, want %s after 2", res.ModelGroup, len(res.Attempts), tt.want)
			}
		})
	}
}

// TestScenarioUsageBasedRoutingAcrossKeys is the scenario Switchyard is for:
// three API keys with different rate limits behind one alias, offered more
// load than any one key allows but less than their sum. With usage-based
// routing the caller sees no error and almost no call reaches a key that
// has nothing left. Simulated time runs on a clock the test steps (the
// upstream's token buckets use it too), so ten minutes of traffic take a
// moment.
func TestScenarioUsageBasedRoutingAcrossKeys(t *testing.T) {
	limits := map[string]int{"sk-small": 10, "sk-medium": 20, "sk-large": 30} // 60 rpm in all
	const perMinute = 50                                                      // above 30, below 60
	const minutes = 10
	for _, mode := range []struct {
		name       string
		configured bool // rpm in the deployment config, else learned from headers
		burst      int  // callers at once
	}{
		{"rpm configured", true, 1},
		{"rpm learned from headers", false, 1},
		{"rpm learned, bursts of 5 concurrent callers", false, 5},
	} {
		t.Run(mode.name, func(t *testing.T) {
			clk := newSimClock()
			var opts []openaitest.Option
			for k, rpm := range limits {
				opts = append(opts, openaitest.WithKey(k, openaitest.KeyConfig{RPM: rpm}))
			}
			srv := openaitest.NewServer(append(opts, openaitest.WithClock(clk.Now))...)
			defer srv.Close()
			var deps []deployment.Config
			for _, k := range []string{"sk-small", "sk-medium", "sk-large"} {
				d := keyDep(srv, "gpt-4o-mini", strings.TrimPrefix(k, "sk-"), k)
				if mode.configured {
					d.RPM = limits[k]
				}
				deps = append(deps, d)
			}
			r, err := router.New(router.Config{
				Deployments: deps,
				Aliases:     map[string]string{"fast": "gpt-4o-mini"},
				Settings:    router.Settings{RoutingStrategy: "usage-based-routing"},
			}, router.WithClock(clk), router.WithRand(7), quiet())
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu     sync.Mutex
				served = map[string]int{}
				failed []error
			)
			step := time.Minute / perMinute
			for range perMinute * minutes / mode.burst {
				var wg sync.WaitGroup
				for range mode.burst {
					wg.Go(func() {
						res, err := r.Do(t.Context(), chat("fast"))
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							failed = append(failed, err)
							return
						}
						served[res.Deployment]++
					})
				}
				wg.Wait()
				clk.Advance(step * time.Duration(mode.burst))
			}
			if len(failed) > 0 {
				t.Fatalf("%d calls failed, the first: %v", len(failed), failed[0])
			}
			st := srv.Stats()
			t.Logf("upstream: %d requests, %d 429s; served per key %v", st.Requests, st.RateLimited, served)
			if max429 := st.Requests / 100; st.RateLimited > max429 {
				t.Errorf("%d of %d upstream calls were 429s, want at most 1%% (%d)", st.RateLimited, st.Requests, max429)
			}
			for k, rpm := range limits {
				if got := st.Keys[k].Requests - st.Keys[k].RateLimited; got > int64(rpm*(minutes+1)) {
					t.Errorf("%s served %d, more than its limit allows", k, got)
				}
			}
		})
	}
}
