package router_test

import (
	"context"
	"fmt"
	"log"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
)

// exampleClient is an in-memory provider.Client standing in for a real
// upstream, so that the example runs offline.
type exampleClient struct {
	name        string
	rateLimited bool
}

func (c exampleClient) Do(ctx context.Context, req *provider.Request) (*provider.Response, error) {
	if c.rateLimited {
		return nil, &provider.Error{Class: provider.ClassRateLimited, StatusCode: 429, Message: "rate limit reached"}
	}
	body := `{"choices":[{"message":{"role":"assistant","content":"hello from ` + c.name + `"},"finish_reason":"stop"}]}`
	return &provider.Response{StatusCode: 200, Body: []byte(body)}, nil
}

func (c exampleClient) Stream(ctx context.Context, req *provider.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.ClassBadRequest, Message: "streams not supported here"}
}

// Two API keys serve the model group "gpt-4o", reached through the alias
// "smart". The preferred key (lowest Order) is rate limited, so the router
// retries at once on the other one and says so in the result.
func Example() {
	r, err := router.New(router.Config{
		Deployments: []deployment.Config{
			{ID: "key-1", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-one"},
			{ID: "key-2", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-two", Order: 1},
		},
		Aliases: map[string]string{"smart": "gpt-4o"},
	}, router.WithClientFactory(func(cfg deployment.Config) (provider.Client, error) {
		// Without this option the router builds provider/openai clients.
		return exampleClient{name: cfg.ID, rateLimited: cfg.ID == "key-1"}, nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Do(context.Background(), &provider.Request{
		Endpoint: provider.EndpointChat,
		Model:    "smart",
		Body:     []byte(`{"messages":[{"role":"user","content":"hi"}]}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range res.Attempts {
		if a.Err != nil {
			fmt.Println("attempt:", a.ModelGroup, a.Deployment, a.Class, a.StatusCode)
		} else {
			fmt.Println("attempt:", a.ModelGroup, a.Deployment, "ok")
		}
	}
	fmt.Println("served by:", res.Header.Get(router.HeaderDeployment), "retries:", res.Header.Get(router.HeaderAttemptedRetries))
	fmt.Println(string(res.Body))
	// Output:
	// attempt: gpt-4o key-1 rate_limited 429
	// attempt: gpt-4o key-2 ok
	// served by: key-2 retries: 1
	// {"choices":[{"message":{"role":"assistant","content":"hello from key-2"},"finish_reason":"stop"}]}
}
