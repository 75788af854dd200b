package handler_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
)

// Serve a router over HTTP as an OpenAI-compatible API, with a key and
// Prometheus metrics, in front of a fake upstream.
func Example() {
	upstream := openaitest.NewServer()
	defer upstream.Close()

	metrics := handler.NewMetrics(prometheus.NewRegistry())
	rt, err := router.New(router.Config{
		Deployments: []deployment.Config{
			{ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-upstream", BaseURL: upstream.URL},
		},
	}, router.WithHooks(metrics.Hooks()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close()

	gateway := httptest.NewServer(handler.New(rt, handler.WithKeys("sk-gateway"), handler.WithMetrics(metrics)))
	defer gateway.Close()

	for _, key := range []string{"sk-gateway", "sk-wrong"} {
		req, _ := http.NewRequest("POST", gateway.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("X-Switchyard-Model-Group"), strings.Contains(string(body), "echo: hello"))
	}
	// Output:
	// 200 gpt-4o true
	// 401  false
}
