package litellmconfig

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"go.yaml.in/yaml/v3"
)

// top reads the document's top-level mapping.
func (p *parser) top(n *yaml.Node) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return p.errAt(n, "", "expected a mapping with model_list, router_settings, ..., got %s", kindName(n))
	}
	sections := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	err := p.each(n, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "model_list", "router_settings", "litellm_settings", "general_settings", "environment_variables":
			sections[key], keys[key] = v, k
		default:
			p.warn(k, key, "not supported, ignored")
		}
		return nil
	})
	if err != nil {
		return err
	}
	// environment_variables first: the other sections may read them.
	if v := sections["environment_variables"]; v != nil {
		if err := p.envVars(v); err != nil {
			return err
		}
	}
	ml := sections["model_list"]
	if ml == nil || isNull(ml) {
		line := 1
		if k := keys["model_list"]; k != nil {
			line = k.Line
		}
		return &Error{File: p.file, Line: line, Setting: "model_list", Msg: "no deployments: model_list is missing or empty"}
	}
	if err := p.modelList(ml); err != nil {
		return err
	}
	// litellm_settings before router_settings: the router's own settings
	// win, as in LiteLLM.
	for _, s := range []struct {
		name string
		f    func(*yaml.Node) error
	}{
		{"litellm_settings", p.litellmSettings},
		{"router_settings", p.routerSettings},
		{"general_settings", p.generalSettings},
	} {
		if v := sections[s.name]; v != nil {
			if err := s.f(v); err != nil {
				return err
			}
		}
	}
	if p.after != nil {
		return p.after()
	}
	return nil
}

// envVars reads environment_variables: values that "os.environ/NAME"
// elsewhere in the file sees, before the process environment.
func (p *parser) envVars(n *yaml.Node) error {
	p.env = map[string]string{}
	return p.each(n, "environment_variables", func(key string, _, v *yaml.Node) error {
		s, err := p.str(v, "environment_variables."+key)
		p.env[key] = s
		return err
	})
}

// modelList reads model_list into deployments.
func (p *parser) modelList(n *yaml.Node) error {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return p.errAt(n, "model_list", "expected a list of deployments, got %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return p.errAt(n, "model_list", "no deployments: model_list is empty")
	}
	for i, item := range n.Content {
		d, err := p.deployment(item, fmt.Sprintf("model_list[%d]", i))
		if err != nil {
			return err
		}
		p.cfg.Router.Deployments = append(p.cfg.Router.Deployments, d)
		p.cfg.DeploymentLines = append(p.cfg.DeploymentLines, item.Line)
	}
	return nil
}

// deployment reads one model_list entry.
func (p *parser) deployment(n *yaml.Node, path string) (deployment.Config, error) {
	var (
		d              deployment.Config
		params, info   *yaml.Node
		hasName        bool
		orderFromParam bool
	)
	if resolve(n).Kind != yaml.MappingNode {
		return d, p.errAt(n, path, "expected a mapping with model_name and litellm_params, got %s", kindName(n))
	}
	err := p.each(n, path, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "model_name":
			d.ModelName, err = p.str(v, join(path, key))
			hasName = true
		case "litellm_params":
			params = v
		case "model_info":
			info = v
		default:
			p.warn(k, "model_list[]."+key, "not supported, ignored")
		}
		return err
	})
	if err != nil {
		return d, err
	}
	if !hasName || d.ModelName == "" {
		return d, p.errAt(n, join(path, "model_name"), "missing: every deployment needs the model group name clients ask for")
	}
	if params == nil || isNull(params) {
		return d, p.errAt(n, join(path, "litellm_params"), "missing: every deployment needs litellm_params with a model")
	}
	pp := join(path, "litellm_params")
	err = p.each(params, pp, func(key string, k, v *yaml.Node) error {
		kp := join(pp, key)
		var err error
		switch key {
		case "model":
			d.Model, err = p.str(v, kp)
		case "api_key":
			d.APIKey, err = p.str(v, kp)
		case "api_base", "base_url":
			d.BaseURL, err = p.str(v, kp)
		case "api_version":
			d.APIVersion, err = p.str(v, kp)
		case "organization":
			d.Organization, err = p.str(v, kp)
		case "rpm":
			d.RPM, err = p.integer(v, kp)
		case "tpm":
			d.TPM, err = p.integer(v, kp)
		case "weight":
			d.Weight, err = p.number(v, kp)
		case "order":
			d.Order, err = p.integer(v, kp)
			orderFromParam = true
		case "max_parallel_requests":
			d.MaxParallelRequests, err = p.integer(v, kp)
		case "tags":
			d.Tags, err = p.strList(v, kp)
		case "timeout":
			d.Timeout, err = p.seconds(v, kp)
		case "stream_timeout":
			d.StreamTimeout, err = p.seconds(v, kp)
		case "cooldown_time":
			d.CooldownTime, err = p.seconds(v, kp)
		case "input_cost_per_token":
			d.Info.InputCostPerToken, err = p.number(v, kp)
		case "output_cost_per_token":
			d.Info.OutputCostPerToken, err = p.number(v, kp)
		case "extra_headers", "headers":
			d.ExtraHeaders, err = p.headers(v, kp)
		default:
			p.warn(k, "model_list[].litellm_params."+key, unsupportedParam(key))
		}
		return err
	})
	if err != nil {
		return d, err
	}
	if d.Model == "" {
		return d, p.errAt(params, join(pp, "model"), "missing: the provider model, such as openai/gpt-4o or azure/<deployment>")
	}
	if prefix, _, ok := strings.Cut(d.Model, "/"); ok && !supportedPrefix(prefix) && d.BaseURL == "" {
		p.warn(params, "model_list[].litellm_params.model: "+prefix+"/", "provider "+prefix+" is not supported natively; it is sent to an OpenAI-compatible api_base, and none is set")
	}
	if info == nil {
		return d, nil
	}
	ip := join(path, "model_info")
	err = p.each(info, ip, func(key string, k, v *yaml.Node) error {
		kp := join(ip, key)
		var err error
		switch key {
		case "id":
			d.ID, err = p.str(v, kp)
		case "max_input_tokens":
			d.Info.MaxInputTokens, err = p.integer(v, kp)
		case "max_output_tokens":
			d.Info.MaxOutputTokens, err = p.integer(v, kp)
		case "max_tokens":
			// LiteLLM's older name for the output limit.
			if d.Info.MaxOutputTokens == 0 {
				d.Info.MaxOutputTokens, err = p.integer(v, kp)
			}
		case "input_cost_per_token":
			if d.Info.InputCostPerToken == 0 {
				d.Info.InputCostPerToken, err = p.number(v, kp)
			}
		case "output_cost_per_token":
			if d.Info.OutputCostPerToken == 0 {
				d.Info.OutputCostPerToken, err = p.number(v, kp)
			}
		case "order":
			if !orderFromParam {
				d.Order, err = p.integer(v, kp)
			}
		default:
			p.warn(k, "model_list[].model_info."+key, "not used, ignored")
		}
		return err
	})
	return d, err
}

// supportedPrefix reports whether provider/openai serves a model prefix
// without an api_base of its own.
func supportedPrefix(prefix string) bool {
	switch prefix {
	case "openai", "azure", "text-completion-openai", "responses":
		return true
	}
	return false
}

// unsupportedParam says what happens to a litellm_params key that is not
// read.
func unsupportedParam(key string) string {
	switch key {
	case "temperature", "max_tokens", "max_completion_tokens", "top_p", "seed", "stop", "frequency_penalty",
		"presence_penalty", "response_format", "user", "n", "stream", "reasoning_effort":
		return "default request parameters are not applied; requests are forwarded as sent"
	}
	return "not supported, ignored"
}

// headers reads a mapping of header names to values.
func (p *parser) headers(n *yaml.Node, path string) (http.Header, error) {
	h := http.Header{}
	err := p.each(n, path, func(key string, _, v *yaml.Node) error {
		s, err := p.str(v, join(path, key))
		h.Set(key, s)
		return err
	})
	return h, err
}

// routing reads the settings router_settings and litellm_settings share.
// handled is false for keys that are not routing settings.
func (p *parser) routing(section, key string, k, v *yaml.Node) (handled bool, err error) {
	s := &p.cfg.Router.Settings
	kp := section + "." + key
	name := key
	switch key {
	case "request_timeout": // litellm_settings' name for timeout
		name = "timeout"
	}
	p.override(section, name, k)
	switch name {
	case "num_retries":
		var n int
		n, err = p.integer(v, kp)
		if err == nil && n < 0 {
			err = p.errAt(v, kp, "must not be negative, got %d", n)
		}
		s.NumRetries = &n
	case "timeout":
		s.Timeout, err = p.seconds(v, kp)
	case "stream_timeout":
		s.StreamTimeout, err = p.seconds(v, kp)
	case "allowed_fails":
		var n int
		if n, err = p.integer(v, kp); err == nil {
			s.Deployment.AllowedFails = &n
		}
	case "cooldown_time":
		// LiteLLM: 0 turns cooldowns off, as new(0) does here.
		var d time.Duration
		if d, err = p.seconds(v, kp); err == nil {
			s.Deployment.CooldownTime = &d
		}
	case "retry_after":
		s.RetryAfter, err = p.seconds(v, kp)
	case "max_fallbacks":
		var n int
		if n, err = p.integer(v, kp); err == nil {
			s.MaxFallbacks = &n
		}
	case "fallbacks":
		s.Fallbacks, err = p.fallbacks(v, kp)
	case "context_window_fallbacks":
		s.ContextWindowFallbacks, err = p.fallbacks(v, kp)
	case "content_policy_fallbacks":
		s.ContentPolicyFallbacks, err = p.fallbacks(v, kp)
	case "default_fallbacks":
		s.DefaultFallbacks, err = p.strList(v, kp)
	case "retry_policy":
		s.RetryPolicy, err = p.retryPolicy(v, kp)
	default:
		delete(p.seen, name)
		return false, nil
	}
	return true, err
}

// override notes that section set name, warning when the other section
// set it too: router_settings wins.
func (p *parser) override(section, name string, k *yaml.Node) {
	if line, ok := p.seen[name]; ok && section == "router_settings" {
		at := &yaml.Node{Line: line}
		p.warn(at, "litellm_settings."+name, fmt.Sprintf("overridden by router_settings.%s (line %d)", name, k.Line))
	}
	p.seen[name] = k.Line
}

// fallbacks reads LiteLLM's fallback lists: a list of one-key mappings,
// [{"gpt-4o": ["gpt-4o-mini"]}], or one mapping {gpt-4o: [gpt-4o-mini]}.
func (p *parser) fallbacks(n *yaml.Node, path string) (map[string][]string, error) {
	out := map[string][]string{}
	add := func(m *yaml.Node, mp string) error {
		return p.each(m, mp, func(key string, _, v *yaml.Node) error {
			list, err := p.strList(v, mp+"."+key)
			out[key] = append(out[key], list...)
			return err
		})
	}
	n = resolve(n)
	switch {
	case isNull(n):
		return nil, nil
	case n.Kind == yaml.MappingNode:
		return out, add(n, path)
	case n.Kind != yaml.SequenceNode:
		return nil, p.errAt(n, path, `expected a list like [{"gpt-4o": ["gpt-4o-mini"]}], got %s`, kindName(n))
	}
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if resolve(item).Kind != yaml.MappingNode {
			return nil, p.errAt(item, ip, `expected a mapping like {"gpt-4o": ["gpt-4o-mini"]}, got %s`, kindName(item))
		}
		if err := add(item, ip); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// retryClasses maps LiteLLM's retry_policy keys to error classes.
var retryClasses = map[string]provider.Class{
	"BadRequestErrorRetries":             provider.ClassBadRequest,
	"AuthenticationErrorRetries":         provider.ClassAuth,
	"TimeoutErrorRetries":                provider.ClassTimeout,
	"RateLimitErrorRetries":              provider.ClassRateLimited,
	"ContentPolicyViolationErrorRetries": provider.ClassContentPolicy,
	"InternalServerErrorRetries":         provider.ClassServer,
}

// retryPolicy reads retry_policy: retries per error class.
func (p *parser) retryPolicy(n *yaml.Node, path string) (map[provider.Class]int, error) {
	out := map[provider.Class]int{}
	err := p.each(n, path, func(key string, k, v *yaml.Node) error {
		kp := join(path, key)
		c, ok := retryClasses[key]
		if !ok {
			names := make([]string, 0, len(retryClasses))
			for name := range retryClasses {
				names = append(names, name)
			}
			slices.Sort(names)
			p.warn(k, kp, "unknown error class, ignored; known: "+strings.Join(names, ", "))
			return nil
		}
		r, err := p.integer(v, kp)
		if err != nil {
			return err
		}
		if r < 0 {
			return p.errAt(v, kp, "must not be negative, got %d", r)
		}
		if r > 0 && c.CallerFault() {
			p.warn(k, kp, "the caller's errors are never retried (they cannot succeed elsewhere); ignored")
			return nil
		}
		out[c] = r
		return nil
	})
	return out, err
}

// routerSettings reads router_settings.
func (p *parser) routerSettings(n *yaml.Node) error {
	const sec = "router_settings"
	s := &p.cfg.Router.Settings
	return p.each(n, sec, func(key string, k, v *yaml.Node) error {
		if handled, err := p.routing(sec, key, k, v); handled || err != nil {
			return err
		}
		kp := sec + "." + key
		var err error
		switch key {
		case "routing_strategy":
			s.RoutingStrategy, err = p.str(v, kp)
		case "routing_strategy_args":
			p.argsNode = v
			var args any
			args, err = p.generic(v, kp)
			if m, ok := args.(map[string]any); ok {
				s.RoutingStrategyArgs = m
			} else if err == nil && args != nil {
				err = p.errAt(v, kp, "expected a mapping, got %s", kindName(v))
			}
		case "model_group_alias":
			err = p.aliases(v, kp)
		case "enable_pre_call_checks":
			s.EnablePreCallChecks, err = p.boolean(v, kp)
		case "redis_host", "redis_port", "redis_password", "redis_url":
			err = p.redisSetting(key, k, v, kp)
		case "enable_tag_filtering":
			p.cfg.EnableTagFiltering, err = p.boolean(v, kp)
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
}

// redisSetting reads one of router_settings' redis_* keys.
func (p *parser) redisSetting(key string, k, v *yaml.Node, kp string) error {
	if p.cfg.Redis == nil {
		p.cfg.Redis = &Redis{Line: k.Line}
	}
	r := p.cfg.Redis
	var err error
	switch key {
	case "redis_host":
		r.Host, err = p.str(v, kp)
	case "redis_port":
		r.Port, err = p.integer(v, kp)
	case "redis_password":
		r.Password, err = p.str(v, kp)
	case "redis_url":
		r.URL, err = p.str(v, kp)
	}
	return err
}

// aliases reads model_group_alias: {alias: group} or {alias: {model:
// group, hidden: true}}.
func (p *parser) aliases(n *yaml.Node, path string) error {
	if p.cfg.Router.Aliases == nil {
		p.cfg.Router.Aliases = map[string]string{}
	}
	return p.each(n, path, func(alias string, _, v *yaml.Node) error {
		ap := join(path, alias)
		var (
			group  string
			hidden bool
			err    error
		)
		switch resolve(v).Kind {
		case yaml.ScalarNode:
			group, err = p.str(v, ap)
		case yaml.MappingNode:
			err = p.each(v, ap, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "model":
					group, err = p.str(v, join(ap, key))
				case "hidden":
					hidden, err = p.boolean(v, join(ap, key))
				default:
					p.warn(k, path+".*."+key, "not supported, ignored")
				}
				return err
			})
		default:
			return p.errAt(v, ap, "expected a model group name or {model: ..., hidden: ...}, got %s", kindName(v))
		}
		if err != nil {
			return err
		}
		if group == "" {
			return p.errAt(v, ap, "names no model group")
		}
		p.cfg.Router.Aliases[alias] = group
		if hidden {
			p.cfg.HiddenAliases = append(p.cfg.HiddenAliases, alias)
		} else {
			p.cfg.Aliases = append(p.cfg.Aliases, alias)
		}
		return nil
	})
}

// litellmSettings reads litellm_settings.
func (p *parser) litellmSettings(n *yaml.Node) error {
	const sec = "litellm_settings"
	var (
		cacheOn     bool
		cacheLine   int
		cacheParams *yaml.Node
	)
	err := p.each(n, sec, func(key string, k, v *yaml.Node) error {
		if handled, err := p.routing(sec, key, k, v); handled || err != nil {
			return err
		}
		kp := sec + "." + key
		var err error
		switch key {
		case "cache":
			cacheOn, err = p.boolean(v, kp)
			cacheLine = k.Line
		case "cache_params":
			cacheParams = v
		case "drop_params", "set_verbose", "json_logs":
			p.warn(k, kp, "not needed here: requests are forwarded as sent; logs use log/slog")
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
	if err != nil || !cacheOn {
		if cacheParams != nil && err == nil {
			p.warn(cacheParams, sec+".cache_params", "ignored: cache is not true")
		}
		return err
	}
	// Read after router_settings, whose Redis a redis cache may use.
	p.after = func() error { return p.cache(cacheParams, cacheLine) }
	return nil
}

// cache reads litellm_settings.cache_params.
func (p *parser) cache(n *yaml.Node, line int) error {
	const path = "litellm_settings.cache_params"
	c := &Cache{Type: "redis", Line: line}
	var r Redis
	err := p.each(n, path, func(key string, k, v *yaml.Node) error {
		kp := join(path, key)
		var err error
		switch key {
		case "type":
			c.Type, err = p.str(v, kp)
			if err == nil && c.Type == "in-memory" {
				c.Type = "local"
			}
			if err == nil && c.Type != "local" && c.Type != "redis" {
				p.warn(v, kp+": "+c.Type, "cache type not supported, a local cache is used instead")
				c.Type = "local"
			}
		case "host":
			r.Host, err = p.str(v, kp)
		case "port":
			r.Port, err = p.integer(v, kp)
		case "password":
			r.Password, err = p.str(v, kp)
		case "url", "redis_url":
			r.URL, err = p.str(v, kp)
		case "ttl":
			c.TTL, err = p.seconds(v, kp)
		case "namespace":
			c.Namespace, err = p.str(v, kp)
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
	if err != nil {
		return err
	}
	if c.Type == "redis" {
		if r.Host == "" && r.URL == "" && p.cfg.Redis != nil {
			r = *p.cfg.Redis // LiteLLM falls back to the router's Redis
		}
		if r.Host == "" && r.URL == "" {
			return &Error{File: p.file, Line: line, Setting: path, Msg: "a redis cache needs host (or url), in cache_params or router_settings.redis_host"}
		}
		r.Line = line
		c.Redis = &r
	}
	p.cfg.Cache = c
	return nil
}

// generalSettings reads general_settings.
func (p *parser) generalSettings(n *yaml.Node) error {
	const sec = "general_settings"
	return p.each(n, sec, func(key string, k, v *yaml.Node) error {
		kp := sec + "." + key
		var err error
		switch key {
		case "master_key":
			p.cfg.MasterKey, err = p.str(v, kp)
		case "forward_openai_org_id":
			p.cfg.ForwardOpenAIOrgID, err = p.boolean(v, kp)
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
}
