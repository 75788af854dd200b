package router_test

import (
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

var (
	drainedDuration = flag.Duration("drained.duration", 3*time.Second, "TestSharedDrainedBucketRealTime: how long callers offer load (issue 14 measured 20s)")
	drainedReplicas = flag.Int("drained.replicas", replicas, "TestSharedDrainedBucketRealTime: number of routers")
)

// TestSharedDrainedBucketRealTime is issue 14's shared-limit scenario on
// the wall clock, against miniredis and the real Redis (skipped when none
// answers): one upstream key with a 120 rpm request bucket that starts
// drained, four routers sharing state with the Syncer's defaults (batched,
// 100 ms interval, 50 ms timeout), each with its own client, and callers
// offering three times the key's capacity (6 calls per second) round robin
// for -drained.duration (3 s by default; bench/ simulates 20 s). Only the
// first call may meet a 429: no router can know the bucket is drained
// before it reads the key's headers. A store that timed out (a loaded
// machine) lets the replicas go on from local state, which the test then
// reports instead of judging.
//
// Before the replicas counted the upstream's budget together, about two of
// every three upstream calls were 429s.
func TestSharedDrainedBucketRealTime(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			newStore, _ := be.open(t)
			srv := openaitest.NewServer(openaitest.WithKey("sk-drained", openaitest.KeyConfig{RPM: 120}), openaitest.WithHistory(0))
			t.Cleanup(srv.Close)
			var incidents atomic.Int64
			n := max(*drainedReplicas, 1)
			routers := make([]*router.Router, n)
			for i := range routers {
				r, err := router.New(router.Config{Deployments: []deployment.Config{{
					ID: sharedID, ModelName: "mini", Model: "openai/gpt-4o-mini", APIKey: "sk-drained", BaseURL: srv.URL, RPM: 120,
				}}}, quiet(),
					router.WithSharedState(newStore(), sharedstate.Config{ReplicaID: fmt.Sprint("replica-", i)}),
					router.WithHooks(router.Hooks{OnSharedState: func(e router.SharedStateEvent) {
						if e.Err != nil {
							incidents.Add(1)
						}
					}}))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = r.Close() })
				routers[i] = r
			}
			srv.Drain("sk-drained")
			const rate = 6 // calls per second: 3x the key's 2
			calls := int(drainedDuration.Seconds() * rate)
			var (
				wg       sync.WaitGroup
				answered atomic.Int64
			)
			start := time.Now()
			for k := range calls {
				time.Sleep(time.Until(start.Add(time.Duration(k) * time.Second / rate)))
				r := routers[k%n]
				wg.Go(func() {
					if _, err := r.Do(t.Context(), chat("mini")); err == nil {
						answered.Add(1)
					}
				})
			}
			wg.Wait()
			st := srv.Stats()
			t.Logf("%d replicas, %v: offered %d, answered %d; upstream saw %d calls, %d 429s (%.1f%%); %d store incidents",
				n, *drainedDuration, calls, answered.Load(), st.Requests, st.RateLimited,
				100*float64(st.RateLimited)/float64(max(st.Requests, 1)), incidents.Load())
			if incidents.Load() > 0 {
				t.Logf("the store timed out: replicas served from local state for a while; 429s not judged")
				return
			}
			if st.RateLimited > 1 {
				t.Errorf("%d upstream 429s, want at most the first call's", st.RateLimited)
			}
			if st.Requests-st.RateLimited == 0 {
				t.Error("the upstream answered nothing")
			}
		})
	}
}
