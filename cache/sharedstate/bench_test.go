package sharedstate

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSyncerReserve measures what Reserve adds to a request against
// the real Redis at REDIS_URL (skipped without one): ns/op is the latency
// of one reservation, rtt/op the Redis round trips per reservation
// (background pushes included), counted by a go-redis hook. The clock
// advances 1 ms per reservation (1,000 requests/s to one deployment
// limited to 1,000,000 rpm).
func BenchmarkSyncerReserve(b *testing.B) {
	for _, mode := range []SyncMode{SyncEveryRequest, SyncBatched} {
		b.Run(mode.String(), func(b *testing.B) {
			store := newReal(b)
			cnt := &cmdCounter{}
			store.Client().AddHook(cnt)
			benchReserve(b, store, mode, cnt)
		})
	}
	b.Run("memory", func(b *testing.B) {
		benchReserve(b, NewMemoryStore(), SyncEveryRequest, &cmdCounter{})
	})
	// The cost of one bare round trip, to compare with.
	b.Run("redis-ping", func(b *testing.B) {
		store := newReal(b)
		for b.Loop() {
			if err := store.Client().Ping(context.Background()).Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "rtt/op")
	})
}

func benchReserve(b *testing.B, store Store, mode SyncMode, cnt *cmdCounter) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	s := NewSyncer(store, Config{Mode: mode, Now: clock.Now, Logger: quiet, Timeout: time.Second})
	defer s.Close()
	lim := Limits{RPM: 1_000_000, TPM: 1_000_000_000}
	b.ReportAllocs()
	rtt0 := cnt.rtt.Load()
	for b.Loop() {
		clock.Add(time.Millisecond)
		r, err := s.Reserve(ctx, "bench-dep", 100, lim)
		if err != nil {
			b.Fatal(err)
		}
		r.Done(90)
	}
	b.ReportMetric(float64(cnt.rtt.Load()-rtt0)/float64(b.N), "rtt/op")
	if err := s.Err(); err != nil {
		b.Fatalf("store unhealthy: %v", err)
	}
}

// BenchmarkSyncerReserveParallel is BenchmarkSyncerReserve from many
// goroutines (throughput, contention on one deployment).
func BenchmarkSyncerReserveParallel(b *testing.B) {
	for _, mode := range []SyncMode{SyncEveryRequest, SyncBatched} {
		b.Run(mode.String(), func(b *testing.B) {
			store := newReal(b)
			cnt := &cmdCounter{}
			store.Client().AddHook(cnt)
			clock := newFakeClock(t0)
			s := NewSyncer(store, Config{Mode: mode, Now: clock.Now, Logger: quiet, Timeout: time.Second})
			defer s.Close()
			lim := Limits{RPM: 1_000_000_000}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					clock.Add(time.Microsecond)
					r, err := s.Reserve(context.Background(), "bench-dep", 100, lim)
					if err != nil {
						b.Error(err)
						return
					}
					r.Done(-1)
				}
			})
			b.ReportMetric(float64(cnt.rtt.Load())/float64(b.N), "rtt/op")
		})
	}
}

// BenchmarkRedisSync measures one background push of 100 deployments (one
// pipelined round trip).
func BenchmarkRedisSync(b *testing.B) {
	store := newReal(b)
	ctx := context.Background()
	ops := make([]SyncOp, 100)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		for i := range ops {
			ops[i] = SyncOp{ID: fmt.Sprint("dep-", i), Incr: Usage{Requests: 3, Tokens: 300}, Replica: "r", InFlight: 2}
		}
		if err := store.Sync(ctx, Window{At: now}, ops); err != nil {
			b.Fatal(err)
		}
	}
}
