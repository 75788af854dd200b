package router_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/typed"
)

// Two replicas share one API key limited to 2 requests per minute. In
// production each replica passes its own
// sharedstate.NewRedisStore(sharedstate.RedisConfig{URL: ...}) pointed at
// the same Redis; here both share one in-process memory store.
func ExampleWithSharedState() {
	upstream := openaitest.NewServer()
	defer upstream.Close()
	store := sharedstate.NewMemoryStore()
	cfg := router.Config{Deployments: []deployment.Config{{
		ID: "key-1", ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini",
		APIKey: "sk-1", BaseURL: upstream.URL, RPM: 2,
	}}}
	var replicas []*router.Router
	for range 2 {
		r, err := router.New(cfg, router.WithSharedState(store, sharedstate.Config{}), router.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer r.Close()
		replicas = append(replicas, r)
	}
	req := &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o-mini",
		Body: []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)}
	for i, r := range []*router.Router{replicas[0], replicas[1], replicas[0]} {
		if _, err := r.Do(context.Background(), req, router.WithNumRetries(0)); err != nil {
			fmt.Printf("call %d: %v\n", i, err)
			continue
		}
		fmt.Printf("call %d: sent\n", i)
	}
	fmt.Println("upstream requests:", upstream.Stats().Requests)
	// Output:
	// call 0: sent
	// call 1: sent
	// call 2: router: model "gpt-4o-mini": model group "gpt-4o-mini": no deployment available: 1 deployment: 1 rpm_limit
	// upstream requests: 2
}

// The second identical question is answered from the cache, and a
// streaming one is replayed from it.
func ExampleWithResponseCache() {
	upstream := openaitest.NewServer()
	defer upstream.Close()
	r, err := router.New(router.Config{Deployments: []deployment.Config{{
		ModelName: "gpt-4o-mini", Model: "openai/gpt-4o-mini", APIKey: "sk-1", BaseURL: upstream.URL,
	}}}, router.WithResponseCache(respcache.NewMemory(respcache.Config{}), respcache.Policy{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	ask := openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	for range 2 {
		resp, res, err := typed.Chat(ctx, r, ask)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q cache hit: %v (%s)\n", resp.Choices[0].Message.Content, res.CacheHit, res.Header.Get(router.HeaderCacheHit))
	}
	s, err := typed.ChatStream(ctx, r, ask)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for s.Next() {
		if t := s.Text(); t != "" {
			fmt.Printf("streamed %q, cache hit: %v\n", t, s.CacheHit)
		}
	}
	fmt.Println("upstream requests:", upstream.Stats().Requests)
	// Output:
	// "echo: hi" cache hit: false ()
	// "echo: hi" cache hit: true (true)
	// streamed "echo: hi", cache hit: true
	// upstream requests: 1
}
