package litellmconfig

import (
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
		case "require_auth_for_metrics_endpoint":
			p.cfg.RequireAuthForMetrics, err = p.boolean(v, kp)
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
			r.Port, err = p.port(v, kp)
		case "password":
			r.Password, err = p.str(v, kp)
		case "url", "redis_url":
			r.URL, err = p.redisURL(v, kp)
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
		case "max_response_size_mb":
			p.cfg.MaxResponseBytes, err = p.megabytes(v, kp)
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
}

// megabytes reads a positive size in MB (LiteLLM's MB are MiB, 1<<20
// bytes; fractions are allowed) as bytes.
func (p *parser) megabytes(n *yaml.Node, path string) (int64, error) {
	f, err := p.number(n, path)
	if err != nil {
		return 0, err
	}
	b := f * (1 << 20)
	if b < 1 || b > 1<<53 {
		return 0, p.errAt(n, path, "expected a size in MB above 0 (and below 8 PB), got %v", f)
	}
	return int64(b), nil
}
