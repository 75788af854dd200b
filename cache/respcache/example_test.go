package respcache_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
)

// A memory response cache used by a router: the second identical question
// is answered from the cache, without an upstream call. With Redis, pass
// respcache.NewRedis(client, respcache.Config{}) instead and every replica
// shares the answers.
func ExampleNewMemory() {
	upstream := openaitest.NewServer()
	defer upstream.Close()
	r, err := router.New(router.Config{Deployments: []deployment.Config{{
		ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-1", BaseURL: upstream.URL,
	}}}, router.WithResponseCache(respcache.NewMemory(respcache.Config{MaxEntries: 10_000}), respcache.Policy{TTL: time.Hour}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	req := &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o-mini",
		Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)}
	for range 2 {
		res, err := r.Do(context.Background(), req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("cache hit:", res.CacheHit)
	}
	fmt.Println("upstream requests:", upstream.Stats().Requests)
	// Output:
	// cache hit: false
	// cache hit: true
	// upstream requests: 1
}

// The response cache by hand, around a non-streaming call, and a streaming
// request answered from it.
func ExamplePrepare() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rc := respcache.NewMemory(respcache.Config{})
	body := []byte(`{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "cache": {"ttl": 60}}`)

	p, err := respcache.Prepare("gpt-4o", "chat", body)
	if err != nil {
		fmt.Println(err) // a malformed "cache" object, or not a JSON object: send it uncached
		return
	}
	fmt.Printf("upstream body: %s\n", p.Body)
	if _, hit, _ := rc.Get(ctx, p.Key, now); !hit && !p.Control.NoStore {
		resp := &provider.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}`)}
		_ = rc.Set(ctx, p.Key, respcache.NewEntry(resp, now), p.Control.TTL)
	}

	// The same question, streamed: same key (stream is not part of it).
	p2, _ := respcache.Prepare("gpt-4o", "chat", []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	e, hit, _ := rc.Get(ctx, p2.Key, now.Add(time.Second))
	fmt.Println("hit:", hit)
	s, _ := respcache.Replay(e, respcache.ReplayOptions{})
	for s.Next() {
		fmt.Printf("data: %s\n", s.Event().Data)
	}
	// A minute later the entry has expired ("ttl": 60).
	_, hit, _ = rc.Get(ctx, p2.Key, now.Add(time.Minute))
	fmt.Println("hit after a minute:", hit)
	// Output:
	// upstream body: {"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}
	// hit: true
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello!"},"logprobs":null,"finish_reason":null}]}
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
	// hit after a minute: false
}
