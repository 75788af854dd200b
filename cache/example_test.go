package cache_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/cache"
	"github.com/switchyard-go/switchyard/provider"
)

// A Syncer over the default MemoryStore: what a router does around each
// upstream call. With Redis, pass cache.NewRedis(cache.RedisConfig{URL: ...})
// instead of nil and every replica shares the limits.
func ExampleSyncer() {
	s := cache.NewSyncer(nil, cache.WithMode(cache.SyncEveryRequest))
	defer s.Close()
	ctx := context.Background()
	lim := cache.Limits{RPM: 2}

	for i := range 3 {
		r, err := s.Reserve(ctx, "gpt-4o-0", 120, lim)
		if err != nil {
			fmt.Println(i, err)
			continue
		}
		// ... send the request upstream, then report the real usage:
		r.Done(100)
		fmt.Println(i, "sent")
	}
	s.SetCooldown("gpt-4o-0", time.Now().Add(time.Minute), "rate_limited")
	c, active := s.Cooldown("gpt-4o-0")
	fmt.Println(c.Reason, active)
	// Output:
	// 0 sent
	// 1 sent
	// 2 cache: deployment "gpt-4o-0" at its rpm limit (2/2 requests)
	// rate_limited true
}

// The response cache around a non-streaming call, and a streaming request
// answered from it.
func ExamplePrepare() {
	ctx := context.Background()
	rc := cache.NewMemoryResponseCache()
	body := []byte(`{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "cache": {"ttl": 60}}`)

	p, err := cache.Prepare("gpt-4o", "chat", body)
	if err != nil {
		fmt.Println(err) // the caller's body is not a JSON object: send it uncached
		return
	}
	fmt.Printf("upstream body: %s\n", p.Body)
	if _, hit, _ := rc.Get(ctx, p.Key); !hit && !p.Control.NoStore {
		resp := &provider.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}`)}
		_ = rc.Set(ctx, p.Key, cache.NewEntry(resp, time.Now()), p.Control.TTL)
	}

	// The same question, streamed: same key (stream is not part of it).
	p2, _ := cache.Prepare("gpt-4o", "chat", []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	e, hit, _ := rc.Get(ctx, p2.Key)
	fmt.Println("hit:", hit)
	s, _ := cache.Replay(e, cache.ReplayOptions{})
	for s.Next() {
		fmt.Printf("data: %s\n", s.Event().Data)
	}
	// Output:
	// upstream body: {"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}
	// hit: true
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello!"},"logprobs":null,"finish_reason":null}]}
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
}
