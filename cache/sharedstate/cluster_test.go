package sharedstate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Cluster and Sentinel integration tests run against the servers that
// .ci/redis-cluster.sh and .ci/redis-sentinel.sh start (.ci/run starts
// them); they skip, saying so, when the variables below are unset or
// nothing answers.

// clusterConfig is the Cluster named by REDIS_CLUSTER_ADDRS.
func clusterConfig(t testing.TB) RedisConfig {
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Skip("redis cluster: REDIS_CLUSTER_ADDRS is not set (.ci/redis-cluster.sh starts one and prints it)")
	}
	return RedisConfig{Addrs: strings.Split(addrs, ","), Cluster: true}
}

// sentinelConfig is the Sentinel group named by REDIS_SENTINEL_ADDRS and
// REDIS_SENTINEL_MASTER.
func sentinelConfig(t testing.TB) RedisConfig {
	addrs, master := os.Getenv("REDIS_SENTINEL_ADDRS"), os.Getenv("REDIS_SENTINEL_MASTER")
	if addrs == "" || master == "" {
		t.Skip("redis sentinel: REDIS_SENTINEL_ADDRS or REDIS_SENTINEL_MASTER is not set (.ci/redis-sentinel.sh starts a group and prints them)")
	}
	return RedisConfig{Addrs: strings.Split(addrs, ","), MasterName: master}
}

// newFrom connects a store with cfg and prefix, skipping the test when the
// servers do not answer; the prefix's keys are deleted at the end (on every
// master of a Cluster).
func newFrom(t testing.TB, what string, cfg RedisConfig, prefix string) *RedisStore {
	t.Helper()
	cfg.Prefix = prefix
	s, err := NewRedisStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Client().Ping(ctx).Err(); err != nil {
		_ = s.Close()
		t.Skipf("%s: no server at %s: %v", what, cfg, err)
	}
	t.Cleanup(func() {
		if cc, ok := s.Client().(*redis.ClusterClient); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// One DEL per key: a node's keys are in many slots.
			_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
				keys, err := c.Keys(ctx, prefix+"*").Result()
				for _, k := range keys {
					if err == nil {
						err = c.Del(ctx, k).Err()
					}
				}
				if err != nil {
					t.Errorf("cleanup on %s: %v", c.Options().Addr, err)
				}
				return nil
			})
		} else {
			cleanupPrefix(t, s.Client(), prefix)
		}
		_ = s.Close()
	})
	return s
}

func newCluster(t testing.TB) *RedisStore {
	return newFrom(t, "redis cluster", clusterConfig(t), randomPrefix(t))
}

func newSentinel(t testing.TB) *RedisStore {
	return newFrom(t, "redis sentinel", sentinelConfig(t), randomPrefix(t))
}

// TestMultiReplicaCluster: four replicas, each with its own Cluster
// client, share one rpm limit exactly.
func TestMultiReplicaCluster(t *testing.T) {
	cfg := clusterConfig(t)
	prefix := newCluster(t).prefix
	testMultiReplica(t, func(t *testing.T) (Store, *cmdCounter) {
		s := newFrom(t, "redis cluster", cfg, prefix)
		cnt := &cmdCounter{}
		s.Client().AddHook(cnt)
		return s, cnt
	})
}

// TestClusterSpreadsDeployments checks that deployments spread over every
// master while each deployment's keys share one slot, and that one Sync
// covering deployments on every master reads each back.
func TestClusterSpreadsDeployments(t *testing.T) {
	ctx := t.Context()
	s := newCluster(t)
	cc := s.Client().(*redis.ClusterClient)
	w := Window{At: time.Now()}
	var ops []SyncOp
	masters := map[string]int{}
	for i := range 30 {
		id := fmt.Sprintf("deployment-%d", i)
		keys, _ := s.syncArgs(w, &SyncOp{ID: id})
		keys = append(keys, s.key(id, ":up"))
		slot := int64(-1)
		for _, k := range keys {
			got, err := cc.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if slot >= 0 && got != slot {
				t.Fatalf("%s: key %s in slot %d, the others in %d", id, k, got, slot)
			}
			slot = got
		}
		m, err := cc.MasterForKey(ctx, keys[0])
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr]++
		ops = append(ops, SyncOp{ID: id, Incr: Usage{Requests: int64(i + 1)}, Replica: "r", InFlight: 1})
	}
	if len(masters) != 3 {
		t.Errorf("30 deployments on %d masters (%v), want all 3", len(masters), masters)
	}
	if err := s.Sync(ctx, w, ops); err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		op, err := readOp(ctx, s, w, ops[i].ID)
		if err != nil || op.Usage.Requests != int64(i+1) || op.SharedInFlight != 1 {
			t.Errorf("%s: usage %+v in flight %d (%v), want %d requests, 1 in flight", ops[i].ID, op.Usage, op.SharedInFlight, err, i+1)
		}
	}
}

// TestNewRedisStoreRejectsBracedPrefix: braces in the prefix would move the
// hash tag off the deployment id, either putting every deployment in one
// Cluster slot or ("{}") splitting one deployment's keys over several
// (CROSSSLOT).
func TestNewRedisStoreRejectsBracedPrefix(t *testing.T) {
	for _, p := range []string{"{}", "app{x}:", "a}"} {
		if _, err := NewRedisStore(RedisConfig{Prefix: p}); err == nil || !strings.Contains(err.Error(), "Prefix") {
			t.Errorf("prefix %q: err %v, want one naming Prefix", p, err)
		}
	}
}

// sentinelMaster asks the Sentinels which address the primary has.
func sentinelMaster(ctx context.Context, cfg RedisConfig) (string, error) {
	var last error
	for _, a := range cfg.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a, DialTimeout: time.Second, ReadTimeout: time.Second})
		addr, err := sc.GetMasterAddrByName(ctx, cfg.MasterName).Result()
		_ = sc.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names the primary of %s: %v", cfg.MasterName, last)
}

// killPrimary shuts the primary down and returns a func that starts it
// again (as a replica, once the Sentinels have failed over) and waits
// until the group has its replica back, so that the next run finds the
// topology it started with, roles swapped.
func killPrimary(t *testing.T, ctx context.Context, cfg RedisConfig) (old string, restore func()) {
	t.Helper()
	old, err := sentinelMaster(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: old})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	exe, conf := infoField(info, "executable"), infoField(info, "config_file")
	if _, err := os.Stat(exe); err != nil {
		// Redis spells a relative argv[0] from its working directory.
		exe, _ = exec.LookPath("redis-server")
	}
	if exe == "" || conf == "" {
		t.Skipf("redis sentinel: the primary %s has no config file to restart it from (start it with .ci/redis-sentinel.sh)", old)
	}
	// SHUTDOWN closes the connection: its error says nothing.
	_ = c.Shutdown(ctx).Err()
	return old, func() {
		t.Helper()
		if err := exec.Command(exe, conf).Run(); err != nil { // daemonizes
			t.Fatalf("restart %s: %v", old, err)
		}
		// The Sentinels would turn the old primary into a replica too, but
		// only after it has reported the wrong role for seconds: do it now,
		// with no delay before the new primary streams its data.
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := func() error {
				m, err := sentinelMaster(ctx, cfg)
				if err != nil {
					return err
				}
				mc := redis.NewClient(&redis.Options{Addr: m})
				defer mc.Close()
				if err := mc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
					return err
				}
				host, port, _ := strings.Cut(m, ":")
				oc := redis.NewClient(&redis.Options{Addr: old})
				defer oc.Close()
				return oc.ReplicaOf(ctx, host, port).Err()
			}()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the failover: %s never became a replica: %v", old, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for {
			if ok, why := replicaOnline(ctx, cfg, old); ok {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("after the failover: %s never came back as a replica: %s", old, why)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}

// replicaOnline says whether addr is an online replica of the current
// primary.
func replicaOnline(ctx context.Context, cfg RedisConfig, addr string) (bool, string) {
	m, err := sentinelMaster(ctx, cfg)
	if err != nil {
		return false, err.Error()
	}
	c := redis.NewClient(&redis.Options{Addr: m})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return false, err.Error()
	}
	host, port, _ := strings.Cut(addr, ":")
	return strings.Contains(info, "ip="+host+",port="+port+",state=online"), info
}

// TestSentinelFailover kills the primary under four replicas' Syncers in
// both modes, mid-run: no caller sees an error (they go on from local
// state while no primary answers), and once the Sentinels have promoted
// the replica the shared usage is reconciled with what the callers were
// granted.
func TestSentinelFailover(t *testing.T) {
	cfg := sentinelConfig(t)
	prefix := newSentinel(t).prefix
	ctx := t.Context()
	clock := newFakeClock(t0.Add(time.Second))
	lim := Limits{RPM: 1 << 40}
	type replica struct {
		mode SyncMode
		sy   *Syncer
	}
	var reps []replica
	for _, mode := range modes {
		for r := range 2 {
			st := newFrom(t, "redis sentinel", cfg, prefix)
			sy := NewSyncer(st, Config{Mode: mode, Now: clock.Now, Logger: quiet,
				ReplicaID: fmt.Sprint("r", r), Timeout: 200 * time.Millisecond})
			reps = append(reps, replica{mode, sy})
		}
	}
	var granted [2]atomic.Int64
	var errs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range reps {
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := r.sy.Reserve(ctx, "dep-"+r.mode.String(), 1, lim)
					if err != nil {
						errs.Add(1)
						t.Errorf("%s reserve: %v", r.mode, err)
						return
					}
					granted[r.mode].Add(1)
					res.Done(-1)
					time.Sleep(time.Millisecond) // real time: the failover takes seconds
				}
			})
		}
	}
	// Some traffic on the old primary first.
	for granted[SyncEveryRequest].Load() < 50 || granted[SyncBatched].Load() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	old, restore := killPrimary(t, ctx, cfg)
	start := time.Now()
	for {
		m, err := sentinelMaster(ctx, cfg)
		if err == nil && m != old {
			t.Logf("failover %s -> %s after %v", old, m, time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 20*time.Second {
			close(stop)
			wg.Wait()
			t.Fatalf("no failover from %s within 20 s", old)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Serve on the new primary until every Syncer shares again.
	deadline := time.Now().Add(10 * time.Second)
	for _, r := range reps {
		for r.sy.Flush(ctx) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("sharing again %v after the kill", time.Since(start).Round(time.Millisecond))
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, r := range reps {
		if err := r.sy.Close(); err != nil {
			t.Errorf("%s close: %v", r.mode, err)
		}
	}
	restore()
	t.Logf("replica back %v after the kill", time.Since(start).Round(time.Millisecond))
	if errs.Load() != 0 {
		t.Fatalf("%d callers saw an error", errs.Load())
	}
	st := newFrom(t, "redis sentinel", cfg, prefix)
	for _, mode := range modes {
		op, err := readOp(ctx, st, clock.Window(), "dep-"+mode.String())
		if err != nil {
			t.Fatal(err)
		}
		g := granted[mode].Load()
		t.Logf("%s: %d granted, %d shared", mode, g, op.Usage.Requests)
		if op.Usage.Requests != g {
			t.Errorf("%s: shared usage %d after the failover, want the %d granted", mode, op.Usage.Requests, g)
		}
	}
}
