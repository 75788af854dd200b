// Package litellmconfig reads a LiteLLM proxy config.yaml, as LiteLLM users
// write it, into a router.Config, so that a LiteLLM deployment moves to
// Switchyard without rewriting its configuration.
//
// [Load] reads the file; [Config.NewRouter] makes the router it describes,
// wired to the Redis and the response cache the file names, and
// [Config.HandlerOptions] gives router/handler the master key, the aliases
// to list, tag routing and the forwarded headers:
//
//	cfg, err := litellmconfig.Load("config.yaml")
//	if err != nil {
//		return err
//	}
//	rt, closeRouter, err := cfg.NewRouter(router.WithLogger(log))
//	if err != nil {
//		return err
//	}
//	defer closeRouter()
//	http.ListenAndServe(":4000", handler.New(rt, cfg.HandlerOptions()...))
//
// It understands model_list (model_name, litellm_params, model_info),
// router_settings, litellm_settings, general_settings and
// environment_variables. Values written "os.environ/NAME" are read from the
// environment (a missing variable is an error naming it). Settings it does
// not support are not silently dropped: each is listed once, by name and
// line, in [Config.Warnings].
//
// A file that is malformed, or that the router would refuse, fails with an
// [*Error] giving the line, the setting and the problem:
//
//	litellmconfig: config.yaml line 14: model_list[1].litellm_params.rpm: expected an integer, got "lots"
//	litellmconfig: config.yaml line 31: router_settings.fallbacks[0].gpt-4o[0]: unknown model group "gpt-4o-mni"
//
// Load checks what router.New checks (limits not negative, aliases and
// fallbacks naming known groups, a routing_strategy that strategy.New
// knows, with valid routing_strategy_args), so such a file fails at Load;
// what only NewRouter sees (the clients its caller's factory makes, the
// caller's options) fails there, with the same kind of error. The cause of
// a refusal is the router's *router.ConfigError, whose Field names the Go
// field ("Deployments[1].RPM"). A routing_strategy must be a built-in or
// one given to strategy.Register; a strategy value given to NewRouter with
// router.WithStrategy needs none in the file.
//
// Settings are mapped as follows (router_settings win over
// litellm_settings when both set one):
//
//	model_list[].model_name                     deployment.Config.ModelName
//	model_list[].litellm_params.model           .Model (provider prefix kept: openai/, azure/, ...)
//	  api_key, api_base, api_version,           .APIKey, .BaseURL, .APIVersion,
//	  organization, extra_headers               .Organization, .ExtraHeaders
//	  rpm, tpm, weight, order,                  .RPM, .TPM, .Weight, .Order,
//	  max_parallel_requests, tags               .MaxParallelRequests, .Tags
//	  timeout, stream_timeout, cooldown_time    .Timeout, .StreamTimeout, .CooldownTime (seconds)
//	  input_cost_per_token, output_cost_per_token  .Info prices
//	model_list[].model_info.id                  .ID
//	  max_input_tokens, max_output_tokens       .Info.MaxInputTokens, .Info.MaxOutputTokens
//	  input_cost_per_token, output_cost_per_token, order
//	router_settings.routing_strategy(_args)     router.Settings.RoutingStrategy(Args)
//	  num_retries, retry_policy, retry_after    .NumRetries, .RetryPolicy, .RetryAfter
//	  timeout, stream_timeout                   .Timeout, .StreamTimeout
//	  (LiteLLM has no name for .CallTimeout, .MaxRetryWait or .RetryBudget;
//	  their defaults apply: 10 minutes, 2s, 20% of the calls)
//	  allowed_fails, cooldown_time              .Deployment.AllowedFails, .Deployment.CooldownTime (0: off)
//	  fallbacks, context_window_fallbacks,      .Fallbacks, .ContextWindowFallbacks,
//	  content_policy_fallbacks,                 .ContentPolicyFallbacks,
//	  default_fallbacks, max_fallbacks          .DefaultFallbacks, .MaxFallbacks
//	  model_group_alias                         router.Config.Aliases (+ Config.Aliases listed by
//	                                            HandlerOptions, Config.HiddenAliases not)
//	  enable_pre_call_checks                    .EnablePreCallChecks
//	  enable_mid_stream_fallback_continuation   .StreamResume.Enabled (mid-stream recovery, on
//	                                            another deployment of the same group)
//	  enable_tag_filtering                      Config.EnableTagFiltering: HandlerOptions'
//	                                            handler.WithTagRouting
//	  redis_host, redis_port, redis_password,   Config.Redis: NewRouter's router.WithSharedState
//	  redis_url, redis_startup_nodes (Cluster:  Redis.StartupNodes; [{host, port}, ...])
//	  service_name, sentinel_nodes,             Redis.ServiceName, SentinelNodes ([[host, port], ...]),
//	  sentinel_password                         SentinelPassword: Sentinel
//	litellm_settings.num_retries, request_timeout, fallbacks, ...  as above
//	litellm_settings.cache, cache_params        Config.Cache (type local or redis): NewRouter's
//	                                            router.WithResponseCache
//	litellm_settings.                           Config.RequireAuthForMetrics: HandlerOptions'
//	  require_auth_for_metrics_endpoint         handler.WithProtectedOps (/metrics and /health/readiness)
//	general_settings.master_key                 Config.MasterKey: HandlerOptions' handler.WithKeys
//	general_settings.forward_openai_org_id      Config.ForwardOpenAIOrgID: HandlerOptions'
//	                                            handler.WithForwardHeaders("OpenAI-Organization")
//	general_settings.max_response_size_mb       Config.MaxResponseBytes (MiB; fractions allowed):
//	                                            HandlerOptions' handler.WithMaxResponseBytes
package litellmconfig
