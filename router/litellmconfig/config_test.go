package litellmconfig

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/strategy"
)

// env is a fake environment.
func env(kv ...string) Option {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return WithLookupEnv(func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	})
}

func load(t *testing.T, file string, opts ...Option) *Config {
	t.Helper()
	cfg, err := Load("testdata/"+file, opts...)
	if err != nil {
		t.Fatalf("Load %s: %v", file, err)
	}
	// The router must accept what was read.
	r, err := router.New(cfg.Router, router.WithClientFactory(nopFactory))
	if err != nil {
		t.Fatalf("router.New refused %s: %v", file, err)
	}
	_ = r.Close()
	return cfg
}

// nopFactory makes clients that are never called.
func nopFactory(deployment.Config) (provider.Client, error) { return nopClient{}, nil }

type nopClient struct{ provider.Client }

func warningNames(cfg *Config) []string {
	var names []string
	for _, w := range cfg.Warnings {
		names = append(names, w.Setting)
	}
	return names
}

func TestLoadOpenAI(t *testing.T) {
	cfg := load(t, "openai.yaml", env("OPENAI_API_KEY", "sk-one", "OPENAI_API_KEY_2", "sk-two"))
	want := []deployment.Config{
		{ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-one", RPM: 500, TPM: 300000},
		{ID: "gpt-4o-second-key", ModelName: "gpt-4o", Model: "openai/gpt-4o", APIKey: "sk-two", Organization: "org-abc123", Weight: 2},
		{ModelName: "text-embedding-3-small", Model: "text-embedding-3-small", APIKey: "sk-one"},
		{ModelName: "local-llama", Model: "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", BaseURL: "http://localhost:8000/v1", Timeout: 2500 * time.Millisecond},
	}
	if !reflect.DeepEqual(cfg.Router.Deployments, want) {
		t.Errorf("deployments:\n got %#v\nwant %#v", cfg.Router.Deployments, want)
	}
	if !slices.Equal(cfg.DeploymentLines, []int{3, 9, 17, 21}) {
		t.Errorf("lines %v", cfg.DeploymentLines)
	}
	if cfg.MasterKey != "sk-1234" {
		t.Errorf("master key %q", cfg.MasterKey)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	if s := cfg.String(); strings.Contains(s, "sk-one") || strings.Contains(s, "sk-1234") {
		t.Errorf("String shows a secret: %s", s)
	}
}

func TestLoadAzure(t *testing.T) {
	cfg := load(t, "azure.yaml", env(
		"AZURE_API_BASE_EASTUS", "https://my-eastus.openai.azure.com",
		"AZURE_API_KEY_EASTUS", "key-east", "AZURE_API_KEY_WESTEUROPE", "key-west"))
	want := []deployment.Config{
		{
			ID: "azure-eastus", ModelName: "gpt-4o", Model: "azure/gpt-4o-eastus",
			BaseURL: "https://my-eastus.openai.azure.com", APIKey: "key-east", APIVersion: "2024-10-21",
			RPM: 900, TPM: 150000, Timeout: 30 * time.Second, StreamTimeout: 10 * time.Second,
			MaxParallelRequests: 50, Tags: []string{"eu", "default"}, Order: 1,
			Info: deployment.ModelInfo{MaxInputTokens: 128000, InputCostPerToken: 0.0000025, OutputCostPerToken: 0.00001},
		},
		{
			ID: "azure-westeurope", ModelName: "gpt-4o", Model: "azure/gpt-4o-westeurope",
			BaseURL: "https://my-westeurope.openai.azure.com/", APIKey: "key-west", APIVersion: "2024-10-21",
			TPM: 1000000, Tags: []string{"eu"}, Info: deployment.ModelInfo{MaxOutputTokens: 16384},
		},
		{
			ModelName: "text-embedding-3-large", Model: "azure/text-embedding-3-large",
			BaseURL: "https://my-eastus.openai.azure.com", APIKey: "key-east", APIVersion: "2024-10-21",
			CooldownTime: 500 * time.Millisecond, ExtraHeaders: http.Header{"X-Ms-Client-Tag": {"switchyard"}},
		},
	}
	if !reflect.DeepEqual(cfg.Router.Deployments, want) {
		t.Errorf("deployments:\n got %#v\nwant %#v", cfg.Router.Deployments, want)
	}
	names := warningNames(cfg)
	wantWarn := []string{"model_list[].model_info.base_model", "model_list[].model_info.mode", "model_list[].litellm_params.temperature"}
	if !slices.Equal(names, wantWarn) {
		t.Errorf("warnings %v, want %v", names, wantWarn)
	}
	if w := cfg.Warnings[1]; w.Count != 2 || w.Line != 22 {
		t.Errorf("mode warning %+v, want 2 occurrences from line 22", w)
	}
	if w := cfg.Warnings[2]; w.Line != 30 || !strings.Contains(w.String(), "line 30: model_list[].litellm_params.temperature: default request parameters") {
		t.Errorf("temperature warning %q", w.String())
	}
}

func TestLoadRouterSettings(t *testing.T) {
	cfg := load(t, "router_settings.yaml", env(
		"OPENAI_API_KEY", "sk-x", "REDIS_HOST", "redis.internal", "REDIS_PASSWORD", "hunter2",
		"REDIS_PORT", "9999", // environment_variables in the file win
		"LITELLM_MASTER_KEY", "sk-master"))

	d := cfg.Router.Deployments
	if d[1].Model != "openai/gpt-4o-mini" || d[1].APIKey != "sk-x" || d[1].RPM != 100 {
		t.Errorf("merged litellm_params: %#v", d[1])
	}
	three := 3
	want := router.Settings{
		RoutingStrategy: "usage-based-routing-v2",
		NumRetries:      &three,
		RetryPolicy: map[provider.Class]int{
			provider.ClassRateLimited: 5, provider.ClassTimeout: 1, provider.ClassServer: 2,
			provider.ClassAuth: 0, provider.ClassBadRequest: 0,
		},
		Timeout:                30 * time.Second,
		StreamTimeout:          5 * time.Second,
		RetryAfter:             time.Second,
		Deployment:             deployment.Settings{AllowedFails: new(2), CooldownTime: new(45 * time.Second)},
		MaxFallbacks:           new(3),
		Fallbacks:              map[string][]string{"gpt-4o": {"gpt-4o-mini"}, "gpt-4o-mini": {"gpt-4o"}},
		ContextWindowFallbacks: map[string][]string{"gpt-4o": {"gpt-4o-long"}},
		ContentPolicyFallbacks: map[string][]string{"gpt-4o-mini": {"gpt-4o"}},
		DefaultFallbacks:       []string{"gpt-4o-mini"},
		EnablePreCallChecks:    true,
	}
	if !reflect.DeepEqual(cfg.Router.Settings, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", cfg.Router.Settings, want)
	}
	if !reflect.DeepEqual(cfg.Router.Aliases, map[string]string{"gpt-4": "gpt-4o", "gpt-3.5-turbo": "gpt-4o-mini"}) {
		t.Errorf("aliases %v", cfg.Router.Aliases)
	}
	if !slices.Equal(cfg.Aliases, []string{"gpt-4"}) || !slices.Equal(cfg.HiddenAliases, []string{"gpt-3.5-turbo"}) {
		t.Errorf("visible %v hidden %v", cfg.Aliases, cfg.HiddenAliases)
	}
	wantRedis := &Redis{Host: "redis.internal", Port: 6380, Password: "hunter2", Line: 50}
	if !reflect.DeepEqual(cfg.Redis, wantRedis) {
		t.Errorf("redis %+v, want %+v", cfg.Redis, wantRedis)
	}
	if s := cfg.Redis.String(); strings.Contains(s, "hunter2") {
		t.Errorf("Redis.String shows the password: %s", s)
	}
	wantCache := &Cache{Type: "redis", TTL: 600 * time.Second, Namespace: "litellm.caching", Line: 59,
		Redis: &Redis{Host: "redis.internal", Port: 6380, Password: "hunter2", Line: 59}}
	if !reflect.DeepEqual(cfg.Cache, wantCache) {
		t.Errorf("cache %+v (redis %+v), want %+v", cfg.Cache, cfg.Cache.Redis, wantCache)
	}
	if cfg.MasterKey != "sk-master" || !cfg.ForwardOpenAIOrgID || !cfg.EnableTagFiltering {
		t.Errorf("general settings: key %q forward %v tags %v", cfg.MasterKey, cfg.ForwardOpenAIOrgID, cfg.EnableTagFiltering)
	}
	wantWarn := []string{
		"router_settings.retry_policy.ContentPolicyViolationErrorRetries",
		"router_settings.allowed_fails_policy",
		"litellm_settings.num_retries",
		"litellm_settings.timeout",
		"litellm_settings.drop_params",
		"litellm_settings.success_callback",
		"general_settings.database_url",
	}
	names := warningNames(cfg)
	slices.Sort(names)
	slices.Sort(wantWarn)
	if !slices.Equal(names, wantWarn) {
		t.Errorf("warnings\n got %v\nwant %v", names, wantWarn)
	}
	for _, w := range cfg.Warnings {
		if w.Setting == "litellm_settings.num_retries" && (w.Line != 55 || !strings.Contains(w.Msg, "router_settings.num_retries (line 22)")) {
			t.Errorf("override warning %q", w.String())
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		line    int
		setting string
		inMsg   string
	}{
		{"syntax", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n     bad: indent\n", 5, "", "malformed YAML"},
		{"tab", "model_list:\n\t- model_name: a\n", 2, "", "malformed YAML"},
		{"rpm type", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      rpm: lots\n", 5, "model_list[0].litellm_params.rpm", `expected an integer, got "lots"`},
		{"rpm fraction", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      rpm: 1.5\n", 5, "model_list[0].litellm_params.rpm", "expected an integer"},
		{"timeout type", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      timeout: [1]\n", 5, "model_list[0].litellm_params.timeout", "expected a single value, got a list"},
		{"missing env", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      api_key: os.environ/NOPE_KEY\n", 5, "model_list[0].litellm_params.api_key", "environment variable NOPE_KEY is not set"},
		{"no model_list", "router_settings:\n  num_retries: 2\n", 1, "model_list", "no deployments"},
		{"empty model_list", "model_list: []\n", 1, "model_list", "no deployments"},
		{"model_list mapping", "model_list:\n  a: b\n", 2, "model_list", "expected a list"},
		{"missing model", "model_list:\n  - model_name: a\n    litellm_params:\n      api_key: x\n", 4, "model_list[0].litellm_params.model", "missing"},
		{"missing model_name", "model_list:\n  - litellm_params:\n      model: openai/x\n", 2, "model_list[0].model_name", "missing"},
		{"duplicate key", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      rpm: 1\n      rpm: 2\n", 6, "model_list[0].litellm_params.rpm", "given twice (first at line 5)"},
		{"bad fallbacks", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  fallbacks: gpt-4o\n", 5, "router_settings.fallbacks", "expected a list"},
		{"bad alias", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  model_group_alias:\n    b: [a]\n", 6, "router_settings.model_group_alias.b", "expected a model group name"},
		{"negative retries", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  num_retries: -1\n", 5, "router_settings.num_retries", "negative"},
		{"mid-stream bool", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  enable_mid_stream_fallback_continuation: sometimes\n", 5, "router_settings.enable_mid_stream_fallback_continuation", "expected true or false"},
		{"bool", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nrouter_settings:\n  enable_pre_call_checks: maybe\n", 5, "router_settings.enable_pre_call_checks", "expected true or false"},
		{"redis cache without host", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nlitellm_settings:\n  cache: true\n", 5, "litellm_settings.cache_params", "needs host"},
		{"not a mapping", "- a\n- b\n", 1, "", "expected a mapping"},
		{"duplicate id", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n    model_info: {id: x}\n  - model_name: b\n    litellm_params: {model: openai/y}\n    model_info: {id: x}\n", 7, "model_list[1].model_info.id", `duplicate id "x" (also model_list[0], line 2); set model_info.id`},
		{"same deployment twice", "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\n  - {model_name: a, litellm_params: {model: openai/x}}\n", 3, "model_list[1].model_info.id", "set model_info.id to tell them apart"},
		{"redis url", "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n  redis_url: http://h:6379\n", 4, "router_settings.redis_url", `expected a redis:// or rediss:// URL, got "http://h:6379": redis: invalid URL scheme: http`},
		{"redis url hides the password", "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n  redis_url: redis://u:hunter2@h:port\n", 4, "router_settings.redis_url", `got "redis://u:***@h:port": invalid port`},
		{"redis port", "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n  redis_port: 70000\n", 4, "router_settings.redis_port", "expected a port"},
		{"cache url", "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nlitellm_settings:\n  cache: true\n  cache_params: {type: redis, url: 'h:1'}\n", 5, "litellm_settings.cache_params.url", "expected a redis:// or rediss:// URL"},
		{"merge cycle", "model_list:\n  - model_name: a\n    litellm_params: &x {<<: *x, model: b}\n", 3, "model_list[0].litellm_params", "refers to the mapping"},
		{"alias cycle", "model_list:\n  - {model_name: a, litellm_params: {model: b}}\nrouter_settings:\n  routing_strategy_args: &x {a: *x}\n", 4, "router_settings.routing_strategy_args.a.a*", "refers to itself"},
		{"laughs", "model_list:\n  - {model_name: a, litellm_params: {model: b}}\nx: &a [1,1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nv: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nrouter_settings:\n  routing_strategy_args: {k: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]}\n", -1, "router_settings.routing_strategy_args.k[0]*", "too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), WithFileName("config.yaml"), env())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			settingOK := e.Setting == tt.setting
			if prefix, ok := strings.CutSuffix(tt.setting, "*"); ok {
				settingOK = strings.HasPrefix(e.Setting, prefix)
			}
			if (tt.line >= 0 && e.Line != tt.line) || !settingOK || !strings.Contains(e.Msg, tt.inMsg) {
				t.Errorf("got line %d setting %q msg %q\nwant line %d setting %q msg containing %q", e.Line, e.Setting, e.Msg, tt.line, tt.setting, tt.inMsg)
			}
			if !strings.HasPrefix(err.Error(), "litellmconfig: config.yaml line ") && tt.line > 0 {
				t.Errorf("message %q does not start with the file and line", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("message %q shows a password", err)
			}
		})
	}
}

// TestUnknownStrategy: Load refuses a routing_strategy nobody registered,
// with its line and the valid names.
func TestUnknownStrategy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n  num_retries: 1\n  routing_strategy: round-robin\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + ` line 5: router_settings.routing_strategy: unknown strategy "round-robin" (valid: ` + strings.Join(strategy.Names(), ", ") + ")"
	if err == nil || err.Error() != "litellmconfig: "+want {
		t.Errorf("Load: %v\nwant litellmconfig: %s", err, want)
	}
	var unknown *strategy.UnknownStrategyError
	if !errors.As(err, &unknown) || unknown.Name != "round-robin" {
		t.Errorf("cause %v, want the *strategy.UnknownStrategyError", err)
	}
}

func TestWarningsListed(t *testing.T) {
	cfg, err := Parse([]byte(`
model_list:
  - model_name: a
    litellm_params:
      model: bedrock/anthropic.claude-3
      aws_region_name: us-east-1
include:
  - other.yaml
router_settings:
  disable_cooldowns: true
  model_group_alias:
    x: {model: a, weight: 1}
litellm_settings:
  cache: false
  cache_params: {type: redis}
  request_timeout: 10
`), env())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"include",
		"model_list[].litellm_params.aws_region_name",
		"model_list[].litellm_params.model: bedrock/",
		"litellm_settings.cache_params",
		"router_settings.disable_cooldowns",
		"router_settings.model_group_alias.*.weight",
	}
	got := warningNames(cfg)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n got %v\nwant %v", got, want)
	}
	if cfg.Router.Settings.Timeout != 10*time.Second {
		t.Errorf("request_timeout -> Timeout = %s", cfg.Router.Settings.Timeout)
	}
	if cfg.Cache != nil {
		t.Errorf("cache configured though cache: false")
	}
}

func TestStrategyArgs(t *testing.T) {
	cfg, err := Parse([]byte(`
model_list:
  - {model_name: a, litellm_params: {model: openai/x}}
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: {ttl: 60, lowest_latency_buffer: 0.5, max_latency_list_size: os.environ/LIST}
`), env("LIST", "10"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ttl": 60, "lowest_latency_buffer": 0.5, "max_latency_list_size": 10}
	if !reflect.DeepEqual(cfg.Router.Settings.RoutingStrategyArgs, want) {
		t.Errorf("args %#v", cfg.Router.Settings.RoutingStrategyArgs)
	}
	if _, err := router.New(cfg.Router, router.WithClientFactory(nopFactory)); err != nil {
		t.Errorf("router.New: %v", err)
	}
}

func TestCacheTypes(t *testing.T) {
	cfg, err := Parse([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nlitellm_settings:\n  cache: true\n  cache_params:\n    type: local\n    ttl: 30\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Cache, &Cache{Type: "local", TTL: 30 * time.Second, Line: 5}) {
		t.Errorf("local cache %+v", cfg.Cache)
	}
	cfg, err = Parse([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\nlitellm_settings:\n  cache: true\n  cache_params:\n    type: redis-semantic\n    host: h\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.Type != "local" || len(cfg.Warnings) != 1 || cfg.Warnings[0].Setting != "litellm_settings.cache_params.type: redis-semantic" {
		t.Errorf("semantic cache %+v warnings %v", cfg.Cache, cfg.Warnings)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://user:secret@host:6379/0": "redis://user:***@host:6379/0",
		"redis://host:6379":               "redis://host:6379",
		"rediss://:pw@h":                  "rediss://:***@h",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, rpm: 3}\n",
		"model_list: &a [*a]\n",
		"a: &x {<<: *x}\n",
		"model_list:\n  - model_name: a\n    litellm_params: {<<: [{model: x}, {rpm: 1}]}\nrouter_settings: {fallbacks: [{a: [a]}], model_group_alias: {b: {model: a, hidden: yes}}}\n",
		"litellm_settings: {cache: true, cache_params: {type: redis, host: h, port: 1}}\nmodel_list: [{model_name: a, litellm_params: {model: a, timeout: 1e400}}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, env("A", "1"))
		if err == nil && len(cfg.Router.Deployments) == 0 {
			t.Fatal("no error and no deployments")
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
		}
	})
}

func TestLoadMidStreamRecovery(t *testing.T) {
	cfg, err := Parse([]byte("model_list:\n  - {model_name: a, litellm_params: {model: openai/x}}\nrouter_settings:\n  enable_mid_stream_fallback_continuation: true\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Router.Settings.StreamResume.Enabled {
		t.Errorf("StreamResume %+v, want it on", cfg.Router.Settings.StreamResume)
	}
}
