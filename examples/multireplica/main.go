// Command multireplica runs several Switchyard routers in one process as
// the replicas of one service would run, each with its own Redis client,
// and shows that together they keep one upstream key's rate limit.
//
// It starts a fake OpenAI upstream (package provider/openaitest, no API key
// needed) with one key limited to -rpm requests per minute, and -replicas
// routers that all have that key as their deployment, with the same rpm
// limit, sharing state through Redis (router.WithSharedState). Workers on
// every replica send chat completions as fast as they can until their
// router refuses: the key is full across the fleet. The table shows what
// each replica sent; the total stays at the limit, and the upstream never
// answers 429.
//
// When no Redis answers at -redis (default $REDIS_URL, else
// redis://127.0.0.1:6379/0) the replicas share one in-process memory
// store (sharedstate.NewMemoryStore) instead, which gives the same result
// inside one process (and says so).
//
//	go run ./examples/multireplica
//	go run ./examples/multireplica -replicas 8 -rpm 1000 -mode every-request
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

func main() {
	log.SetFlags(0)
	defURL := os.Getenv("REDIS_URL")
	if defURL == "" {
		defURL = "redis://127.0.0.1:6379/0"
	}
	redisURL := flag.String("redis", defURL, "Redis URL shared by the replicas")
	replicas := flag.Int("replicas", 4, "routers (replicas) in the fleet")
	rpm := flag.Int("rpm", 300, "the upstream key's requests per minute, N")
	workers := flag.Int("workers", 6, "concurrent callers per replica")
	modeName := flag.String("mode", "batched", `sync mode: "batched" or "every-request"`)
	flag.Parse()
	if *replicas < 1 || *rpm < 1 || *workers < 1 {
		log.Fatal("multireplica: -replicas, -rpm and -workers must be positive")
	}
	mode := sharedstate.SyncBatched
	switch *modeName {
	case "batched":
	case "every-request":
		mode = sharedstate.SyncEveryRequest
	default:
		log.Fatalf("multireplica: unknown -mode %q", *modeName)
	}
	// go-redis logs every failed dial; the probe below says it once.
	redis.SetLogger(quietRedis{})

	upstream := openaitest.NewServer(openaitest.WithKey("sk-shared", openaitest.KeyConfig{RPM: *rpm}))
	defer upstream.Close()

	stores, closeStores, describe := openStores(*redisURL, *replicas)
	fmt.Println(describe)
	fmt.Printf("%d replicas, %d workers each, %s mode, one upstream key limited to N=%d rpm\n\n", *replicas, *workers, mode, *rpm)

	routers := make([]*router.Router, *replicas)
	for i := range routers {
		r, err := router.New(router.Config{Deployments: []deployment.Config{{
			ID: "shared-key", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini",
			APIKey: "sk-shared", BaseURL: upstream.URL, RPM: *rpm,
		}}},
			router.WithLogger(slog.New(slog.DiscardHandler)),
			router.WithSharedState(stores[i], sharedstate.Config{Mode: mode, ReplicaID: fmt.Sprint("replica-", i)}))
		if err != nil {
			log.Fatalf("multireplica: %v", err)
		}
		routers[i] = r
	}

	sent := make([]atomic.Int64, *replicas)
	var failed atomic.Int64
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o-mini",
		Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":8}`)}
	var wg sync.WaitGroup
	for i, r := range routers {
		for range *workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					_, err := r.Do(ctx, req, router.WithNumRetries(0))
					if errors.Is(err, router.ErrNoDeployment) {
						return // the key is full across the fleet
					}
					if err != nil {
						failed.Add(1)
						return
					}
					sent[i].Add(1)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "replica\tsent\t")
	var total int64
	for i := range sent {
		fmt.Fprintf(tw, "%d\t%d\t\n", i, sent[i].Load())
		total += sent[i].Load()
	}
	fmt.Fprintf(tw, "total\t%d\t\n", total)
	_ = tw.Flush()
	st := upstream.Stats()
	fmt.Printf("\nN = %d: the fleet sent %d (%.1f%% of N) in %v; the upstream saw %d requests and answered %d with 429; %d calls failed otherwise\n",
		*rpm, total, 100*float64(total)/float64(*rpm), elapsed.Round(time.Millisecond), st.Requests, st.RateLimited, failed.Load())
	for i, r := range routers {
		if err := r.SharedState().Err(); err != nil {
			fmt.Printf("replica %d: shared state unavailable: %v\n", i, err)
		}
		_ = r.Close()
	}
	closeStores()
}

// openStores returns one store per replica: a Redis client each when Redis
// answers at url, else one in-process memory store shared by all; and a
// function that closes the Redis stores.
func openStores(url string, n int) ([]sharedstate.Store, func(), string) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg := sharedstate.RedisConfig{URL: url, Prefix: "switchyard-example:" + hex.EncodeToString(b[:]) + ":"}
	var redisStores []*sharedstate.RedisStore
	closeAll := func() {
		for _, s := range redisStores {
			_ = s.Close()
		}
	}
	stores := make([]sharedstate.Store, 0, n)
	for range n {
		s, err := sharedstate.NewRedisStore(cfg)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = s.Client().Ping(ctx).Err()
			cancel()
			if err != nil {
				_ = s.Close()
			}
		}
		if err != nil {
			closeAll()
			mem := sharedstate.NewMemoryStore()
			stores = stores[:0]
			for range n {
				stores = append(stores, mem)
			}
			return stores, func() {}, fmt.Sprintf("No Redis answered at %s (%v).\nFalling back to one in-process memory store shared by the replicas: same result, one process only.", cfg, err)
		}
		redisStores = append(redisStores, s)
		stores = append(stores, s)
	}
	return stores, closeAll, fmt.Sprintf("Shared state: %s, one client per replica.", cfg)
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
