package litellmconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/strategy"
)

// markedLine returns the line of yaml marked "# <-".
func markedLine(t *testing.T, yaml string) int {
	t.Helper()
	for i, l := range strings.Split(yaml, "\n") {
		if strings.Contains(l, "# <-") {
			return i + 1
		}
	}
	t.Fatalf("no line marked # <- in\n%s", yaml)
	return 0
}

// twoGroups is a model_list with groups a and b (lines 1 to 5), for
// settings that refer to them.
const twoGroups = `model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: b
    litellm_params: {model: openai/b}
`

// TestRouterRefusalsNameTheLine: every kind of router.ConfigError a file
// can cause is reported by Load with the file, the line and the LiteLLM
// setting, and with the router's error as the cause.
func TestRouterRefusalsNameTheLine(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		field   string // router.ConfigError.Field
		setting string
		inMsg   string
	}{
		{"rpm", `model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: a
    litellm_params:
      model: openai/a
      api_key: k2
      rpm: -5  # <-
`, "Deployments[1].RPM", "model_list[1].litellm_params.rpm", "must not be negative, got -5"},
		{"tpm", `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      tpm: -1  # <-
`, "Deployments[0].TPM", "model_list[0].litellm_params.tpm", "must not be negative"},
		{"weight", `model_list:
  - model_name: a
    litellm_params: {model: openai/a, weight: -2}  # <-
`, "Deployments[0].Weight", "model_list[0].litellm_params.weight", "must be a finite number >= 0"},
		{"max_parallel_requests", `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      max_parallel_requests: -3  # <-
`, "Deployments[0].MaxParallelRequests", "model_list[0].litellm_params.max_parallel_requests", "must not be negative"},
		{"price in litellm_params", `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      input_cost_per_token: -0.1  # <-
    model_info:
      input_cost_per_token: 0.2
`, "Deployments[0].Info.InputCostPerToken", "model_list[0].litellm_params.input_cost_per_token", "must be a number >= 0"},
		{"price in model_info", `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
    model_info:
      output_cost_per_token: -1  # <-
`, "Deployments[0].Info.OutputCostPerToken", "model_list[0].model_info.output_cost_per_token", "must be a number >= 0"},
		{"max_input_tokens", `model_list:
  - model_name: a
    litellm_params: {model: openai/a}
    model_info:
      max_input_tokens: -1  # <-
`, "Deployments[0].Info.MaxInputTokens", "model_list[0].model_info.max_input_tokens", "must not be negative"},
		{"max_tokens", `model_list:
  - model_name: a
    litellm_params: {model: openai/a}
    model_info: {max_tokens: -1}  # <-
`, "Deployments[0].Info.MaxOutputTokens", "model_list[0].model_info.max_tokens", "must not be negative"},
		{"merged from an anchor", `base: &base
  model: openai/a
  rpm: -1  # <-
model_list:
  - model_name: a
    litellm_params:
      <<: *base
`, "Deployments[0].RPM", "model_list[0].litellm_params.rpm", "must not be negative"},

		{"alias is a group", twoGroups + `router_settings:
  model_group_alias:
    b: a  # <-
`, "Aliases[b]", "router_settings.model_group_alias.b", `alias "b" is also a model group name`},
		{"alias to nothing", twoGroups + `router_settings:
  model_group_alias:
    gpt-4: {model: nope}  # <-
`, "Aliases[gpt-4]", "router_settings.model_group_alias.gpt-4", `unknown model group "nope"`},
		{"alias cycle", twoGroups + `router_settings:
  model_group_alias:
    x: y  # <-
    y: x
`, "Aliases[x]", "router_settings.model_group_alias.x", "alias cycle x -> y -> x"},

		{"fallback group", twoGroups + `router_settings:
  fallbacks:
    - a: [b]
    - nope: [a]  # <-
`, "Settings.Fallbacks[nope]", "router_settings.fallbacks[1].nope", `unknown model group "nope"`},
		{"fallback target in a merged list", twoGroups + `router_settings:
  fallbacks:
    - a: [b]
    - a: [nope]  # <-
`, "Settings.Fallbacks[a][1]", "router_settings.fallbacks[1].a[0]", `unknown model group "nope"`},
		{"fallback mapping form", twoGroups + `router_settings:
  fallbacks:
    a:
      - b
      - gpt-3.5-turbo  # <-
`, "Settings.Fallbacks[a][1]", "router_settings.fallbacks.a[1]", `unknown model group "gpt-3.5-turbo"`},
		{"context window fallback", twoGroups + `router_settings:
  context_window_fallbacks: [{a: nope}]  # <-
`, "Settings.ContextWindowFallbacks[a][0]", "router_settings.context_window_fallbacks[0].a", `unknown model group "nope"`},
		{"content policy fallback", twoGroups + `router_settings:
  content_policy_fallbacks:
    - b: [a, nope]  # <-
`, "Settings.ContentPolicyFallbacks[b][1]", "router_settings.content_policy_fallbacks[0].b[1]", `unknown model group "nope"`},
		{"default fallbacks", twoGroups + `router_settings:
  default_fallbacks:
    - a
    - nope  # <-
`, "Settings.DefaultFallbacks[1]", "router_settings.default_fallbacks[1]", `unknown model group "nope"`},
		{"default fallback alone", twoGroups + `litellm_settings:
  default_fallbacks: nope  # <-
`, "Settings.DefaultFallbacks[0]", "litellm_settings.default_fallbacks", `unknown model group "nope"`},
		{"litellm_settings fallbacks", twoGroups + `litellm_settings:
  fallbacks: [{a: [nope]}]  # <-
`, "Settings.Fallbacks[a][0]", "litellm_settings.fallbacks[0].a[0]", `unknown model group "nope"`},
		{"router_settings fallbacks override litellm_settings'", twoGroups + `litellm_settings:
  fallbacks: [{b: [a]}, {a: [b]}]
router_settings:
  fallbacks: [{a: [nope]}]  # <-
`, "Settings.Fallbacks[a][0]", "router_settings.fallbacks[0].a[0]", `unknown model group "nope"`},

		{"allowed_fails", twoGroups + `router_settings:
  allowed_fails: -1  # <-
`, "Settings.Deployment.AllowedFails", "router_settings.allowed_fails", "must not be negative, got -1"},
		{"allowed_fails in litellm_settings", twoGroups + `litellm_settings:
  allowed_fails: -2  # <-
`, "Settings.Deployment.AllowedFails", "litellm_settings.allowed_fails", "must not be negative, got -2"},
		{"max_fallbacks", twoGroups + `router_settings:
  max_fallbacks: -1  # <-
`, "Settings.MaxFallbacks", "router_settings.max_fallbacks", "must not be negative"},

		{"unknown strategy", twoGroups + `router_settings:
  routing_strategy: fastest-first  # <-
`, "Settings.RoutingStrategy", "router_settings.routing_strategy",
			`unknown strategy "fastest-first" (valid: ` + strings.Join(strategy.Names(), ", ") + ")"},
		{"strategy argument", twoGroups + `router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args:
    ttl: 60
    lowest_latency_buffer: -1  # <-
`, "Settings.RoutingStrategy", "router_settings.routing_strategy_args.lowest_latency_buffer",
			"-1: must be >= 0 (an argument of latency-based-routing)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), WithFileName("config.yaml"), env())
			checkRefusal(t, err, markedLine(t, tt.yaml), tt.setting, tt.inMsg, tt.field)
		})
	}
}

// checkRefusal checks that err is an *Error at line and setting, whose
// message holds inMsg and whose cause is a *router.ConfigError about
// field.
func checkRefusal(t *testing.T, err error, line int, setting, inMsg, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	if e.File != "config.yaml" || e.Line != line || e.Setting != setting || !strings.Contains(e.Msg, inMsg) {
		t.Errorf("got %s line %d setting %q msg %q\nwant config.yaml line %d setting %q msg containing %q",
			e.File, e.Line, e.Setting, e.Msg, line, setting, inMsg)
	}
	want := fmt.Sprintf("litellmconfig: config.yaml line %d: %s: ", line, setting)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q does not start with %q", err, want)
	}
	var ce *router.ConfigError
	if !errors.As(err, &ce) || ce.Field != field {
		t.Errorf("cause %v, want a *router.ConfigError about %s", e.Err, field)
	}
}

// TestNewRouterRefusalsNameTheLine: what only NewRouter can check (the
// clients, the caller's options) is reported as Load's errors are.
func TestNewRouterRefusalsNameTheLine(t *testing.T) {
	refuse := router.WithClientFactory(func(c deployment.Config) (provider.Client, error) {
		if c.Organization == "blocked" {
			return nil, errors.New("organization blocked")
		}
		return nopClient{}, nil
	})
	tests := []struct {
		name    string
		yaml    string
		opts    []router.Option
		field   string
		setting string
		inMsg   string
	}{
		{"azure without api_version", `model_list:
  - model_name: a
    litellm_params: {model: openai/a, api_base: "http://127.0.0.1:1/v1"}
  - model_name: b  # <-
    litellm_params:
      model: azure/b
      api_base: https://x.openai.azure.com
`, nil, "Deployments[1]", "model_list[1].litellm_params.api_version", "is required for an azure/ model"},
		{"azure without api_base", `model_list:
  - model_name: b  # <-
    litellm_params: {model: azure/b, api_version: "2024-10-21"}
`, nil, "Deployments[0]", "model_list[0].litellm_params.api_base", "is required for an azure/ model"},
		{"api_base not http", `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      base_url: ftp://example.com/v1  # <-
`, nil, "Deployments[0]", "model_list[0].litellm_params.base_url", `"ftp://example.com/v1" must be an http or https URL`},
		{"the caller's client factory", `model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: a  # <-
    litellm_params: {model: openai/a, organization: blocked}
`, []router.Option{refuse}, "Deployments[1]", "model_list[1]", "organization blocked"},
		{"the caller's strategy", twoGroups + `router_settings:
  routing_strategy: least-busy  # <-
`, []router.Option{router.WithStrategy(namedStrategy{"mine"})}, "Settings.RoutingStrategy", "router_settings.routing_strategy",
			`"least-busy", but WithStrategy gave "mine"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), WithFileName("config.yaml"), env())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			rt, closeRouter, err := cfg.NewRouter(tt.opts...)
			if err == nil {
				_ = closeRouter()
				t.Fatalf("NewRouter made %v", rt)
			}
			checkRefusal(t, err, markedLine(t, tt.yaml), tt.setting, tt.inMsg, tt.field)
		})
	}
}

// namedStrategy is a strategy value given with router.WithStrategy.
type namedStrategy struct{ name string }

func (s namedStrategy) Name() string { return s.name }

func (namedStrategy) Pick([]*deployment.Deployment, *strategy.PickInfo) int { return 0 }

// TestLocate table-tests the mapping of router.ConfigError's fields to
// the file on one config: fields the file writes, fields it does not
// (located at their entry), and fields it cannot have caused.
func TestLocate(t *testing.T) {
	const yaml = `model_list:
  - model_name: a
    litellm_params:
      model: openai/a
      api_base: http://127.0.0.1:1/v1
      rpm: 10
  - model_name: b
    litellm_params:
      model: openai/b
    model_info:
      id: bee
      max_tokens: 100
      input_cost_per_token: 0.5
router_settings:
  num_retries: 1
  retry_policy: {RateLimitErrorRetries: 4}
  fallbacks: [{a: [b]}, {b: [a]}, {a: [b]}]
  model_group_alias: {gpt-4: a}
  routing_strategy: least-busy
litellm_settings:
  num_retries: 2
  request_timeout: 30
`
	cfg, err := Parse([]byte(yaml), env())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field, setting string
		line           int
		ok             bool
	}{
		{"Deployments", "model_list", 2, true},
		{"Deployments[0]", "model_list[0]", 2, true},
		{"Deployments[0].ModelName", "model_list[0].model_name", 2, true},
		{"Deployments[0].Model", "model_list[0].litellm_params.model", 4, true},
		{"Deployments[0].BaseURL", "model_list[0].litellm_params.api_base", 5, true},
		{"Deployments[0].RPM", "model_list[0].litellm_params.rpm", 6, true},
		{"Deployments[0].APIVersion", "model_list[0].litellm_params.api_version", 2, true}, // not written
		{"Deployments[0].ID", "model_list[0].model_info.id", 2, true},                      // not written
		{"Deployments[1].ID", "model_list[1].model_info.id", 11, true},
		{"Deployments[1].Info.MaxOutputTokens", "model_list[1].model_info.max_tokens", 12, true},
		{"Deployments[1].Info.InputCostPerToken", "model_list[1].model_info.input_cost_per_token", 13, true},
		{"Deployments[1].Project", "model_list[1]", 7, true}, // no LiteLLM setting
		{"Settings.NumRetries", "router_settings.num_retries", 15, true},
		{"Settings.Timeout", "litellm_settings.request_timeout", 22, true},
		{"Settings.RetryPolicy[rate_limited]", "router_settings.retry_policy.RateLimitErrorRetries", 16, true},
		{"Settings.Fallbacks[a]", "router_settings.fallbacks[0].a", 17, true},
		{"Settings.Fallbacks[a][1]", "router_settings.fallbacks[2].a[0]", 17, true},
		{"Settings.Fallbacks[b][0]", "router_settings.fallbacks[1].b[0]", 17, true},
		{"Aliases", "router_settings.model_group_alias", 18, true},
		{"Aliases[gpt-4]", "router_settings.model_group_alias.gpt-4", 18, true},
		{"Settings.RoutingStrategy", "router_settings.routing_strategy", 19, true},
		{"Deployments[2].RPM", "", 0, false},        // no such entry
		{"Settings.MaxRetryWait", "", 0, false},     // no LiteLLM setting
		{"Settings.Fallbacks[c][0]", "", 0, false},  // no such group
		{"Settings.DefaultFallbacks", "", 0, false}, // not written
	}
	for _, tt := range tests {
		setting, line, ok := cfg.locate(tt.field)
		if setting != tt.setting || line != tt.line || ok != tt.ok {
			t.Errorf("locate(%q) = %q, %d, %v; want %q, %d, %v", tt.field, setting, line, ok, tt.setting, tt.line, tt.ok)
		}
	}

	// A field the file cannot have caused keeps the router's words.
	ce := &router.ConfigError{Field: "Settings.MaxRetryWait", Msg: "must not be negative"}
	err = cfg.refused(ce)
	var e *Error
	if !errors.As(err, &e) || e.Line != 0 || e.Setting != "" || e.Msg != ce.Error() || !errors.Is(err, ce) {
		t.Errorf("refused(%v) = %#v", ce, err)
	}
}

// TestEntryFieldsAreRecorded: every row of the mapping table is what the
// parser records when the file writes that setting.
func TestEntryFieldsAreRecorded(t *testing.T) {
	for _, f := range entryFields {
		section, key, nested := strings.Cut(f.setting, ".")
		var entry string
		switch {
		case !nested:
			entry = "    litellm_params: {model: openai/a}\n"
		case f.setting == "litellm_params.model":
			entry = "    litellm_params:\n      model: openai/a\n"
		case section == "litellm_params":
			entry = "    litellm_params:\n      model: openai/a\n      " + key + ": " + sample(key) + "\n"
		default:
			entry = "    litellm_params: {model: openai/a}\n    " + section + ":\n      " + key + ": " + sample(key) + "\n"
		}
		yaml := "model_list:\n  - model_name: a\n" + entry
		cfg, err := Parse([]byte(yaml), env())
		if err != nil {
			t.Errorf("%s: %v", f.setting, err)
			continue
		}
		setting, line, _ := cfg.locate("Deployments[0]." + f.field)
		wantLine := strings.Count(yaml, "\n")
		if !nested {
			wantLine = 2
		}
		if setting != "model_list[0]."+f.setting || line != wantLine {
			t.Errorf("%s: located %q line %d, want line %d", f.setting, setting, line, wantLine)
		}
	}
}

// sample is a valid value for an entry setting.
func sample(key string) string {
	switch key {
	case "model", "api_key", "api_base", "base_url", "api_version", "organization", "id":
		return "http://127.0.0.1:1/v1"
	case "extra_headers", "headers":
		return "{X-A: b}"
	case "tags":
		return "[t]"
	}
	return "1"
}
