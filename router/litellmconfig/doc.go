// Package litellmconfig reads a LiteLLM proxy config.yaml, as LiteLLM users
// write it, into a router.Config, so that a LiteLLM deployment moves to
// Switchyard without rewriting its configuration.
//
// It understands model_list (model_name, litellm_params, model_info),
// router_settings, litellm_settings, general_settings and
// environment_variables. Values written "os.environ/NAME" are read from the
// environment (a missing variable is an error naming it). Settings it does
// not support are not silently dropped: each is listed once, by name and
// line, in [Config.Warnings]. A malformed file fails with an [*Error]
// giving the line and the problem:
//
//	litellmconfig: config.yaml line 14: model_list[1].litellm_params.rpm: expected an integer, got "lots"
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
//	  allowed_fails, cooldown_time              .AllowedFails, .CooldownTime
//	  fallbacks, context_window_fallbacks,      .Fallbacks, .ContextWindowFallbacks,
//	  content_policy_fallbacks,                 .ContentPolicyFallbacks,
//	  default_fallbacks, max_fallbacks          .DefaultFallbacks, .MaxFallbacks
//	  model_group_alias                         router.Config.Aliases (+ Config.HiddenAliases)
//	  enable_pre_call_checks                    .EnablePreCallChecks
//	  enable_tag_filtering                      Config.EnableTagFiltering
//	  redis_host, redis_port, redis_password,   Config.Redis
//	  redis_url
//	litellm_settings.num_retries, request_timeout, fallbacks, ...  as above
//	litellm_settings.cache, cache_params        Config.Cache (type local or redis)
//	general_settings.master_key                 Config.MasterKey
//	general_settings.forward_openai_org_id      Config.ForwardOpenAIOrgID
package litellmconfig
