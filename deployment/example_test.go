package deployment_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// A router wraps every upstream call in Begin and End. The outcome's
// headers and error decide what the deployment does next.
func ExampleDeployment_Begin() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	d, err := deployment.New(deployment.Config{
		ModelName: "gpt-4o",
		Model:     "openai/gpt-4o",
		APIKey:    "sk-proj-0123456789abcdef",
	}, nil, deployment.Settings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Config())

	// A success whose headers say 20 of 100 requests are left.
	a, _ := d.Begin(now, 500)
	a.End(now.Add(time.Second), deployment.Outcome{
		Latency: time.Second,
		Header: http.Header{
			"X-Ratelimit-Limit-Requests":     {"100"},
			"X-Ratelimit-Remaining-Requests": {"20"},
			"X-Ratelimit-Reset-Requests":     {"48s"},
		},
	})
	now = now.Add(time.Second)
	fmt.Printf("latency %v, headroom %.2f\n", d.Latency(), d.Headroom(now))

	// A 429 with a retry hint: out until then, back after.
	a, _ = d.Begin(now, 500)
	a.End(now, deployment.Outcome{Err: &provider.Error{Class: provider.ClassRateLimited, StatusCode: 429, RetryAfter: 20 * time.Second}})
	fmt.Println(d.Available(now, 500), d.Available(now.Add(20*time.Second), 500))
	// Output:
	// deployment{id="gpt-4o-58d81421d37b" model_name="gpt-4o" model="openai/gpt-4o" api_key="sk-...cdef"}
	// latency 1s, headroom 0.20
	// cooldown ok
}
