package router

import (
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// sharedHarness is a router over fake clients sharing state through store
// with the Syncer's background loop off (tests Flush by hand) and the
// given mode.
func sharedHarness(t *testing.T, cfg Config, store sharedstate.Store, mode sharedstate.SyncMode) *harness {
	t.Helper()
	h := newHarness(t, cfg, WithSharedState(store, sharedstate.Config{
		Mode: mode, Interval: new(time.Duration(0)), Timeout: 5 * time.Second,
	}))
	t.Cleanup(func() { _ = h.r.Close() })
	return h
}

func limited(group, id string, rpm int) deployment.Config {
	c := dep(group, id)
	c.RPM = rpm
	return c
}

func TestSharedStateOffByDefault(t *testing.T) {
	h := newHarness(t, Config{Deployments: grp("g", "a")})
	if h.r.SharedState() != nil {
		t.Fatal("a Syncer without WithSharedState")
	}
	if err := h.r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSharedReservationLifecycle: every attempt is reserved before it is
// sent and settled after it, with the tokens the upstream reported; a
// stream holds its reservation until it ends.
func TestSharedReservationLifecycle(t *testing.T) {
	for _, mode := range []sharedstate.SyncMode{sharedstate.SyncBatched, sharedstate.SyncEveryRequest} {
		t.Run(mode.String(), func(t *testing.T) {
			mr := miniredis.RunT(t)
			store, err := sharedstate.NewRedisStore(sharedstate.RedisConfig{Addr: mr.Addr(), Prefix: "t:"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			h := sharedHarness(t, Config{Deployments: []deployment.Config{limited("g", "a", 100)}}, store, mode)
			sy := h.r.SharedState()
			fc := h.client("a")
			fc.setScript(step{usage: provider.Usage{TotalTokens: 42}, events: []string{"{}"}})

			if _, err := h.r.Do(t.Context(), chatReq("g"), WithPromptTokens(10)); err != nil {
				t.Fatal(err)
			}
			if n, u := sy.InFlight("a"), sy.Usage("a"); n != 0 || u != (sharedstate.Usage{Requests: 1, Tokens: 42}) {
				t.Errorf("after Do: in flight %d, usage %+v; want 0, {1 42}", n, u)
			}
			s, err := h.r.Stream(t.Context(), chatReq("g"))
			if err != nil {
				t.Fatal(err)
			}
			if n := sy.InFlight("a"); n != 1 {
				t.Errorf("stream open: in flight %d, want 1", n)
			}
			for s.Next() {
			}
			_ = s.Close()
			// Batched, the shared usage counts the whole lease taken.
			if n, u := sy.InFlight("a"), sy.Usage("a"); n != 0 || u.Tokens != 84 || u.Requests != 2 && (mode == sharedstate.SyncEveryRequest || u.Requests < 2) {
				t.Errorf("after the stream: in flight %d, usage %+v; want 0, {2 84}", n, u)
			}
			fc.setScript(step{err: perr(provider.ClassBadRequest, 400)})
			if _, err := h.r.Do(t.Context(), chatReq("g")); err == nil {
				t.Fatal("no error")
			}
			if n, u := sy.InFlight("a"), sy.Usage("a"); n != 0 || u.Requests < 3 {
				t.Errorf("after a failed call: in flight %d, usage %+v; want 0 and 3 requests (it was sent)", n, u)
			}
			if err := sy.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := storeUsage(t, store, "a", h.clock.Now()); got.Requests < 3 || got.Tokens < 84 {
				t.Errorf("usage in Redis %+v, want at least {3 84}", got)
			}
		})
	}
}

// TestSharedLimitSkipsFullDeployment: a deployment full across replicas is
// skipped like one at a local limit, and a group with nothing else says
// why.
func TestSharedLimitSkipsFullDeployment(t *testing.T) {
	store := sharedstate.NewMemoryStore() // shared by both routers, in process
	cfg := Config{Deployments: []deployment.Config{limited("g", "a", 2), dep("g", "b"), limited("solo", "s", 1)}}
	r1 := sharedHarness(t, cfg, store, sharedstate.SyncEveryRequest)
	r2 := sharedHarness(t, cfg, store, sharedstate.SyncEveryRequest)
	r2.clock = r1.clock
	for i := 0; r1.client("a").Calls() < 2; i++ {
		if i > 200 {
			t.Fatal("a never served")
		}
		if _, err := r1.r.Do(t.Context(), chatReq("g")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r1.r.Do(t.Context(), chatReq("solo")); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		res, err := r2.r.Do(t.Context(), chatReq("g"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Deployment != "b" {
			t.Fatalf("served by %s, which is full across replicas", res.Deployment)
		}
	}
	_, err := r2.r.Do(t.Context(), chatReq("solo"), WithNumRetries(0))
	var nde *NoDeploymentError
	if !errors.As(err, &nde) || nde.Reasons[deployment.ReasonRPM] != 1 {
		t.Fatalf("err %v, want no deployment: 1 rpm_limit", err)
	}
	if n := r2.client("s").Calls(); n != 0 {
		t.Errorf("%d calls reached the full deployment", n)
	}
}

// TestSharedLiveUpdates: deployments added, replaced or removed on a live
// router are tracked, and a new one starts with what the replicas know.
func TestSharedLiveUpdates(t *testing.T) {
	h := sharedHarness(t, Config{Deployments: grp("g", "a")}, nil, sharedstate.SyncBatched)
	sy := h.r.SharedState()
	until := h.clock.Now().Add(time.Minute)
	sy.SetCooldown("c", until, "rate_limited")
	snap := ratelimit.Empty(h.clock.Now())
	snap.LimitRequests, snap.RemainingRequests = 100, 40
	sy.ObserveSnapshot("c", snap)

	if err := h.r.AddDeployment(dep("g", "c")); err != nil {
		t.Fatal(err)
	}
	c := h.r.Deployment("c")
	if !c.CooldownUntil().Equal(until) {
		t.Errorf("added deployment cooling down until %v, want %v", c.CooldownUntil(), until)
	}
	if s := c.Snapshot(); s == nil || s.RemainingRequests != 40 {
		t.Errorf("added deployment snapshot %+v", s)
	}
	sy.SetCooldown("a", until, "auth")
	if err := h.r.UpdateDeployment(dep("g", "a")); err != nil {
		t.Fatal(err)
	}
	if !h.r.Deployment("a").CooldownUntil().Equal(until) {
		t.Errorf("replaced deployment lost the shared cooldown")
	}
	h.clock.Advance(2 * time.Minute)
	if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
		t.Fatal(err)
	}
	id := h.client("a").Calls()
	served := "c"
	if id == 1 {
		served = "a"
	}
	if u := sy.Usage(served); u.Requests != 1 {
		t.Fatalf("usage of %s %+v", served, u)
	}
	if err := h.r.RemoveDeployment(served); err != nil {
		t.Fatal(err)
	}
	if u := sy.Usage(served); u != (sharedstate.Usage{}) {
		t.Errorf("removed deployment still tracked: %+v", u)
	}
}

func TestSharedCloseClosesSyncer(t *testing.T) {
	h := sharedHarness(t, Config{Deployments: grp("g", "a")}, nil, sharedstate.SyncBatched)
	sy := h.r.SharedState()
	if err := h.r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sy.Reserve(t.Context(), "a", 0, sharedstate.Limits{}); !errors.Is(err, sharedstate.ErrClosed) {
		t.Errorf("Reserve after Close: %v", err)
	}
	if err := h.r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// storeUsage reads deployment id's usage as the store shares it at now.
func storeUsage(t *testing.T, store sharedstate.Store, id string, now time.Time) sharedstate.Usage {
	t.Helper()
	ops := []sharedstate.SyncOp{{ID: id}}
	if err := store.Sync(t.Context(), sharedstate.Window{At: now}, ops); err != nil {
		t.Fatal(err)
	}
	return ops[0].Usage
}
