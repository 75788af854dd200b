package litellmconfig_test

import (
	"fmt"

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
