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

var drainedSeconds = flag.Duration("drained.duration", 3*time.Second, "length of the drained-bucket scenario")
var drainedReplicas = flag.Int("drained.replicas", 4, "replicas")
var drainedRPMConf = flag.Bool("drained.rpm", true, "configure rpm on the deployment")

func TestExpDrained(t *testing.T) {
	newStore, _ := backends[1].open(t)
	srv := openaitest.NewServer(openaitest.WithKey("sk-shared", openaitest.KeyConfig{RPM: 120}), openaitest.WithHistory(0))
	defer srv.Close()
	n := *drainedReplicas
	var routers []*router.Router
	for i := range n {
		rpm := 0
		if *drainedRPMConf {
			rpm = 120
		}
		cfg := router.Config{Deployments: []deployment.Config{{
			ID: sharedID, ModelName: "mini", Model: "openai/gpt-4o-mini", APIKey: "sk-shared", BaseURL: srv.URL, RPM: rpm,
		}}}
		r, err := router.New(cfg, quiet(), router.WithSharedState(newStore(), sharedstate.Config{ReplicaID: fmt.Sprint("replica-", i)}))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		routers = append(routers, r)
	}
	srv.Drain("sk-shared")
	const rate = 6 // per second: 3x the upstream's 2/s
	total := int(drainedSeconds.Seconds() * rate)
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	start := time.Now()
	for k := range total {
		time.Sleep(time.Until(start.Add(time.Duration(k) * time.Second / rate)))
		r := routers[k%n]
		wg.Go(func() {
			if _, err := r.Do(t.Context(), chat("mini")); err != nil {
				if failed.Add(1) < 4 {
					t.Logf("%v: %v", time.Since(start), err)
				}
			} else {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	st := srv.Stats()
	t.Logf("replicas %d: offered %d, ok %d, failed %d; upstream %d requests, %d 429s (%.1f%%)", n, total, ok.Load(), failed.Load(), st.Requests, st.RateLimited, 100*float64(st.RateLimited)/float64(max(st.Requests, 1)))
}
