// Command quickstart runs Switchyard against built-in fake upstreams, with no
// API key, and prints what happened.
//
// It starts a fake OpenAI upstream (package provider/openaitest) that knows
// four API keys: three with different rate limits and one that answers every
// call with a 500. A router puts all four behind the model name "gpt-4o" with
// usage-based routing, and a few workers send a few hundred chat completions
// through it, more than any single key allows. The table shows how the
// router spread the calls, what the upstream answered, and what the callers
// saw.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

const (
	requests = 300
	workers  = 8
)

// keys are the fake upstream's API keys and their requests-per-minute limits.
var keys = []struct {
	name, key string
	rpm       int
	broken    bool
}{
	{"key-small", "sk-small", 60, false},
	{"key-medium", "sk-medium", 100, false},
	{"key-large", "sk-large", 200, false},
	{"key-broken", "sk-broken", 1000, true},
}

// tally counts what happened to the calls sent to one deployment.
type tally struct {
	attempts, ok, rateLimited, serverErr, other int
	latency                                     time.Duration
}

func main() {
	log.SetFlags(0)
	opts := []openaitest.Option{openaitest.WithLatency(2 * time.Millisecond)}
	for _, k := range keys {
		opts = append(opts, openaitest.WithKey(k.key, openaitest.KeyConfig{RPM: k.rpm}))
	}
	upstream := openaitest.NewServer(opts...)
	defer upstream.Close()
	for _, k := range keys {
		if k.broken {
			upstream.SetFault(openaitest.Fault{Kind: openaitest.FaultServerError, Key: k.key, Status: 500})
		}
	}

	// The workers start together, before any key's headers are known, so
	// the first calls of all eight may meet key-broken at once. The retry
	// budget's default minimum (3 retries in flight, Envoy's) would fail
	// some of them fast, as it should in an outage; a service whose calls
	// in flight are few sets the minimum to them, so each can retry once.
	minRetries := workers
	cfg := router.Config{Settings: router.Settings{
		RoutingStrategy: "usage-based-routing",
		RetryBudget:     router.RetryBudget{MinRetries: &minRetries},
	}}
	for _, k := range keys {
		cfg.Deployments = append(cfg.Deployments, deployment.Config{
			ID:        k.name,
			ModelName: "gpt-4o",
			Model:     "openai/gpt-4o",
			APIKey:    k.key,
			BaseURL:   upstream.URL,
		})
	}

	var (
		mu      sync.Mutex
		tallies = map[string]*tally{}
	)
	hooks := router.Hooks{OnAttempt: func(_ context.Context, a router.AttemptInfo) {
		mu.Lock()
		defer mu.Unlock()
		t := tallies[a.Deployment]
		if t == nil {
			t = &tally{}
			tallies[a.Deployment] = t
		}
		t.attempts++
		t.latency += a.Latency
		switch {
		case a.Err == nil:
			t.ok++
		case a.Class == provider.ClassRateLimited:
			t.rateLimited++
		case a.Class == provider.ClassServer:
			t.serverErr++
		default:
			t.other++
		}
	}}

	r, err := router.New(cfg, router.WithHooks(hooks))
	if err != nil {
		log.Fatalf("quickstart: %v", err)
	}
	defer r.Close()

	var (
		wg                         sync.WaitGroup
		next                       = make(chan int)
		callerOK, callerErr, retry int
		firstErr                   error
	)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":"question %d"}]}`, i)
				res, err := r.Do(context.Background(), &provider.Request{
					Endpoint: provider.EndpointChat,
					Model:    "gpt-4o",
					Body:     []byte(body),
				})
				mu.Lock()
				if err != nil {
					callerErr++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					callerOK++
					retry += res.Retries
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < requests; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Printf("Switchyard quickstart: %d chat completions for \"gpt-4o\" from %d workers, usage-based routing,\n", requests, workers)
	fmt.Printf("over 4 API keys of a fake OpenAI upstream (rpm limits 60, 100, 200; key-broken answers 500).\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "deployment\tkey rpm\tupstream calls\tok\t429\t5xx\tother\tavg latency\t")
	names := make([]string, 0, len(tallies))
	for n := range tallies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, k := range keys {
		t := tallies[k.name]
		if t == nil {
			t = &tally{}
		}
		avg := time.Duration(0)
		if t.attempts > 0 {
			avg = t.latency / time.Duration(t.attempts)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", k.name, k.rpm, t.attempts, t.ok, t.rateLimited, t.serverErr, t.other, avg.Round(10*time.Microsecond))
	}
	tw.Flush()

	st := upstream.Stats()
	fmt.Printf("\ncallers: %d succeeded, %d failed, %d retries moved to another key, in %s\n",
		callerOK, callerErr, retry, elapsed.Round(time.Millisecond))
	fmt.Printf("upstream: %d requests received, %d answered 429\n", st.Requests, st.RateLimited)
	if firstErr != nil {
		fmt.Printf("first caller error: %v\n", firstErr)
	}
	if callerErr > 0 {
		os.Exit(1)
	}
}
