package litellmconfig_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/switchyard-go/switchyard/provider/openaitest"
	"github.com/switchyard-go/switchyard/router/handler"
	"github.com/switchyard-go/switchyard/router/litellmconfig"
)

func ExampleParse() {
	cfg, err := litellmconfig.Parse([]byte(`
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eastus
      api_base: https://eastus.openai.azure.com
      api_key: os.environ/AZURE_KEY
      api_version: "2024-10-21"
      rpm: 600
router_settings:
  routing_strategy: usage-based-routing-v2
  num_retries: 2
  allowed_fails_policy: {RateLimitErrorAllowedFails: 10}
`), litellmconfig.WithLookupEnv(func(name string) (string, bool) { return "secret-" + name, true }))
	if err != nil {
		fmt.Println(err)
		return
	}
	d := cfg.Router.Deployments[0]
	fmt.Println(d.ModelName, d.Model, d.RPM, d.APIKey == "secret-AZURE_KEY")
	fmt.Println(cfg.Router.Settings.RoutingStrategy, *cfg.Router.Settings.NumRetries)
	for _, w := range cfg.Warnings {
		fmt.Println("warning:", w)
	}

	_, err = litellmconfig.Parse([]byte("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n      tpm: many\n"),
		litellmconfig.WithFileName("config.yaml"))
	fmt.Println(err)
	// Output:
	// gpt-4o azure/gpt-4o-eastus 600 true
	// usage-based-routing-v2 2
	// warning: line 13: router_settings.allowed_fails_policy: not supported, ignored
	// litellmconfig: config.yaml line 5: model_list[0].litellm_params.tpm: expected an integer, got "many"
}

// A gateway from a LiteLLM config: NewRouter makes the router the file
// describes (with its Redis and response cache, when it has them), and
// HandlerOptions the handler's settings (the master key, the aliases
// listed, tag routing, forwarded headers). Load reads a file the same way.
func ExampleConfig_NewRouter() {
	upstream := openaitest.NewServer() // a fake OpenAI
	defer upstream.Close()

	cfg, err := litellmconfig.Parse([]byte(`
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: os.environ/OPENAI_BASE_URL
      api_key: sk-upstream
router_settings:
  model_group_alias: {gpt-4: gpt-4o}
general_settings:
  master_key: sk-gateway
`), litellmconfig.WithLookupEnv(func(name string) (string, bool) {
		return upstream.URL, name == "OPENAI_BASE_URL"
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	rt, closeRouter, err := cfg.NewRouter()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeRouter() // closes the router and the connections NewRouter opened
	srv := httptest.NewServer(handler.New(rt, cfg.HandlerOptions()...))
	defer srv.Close()

	for _, key := range []string{"sk-gateway", "sk-wrong"} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var answer struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		fmt.Print(resp.StatusCode)
		for _, c := range answer.Choices {
			fmt.Print(" ", c.Message.Content)
		}
		fmt.Println()
	}
	// Output:
	// 200 echo: hello
	// 401
}
