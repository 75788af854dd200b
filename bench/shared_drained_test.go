package bench

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

var drainedRuns = flag.Int("drained.runs", 1, "TestSharedDrainedBucket: simulations per replica count (different arrival offsets)")

// drainedResult is what one drained-bucket simulation did.
type drainedResult struct {
	offered, answered int
	upstream          int64 // requests the upstream saw
	limited           int64 // of them refused with 429
}

// runDrained simulates the scenario of issue 14: one upstream key with a
// 120 rpm request bucket that starts drained, replicas routers sharing
// state through one Redis (miniredis), each with its own client, and
// callers offering 3x the key's capacity (6 requests per second), round
// robin over the replicas, for d of simulated time. Each Syncer's
// background loop is replaced by a Flush every 100 ms of simulated time
// (replica i at offsets of i·100/replicas ms, shifted by phase) and one
// right after an attempt that started a cooldown (the loop pushes a
// cooldown at once). Everything runs on the simulated clock of sim: the
// routers (their waits included), the Syncers and the fake's buckets.
func runDrained(t *testing.T, replicas int, d, phase time.Duration) drainedResult {
	t.Helper()
	s := newSim()
	mr := miniredis.RunT(t)
	srv := openaitest.NewServer(openaitest.WithKey("sk-drained", openaitest.KeyConfig{RPM: 120}),
		openaitest.WithClock(s.Now), openaitest.WithHistory(0))
	t.Cleanup(srv.Close)
	clk := funcClock{now: s.Now, sleep: s.Sleep}
	routers := make([]*router.Router, replicas)
	for i := range routers {
		st, err := sharedstate.NewRedisStore(sharedstate.RedisConfig{Addr: mr.Addr()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		r, err := router.New(router.Config{Deployments: []deployment.Config{{
			ID: "drained", ModelName: "mini", Model: "openai/gpt-4o-mini", APIKey: "sk-drained", BaseURL: srv.URL, RPM: 120,
		}}}, router.WithClock(clk), quiet(),
			router.WithSharedState(st, sharedstate.Config{
				Interval: new(time.Duration(0)), Timeout: 10 * time.Second, ReplicaID: fmt.Sprint("replica-", i),
			}),
			router.WithHooks(router.Hooks{OnAttempt: func(_ context.Context, a router.AttemptInfo) {
				if !a.Cooldown.IsZero() {
					_ = routers[i].SharedState().Flush(context.Background())
				}
			}}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		routers[i] = r
	}
	srv.Drain("sk-drained")

	// The events: a call (replica >= 0) or a flush (flush set).
	type event struct {
		at      time.Duration
		replica int
		flush   bool
	}
	var evs []event
	const rate = 6 // calls per second
	calls := int(d.Seconds() * rate)
	for k := range calls {
		evs = append(evs, event{at: time.Duration(k) * time.Second / rate, replica: k % replicas})
	}
	for i := range replicas {
		off := phase + time.Duration(i)*100*time.Millisecond/time.Duration(replicas)
		for at := off % (100 * time.Millisecond); at < d; at += 100 * time.Millisecond {
			evs = append(evs, event{at: at, replica: i, flush: true})
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	res := drainedResult{offered: calls}
	answered := make([]bool, len(evs))
	s.runAt(len(evs), func(i int) time.Duration { return evs[i].at }, func(i int) {
		e := evs[i]
		r := routers[e.replica]
		if e.flush {
			if err := r.SharedState().Flush(context.Background()); err != nil {
				t.Errorf("replica %d: Flush: %v", e.replica, err)
			}
			return
		}
		if _, err := r.Do(context.Background(), chatRequest("mini", "hello")); err == nil {
			answered[i] = true
		}
	})
	for _, ok := range answered {
		if ok {
			res.answered++
		}
	}
	st := srv.Stats()
	res.upstream, res.limited = st.Requests, st.RateLimited
	return res
}

// TestSharedDrainedBucket is issue 14's shared-limit scenario in simulated
// time (see runDrained), with one, three and four replicas: the upstream
// may refuse only the very first call (nothing can know the bucket is
// drained before its headers are read), and the replicas together use
// the key's whole refill (2 requests per second). Before the upstream
// budget was counted across replicas (sharedstate Store.Take), four
// replicas each spent the refill the shared snapshot projected, and about
// two of every three upstream calls were 429s.
//
// go test -run TestSharedDrainedBucket -drained.runs 20 ./bench/ runs 20
// simulations per replica count, each with the flushes at another phase.
func TestSharedDrainedBucket(t *testing.T) {
	const d = 20 * time.Second
	for _, replicas := range []int{1, 3, 4} {
		t.Run(fmt.Sprint(replicas, "replicas"), func(t *testing.T) {
			var total drainedResult
			for run := range max(*drainedRuns, 1) {
				phase := time.Duration(run) * 100 * time.Millisecond / time.Duration(max(*drainedRuns, 1))
				res := runDrained(t, replicas, d, phase)
				t.Logf("run %d: offered %d, answered %d; upstream saw %d calls, %d of them 429s", run, res.offered, res.answered, res.upstream, res.limited)
				if res.limited > 1 {
					t.Errorf("run %d: %d upstream 429s in %d calls, want at most the first", run, res.limited, res.upstream)
				}
				// The bucket refills 2 per second from empty: 40 in 20 s.
				if ok := res.upstream - res.limited; ok < 38 || ok > 41 {
					t.Errorf("run %d: the upstream answered %d calls, want about 40 (2 per second)", run, ok)
				}
				total.upstream += res.upstream
				total.limited += res.limited
			}
			t.Logf("%d replicas: %d upstream calls, %d 429s (%.2f%%)", replicas, total.upstream, total.limited,
				100*float64(total.limited)/float64(max(total.upstream, 1)))
		})
	}
}
