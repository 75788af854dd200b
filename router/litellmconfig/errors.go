package litellmconfig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/strategy"
)

// Error is a problem with the file: malformed YAML, a value of the wrong
// type, a missing environment variable, or a value the router refuses. It
// names the file, the line and the setting.
type Error struct {
	// File is the file's name (empty when parsing bytes without a name).
	File string
	// Line is the 1-based line, 0 when unknown.
	Line int
	// Setting is the path of the setting at fault, such as
	// "model_list[2].litellm_params.rpm"; empty for a YAML syntax error.
	Setting string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying cause, if any: a *router.ConfigError when the
	// router refused the value (errors.As reaches it).
	Err error
}

// Error returns "litellmconfig: <file> line N: <setting>: <msg>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("litellmconfig: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(' ')
	}
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Setting != "" {
		b.WriteString(e.Setting)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// A source is where the file wrote a field of Config.Router: the LiteLLM
// setting and its line.
type source struct {
	setting string
	line    int
}

// entryFields is the mapping table of a model_list entry: each LiteLLM
// setting (below model_list[i]) and the deployment.Config field it sets,
// named as router.ConfigError names it below "Deployments[i]". The parser
// records, for each setting it reads, where the field came from; an error
// about a field the file does not write (an Azure model without
// api_version) names the first setting of the field here, at the line of
// the entry.
var entryFields = []struct{ setting, field string }{
	{"model_name", "ModelName"},
	{"litellm_params.model", "Model"},
	{"litellm_params.api_key", "APIKey"},
	{"litellm_params.api_base", "BaseURL"},
	{"litellm_params.base_url", "BaseURL"},
	{"litellm_params.api_version", "APIVersion"},
	{"litellm_params.organization", "Organization"},
	{"litellm_params.extra_headers", "ExtraHeaders"},
	{"litellm_params.headers", "ExtraHeaders"},
	{"litellm_params.rpm", "RPM"},
	{"litellm_params.tpm", "TPM"},
	{"litellm_params.weight", "Weight"},
	{"litellm_params.order", "Order"},
	{"litellm_params.max_parallel_requests", "MaxParallelRequests"},
	{"litellm_params.tags", "Tags"},
	{"litellm_params.timeout", "Timeout"},
	{"litellm_params.stream_timeout", "StreamTimeout"},
	{"litellm_params.cooldown_time", "CooldownTime"},
	{"litellm_params.input_cost_per_token", "Info.InputCostPerToken"},
	{"litellm_params.output_cost_per_token", "Info.OutputCostPerToken"},
	{"model_info.id", "ID"},
	{"model_info.max_input_tokens", "Info.MaxInputTokens"},
	{"model_info.max_output_tokens", "Info.MaxOutputTokens"},
	{"model_info.max_tokens", "Info.MaxOutputTokens"},
	{"model_info.input_cost_per_token", "Info.InputCostPerToken"},
	{"model_info.output_cost_per_token", "Info.OutputCostPerToken"},
	{"model_info.order", "Order"},
}

// settingFields is the mapping table of router_settings and
// litellm_settings: each setting and the router.Config field it sets, as
// router.ConfigError names it. Entries of a setting follow the field's
// name: fallbacks[0].gpt-4o[1] is Settings.Fallbacks[gpt-4o][1] (the
// index counts in the group's list, merged from every list entry that
// names the group), retry_policy.RateLimitErrorRetries is
// Settings.RetryPolicy[rate_limited], model_group_alias.gpt-4 is
// Aliases[gpt-4], default_fallbacks[0] is Settings.DefaultFallbacks[0].
// routing_strategy_args.ttl is recorded as Settings.RoutingStrategyArgs[ttl]
// (no router field name: the router reports a bad argument as
// Settings.RoutingStrategy, with the strategy's *strategy.ArgError naming
// the argument).
var settingFields = map[string]string{
	"routing_strategy":         "Settings.RoutingStrategy",
	"routing_strategy_args":    "Settings.RoutingStrategyArgs",
	"num_retries":              "Settings.NumRetries",
	"retry_policy":             "Settings.RetryPolicy",
	"retry_after":              "Settings.RetryAfter",
	"timeout":                  "Settings.Timeout",
	"stream_timeout":           "Settings.StreamTimeout",
	"allowed_fails":            "Settings.Deployment.AllowedFails",
	"cooldown_time":            "Settings.Deployment.CooldownTime",
	"fallbacks":                "Settings.Fallbacks",
	"context_window_fallbacks": "Settings.ContextWindowFallbacks",
	"content_policy_fallbacks": "Settings.ContentPolicyFallbacks",
	"default_fallbacks":        "Settings.DefaultFallbacks",
	"max_fallbacks":            "Settings.MaxFallbacks",
	"enable_pre_call_checks":   "Settings.EnablePreCallChecks",
	"enable_mid_stream_fallback_continuation": "Settings.StreamResume.Enabled",
	"model_group_alias":                       "Aliases",
}

// entryField returns the deployment.Config field an entry setting sets.
func entryField(setting string) (string, bool) {
	for _, f := range entryFields {
		if f.setting == setting {
			return f.field, true
		}
	}
	return "", false
}

// entrySetting returns the first entry setting that sets field.
func entrySetting(field string) (string, bool) {
	for _, f := range entryFields {
		if f.field == field {
			return f.setting, true
		}
	}
	return "", false
}

// refused turns an error of router.New (or of what NewRouter opens) into
// an *Error naming the setting and line the fault comes from, keeping err
// as the cause. An error that names no field the file wrote keeps the
// router's words, with the file's name.
func (c *Config) refused(err error) error {
	var ce *router.ConfigError
	if !errors.As(err, &ce) {
		return &Error{File: c.file, Msg: err.Error(), Err: err}
	}
	field, msg := ce.Field, ce.Msg
	if ce.Err != nil {
		msg += ": " + ce.Err.Error()
	}
	var (
		unknown *strategy.UnknownStrategyError
		arg     *strategy.ArgError
		oc      *openai.ConfigError
		dc      *deployment.ConfigError
	)
	switch {
	case errors.As(ce.Err, &unknown):
		msg = fmt.Sprintf("unknown strategy %q (valid: %s)", unknown.Name, strings.Join(unknown.Valid, ", "))
	case errors.As(ce.Err, &arg):
		field = "Settings.RoutingStrategyArgs[" + arg.Arg + "]"
		v := fmt.Sprint(arg.Value)
		if s, ok := arg.Value.(string); ok {
			v = strconv.Quote(s)
		}
		msg = fmt.Sprintf("%s: %s (an argument of %s)", v, arg.Reason, arg.Strategy)
	case errors.As(ce.Err, &oc):
		// The default client factory refused the deployment.
		field += "." + oc.Field
		msg = oc.Msg
		if oc.Value != "" {
			msg = strconv.Quote(oc.Value) + " " + oc.Msg
		}
	case errors.As(ce.Err, &dc):
		field += "." + dc.Field
		msg = dc.Msg
	}
	setting, line, ok := c.locate(field)
	if !ok {
		return &Error{File: c.file, Msg: err.Error(), Err: err}
	}
	return &Error{File: c.file, Line: line, Setting: setting, Msg: msg, Err: err}
}

// locate finds where the file wrote the router.Config field named as
// router.ConfigError names it. A field of a model_list entry that the file
// does not write (an Azure model's missing api_version) is located at the
// entry, named by its setting when it has one.
func (c *Config) locate(field string) (setting string, line int, ok bool) {
	if s, ok := c.src[field]; ok {
		return s.setting, s.line, true
	}
	if !strings.HasPrefix(field, "Deployments[") {
		return "", 0, false
	}
	for i := len(field); ; {
		if i = strings.LastIndexByte(field[:i], '.'); i < 0 {
			return "", 0, false
		}
		if s, ok := c.src[field[:i]]; ok {
			setting = s.setting
			if name, ok := entrySetting(field[i+1:]); ok {
				setting = join(setting, name)
			}
			return setting, s.line, true
		}
	}
}
