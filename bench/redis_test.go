package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
)

// redisURL is the Redis the Redis benchmarks use: REDIS_URL, else the
// local default.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// newRedisStore connects to Redis under a fresh key prefix, or skips the
// benchmark when no Redis answers.
func newRedisStore(b *testing.B, prefix string) *sharedstate.RedisStore {
	b.Helper()
	s, err := sharedstate.NewRedisStore(sharedstate.RedisConfig{URL: redisURL(), Prefix: prefix, Timeout: time.Second})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.Client().Ping(ctx).Err()
		cancel()
		if err != nil {
			_ = s.Close()
		}
	}
	if err != nil {
		b.Skipf("no Redis at %s (set REDIS_URL to run the Redis benchmarks): %v", redisURL(), err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func randomPrefix() string {
	var p [6]byte
	_, _ = rand.Read(p[:])
	return "switchyard-bench:" + hex.EncodeToString(p[:]) + ":"
}

// countingStore counts the calls made to a Store: each is one round trip
// (Sync pipelines all of its operations into one).
type countingStore struct {
	sharedstate.Store
	calls atomic.Int64
}

func (s *countingStore) Lease(ctx context.Context, id string, w sharedstate.Window, want, least sharedstate.Usage, lim sharedstate.Limits) (sharedstate.Usage, sharedstate.Usage, error) {
	s.calls.Add(1)
	return s.Store.Lease(ctx, id, w, want, least, lim)
}

func (s *countingStore) Sync(ctx context.Context, w sharedstate.Window, ops []sharedstate.SyncOp) error {
	s.calls.Add(1)
	return s.Store.Sync(ctx, w, ops)
}

var syncModes = []sharedstate.SyncMode{sharedstate.SyncEveryRequest, sharedstate.SyncBatched}

// BenchmarkRedis measures the sharedstate.Syncer that shares router state on a
// real Redis (REDIS_URL, default redis://127.0.0.1:6379/0; skipped when none
// answers), on its own, called as the router calls it: one Reserve before
// each upstream call and one Done after it. BenchmarkSharedRouter measures
// the same through the router.
//
//   - reserve/<mode>: one replica, a limit never reached. ns/op is the
//     latency a request gains (p50_us, p99_us per request); rt/req the
//     Store round trips per request, background sync included. "local" is
//     a Syncer over an in-process memory store, for reference.
//   - shared_limit/<mode>: four replicas (four Syncers, each with its own
//     Redis connection pool) share one deployment's limit of 600 requests
//     per minute and together offer 1,200 requests at once within one
//     window. granted_% is the requests admitted over the limit (100 is
//     exact; above 100 would break the limit, and fails the benchmark);
//     rt/req is round trips per offered request.
func BenchmarkRedis(b *testing.B) {
	quietLog := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	b.Run("reserve/local", func(b *testing.B) {
		benchReserve(b, sharedstate.NewSyncer(nil, sharedstate.Config{Logger: quietLog}), nil)
	})
	for _, mode := range syncModes {
		b.Run("reserve/"+mode.String(), func(b *testing.B) {
			store := &countingStore{Store: newRedisStore(b, randomPrefix())}
			var incidents atomic.Int64
			s := sharedstate.NewSyncer(store, sharedstate.Config{Mode: mode, Logger: quietLog,
				OnError: func(err error) {
					if err != nil {
						incidents.Add(1)
						b.Logf("store incident: %v", err)
					}
				}})
			benchReserve(b, s, store)
			// An incident (a Store call slower than the Syncer's 50 ms
			// timeout, on a loaded machine) means some requests were
			// served from local state: reported, not hidden.
			b.ReportMetric(float64(incidents.Load()), "incidents")
		})
	}
	for _, mode := range syncModes {
		b.Run("shared_limit/"+mode.String(), func(b *testing.B) {
			const replicas, limit, offered = 4, 600, 1200
			prefix := randomPrefix()
			// A fixed time early in a window, so that the sliding window's
			// previous-window share is zero and the whole limit is free.
			at := simStart.Truncate(time.Minute).Add(time.Second)
			var (
				stores    []*countingStore
				syncers   []*sharedstate.Syncer
				incidents atomic.Int64
			)
			for i := range replicas {
				st := &countingStore{Store: newRedisStore(b, prefix)}
				stores = append(stores, st)
				syncers = append(syncers, sharedstate.NewSyncer(st, sharedstate.Config{Mode: mode, Logger: quietLog,
					Now: func() time.Time { return at }, ReplicaID: "r" + strconv.Itoa(i),
					OnError: func(err error) {
						if err != nil {
							incidents.Add(1)
						}
					}}))
			}
			defer func() {
				for _, s := range syncers {
					_ = s.Close()
				}
			}()
			var granted, calls int64
			iter := 0
			for b.Loop() {
				iter++
				id := "shared-" + strconv.Itoa(iter)
				var before int64
				for _, st := range stores {
					before += st.calls.Load()
				}
				var ok atomic.Int64
				var wg sync.WaitGroup
				for _, s := range syncers {
					wg.Go(func() {
						for range offered / replicas {
							res, err := s.Reserve(ctx, id, 100, sharedstate.Limits{RPM: limit})
							var le *sharedstate.LimitError
							switch {
							case err == nil:
								ok.Add(1)
								res.Done(-1)
							case errors.As(err, &le):
							default:
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				var after int64
				for _, st := range stores {
					after += st.calls.Load()
				}
				granted, calls = ok.Load(), after-before
				// While a replica cannot reach Redis it serves from local
				// state (by design), so the limit holds only without
				// incidents.
				if granted > limit && incidents.Load() == 0 {
					b.Fatalf("%d requests admitted against a shared limit of %d", granted, limit)
				}
			}
			b.ReportMetric(pct(int(granted), limit), "granted_%")
			b.ReportMetric(float64(calls)/offered, "rt/req")
			b.ReportMetric(float64(incidents.Load()), "incidents")
		})
	}
}

// benchReserve times Reserve+Done on s; store counts round trips (nil for
// none).
func benchReserve(b *testing.B, s *sharedstate.Syncer, store *countingStore) {
	b.Helper()
	defer s.Close()
	ctx := context.Background()
	lim := sharedstate.Limits{RPM: 1 << 40, TPM: 1 << 50}
	lat := make([]time.Duration, 0, 4096)
	var before int64
	if store != nil {
		before = store.calls.Load()
	}
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		res, err := s.Reserve(ctx, "dep", 500, lim)
		if err != nil {
			b.Fatal(err)
		}
		res.Done(480)
		lat = append(lat, time.Since(start))
	}
	if store != nil {
		b.ReportMetric(float64(store.calls.Load()-before)/float64(b.N), "rt/req")
	}
	b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds())/1e3, "p50_us")
	b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds())/1e3, "p99_us")
}
