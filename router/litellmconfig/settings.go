package litellmconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/provider"
	"go.yaml.in/yaml/v3"
)

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
	// Settings of a later section replace those of an earlier one,
	// entries and all (forget).
	field := settingFields[name]
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
		p.forget(field)
		s.Fallbacks, err = p.fallbacks(v, kp, field)
	case "context_window_fallbacks":
		p.forget(field)
		s.ContextWindowFallbacks, err = p.fallbacks(v, kp, field)
	case "content_policy_fallbacks":
		p.forget(field)
		s.ContentPolicyFallbacks, err = p.fallbacks(v, kp, field)
	case "default_fallbacks":
		p.forget(field)
		if s.DefaultFallbacks, err = p.strList(v, kp); err == nil {
			p.atList(field, kp, v, 0)
		}
	case "retry_policy":
		p.forget(field)
		s.RetryPolicy, err = p.retryPolicy(v, kp)
	default:
		delete(p.seen, name)
		return false, nil
	}
	p.at(field, kp, v)
	return true, err
}

// atList records the items of a list read by strList as field[offset+i].
func (p *parser) atList(field, path string, n *yaml.Node, offset int) {
	if r := resolve(n); r != nil && r.Kind == yaml.SequenceNode {
		for i, item := range r.Content {
			p.at(fmt.Sprintf("%s[%d]", field, offset+i), fmt.Sprintf("%s[%d]", path, i), item)
		}
		return
	}
	p.at(fmt.Sprintf("%s[%d]", field, offset), path, n)
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
// Where each group and each of its fallbacks was written is recorded
// under field: field[group] and field[group][i], i counting in the
// group's list merged from every entry that names it, as the router
// counts.
func (p *parser) fallbacks(n *yaml.Node, path, field string) (map[string][]string, error) {
	out := map[string][]string{}
	add := func(m *yaml.Node, mp string) error {
		return p.each(m, mp, func(key string, k, v *yaml.Node) error {
			kp, kf := mp+"."+key, field+"["+key+"]"
			list, err := p.strList(v, kp)
			if err != nil {
				return err
			}
			if _, ok := out[key]; !ok {
				p.at(kf, kp, k)
			}
			p.atList(kf, kp, v, len(out[key]))
			out[key] = append(out[key], list...)
			return nil
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
		p.at("Settings.RetryPolicy["+c.String()+"]", kp, v)
		return nil
	})
	return out, err
}

// routerSettings reads router_settings.
func (p *parser) routerSettings(n *yaml.Node) error {
	const sec = "router_settings"
	s := &p.cfg.Router.Settings
	err := p.each(n, sec, func(key string, k, v *yaml.Node) error {
		if handled, err := p.routing(sec, key, k, v); handled || err != nil {
			return err
		}
		kp := sec + "." + key
		var err error
		switch key {
		case "routing_strategy":
			s.RoutingStrategy, err = p.str(v, kp)
			p.at(settingFields[key], kp, v)
		case "routing_strategy_args":
			p.argsNode = v
			p.at(settingFields[key], kp, v)
			_ = p.each(v, kp, func(arg string, _, av *yaml.Node) error {
				p.at(settingFields[key]+"["+arg+"]", join(kp, arg), av)
				return nil
			})
			var args any
			args, err = p.generic(v, kp)
			if m, ok := args.(map[string]any); ok {
				s.RoutingStrategyArgs = m
			} else if err == nil && args != nil {
				err = p.errAt(v, kp, "expected a mapping, got %s", kindName(v))
			}
		case "model_group_alias":
			p.at(settingFields[key], kp, v)
			err = p.aliases(v, kp)
		case "enable_pre_call_checks":
			s.EnablePreCallChecks, err = p.boolean(v, kp)
			p.at(settingFields[key], kp, v)
		case "enable_mid_stream_fallback_continuation":
			// The name of LiteLLM's opt-in (its PR 41127): here the
			// stream goes on on another deployment of its own group.
			s.StreamResume.Enabled, err = p.boolean(v, kp)
			p.at(settingFields[key], kp, v)
		case "redis_host", "redis_port", "redis_password", "redis_url",
			"redis_startup_nodes", "service_name", "sentinel_nodes", "sentinel_password":
			err = p.redisSetting(key, k, v, kp)
		case "enable_tag_filtering":
			p.cfg.EnableTagFiltering, err = p.boolean(v, kp)
		default:
			p.warn(k, kp, "not supported, ignored")
		}
		return err
	})
	if err != nil {
		return err
	}
	return p.checkRedis(sec)
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
		r.Port, err = p.port(v, kp)
	case "redis_password":
		r.Password, err = p.str(v, kp)
	case "redis_url":
		r.URL, err = p.redisURL(v, kp)
	case "redis_startup_nodes":
		r.StartupNodes, err = p.redisNodes(v, kp, false)
	case "service_name":
		r.ServiceName, err = p.str(v, kp)
	case "sentinel_nodes":
		r.SentinelNodes, err = p.redisNodes(v, kp, true)
	case "sentinel_password":
		r.SentinelPassword, err = p.str(v, kp)
	}
	if err == nil && (r.ServiceName != "" || len(r.SentinelNodes) > 0) && len(r.StartupNodes) > 0 {
		err = p.errAt(k, kp, "both redis_startup_nodes (Cluster) and service_name/sentinel_nodes (Sentinel) are set; use one")
	}
	return err
}

// checkRedis checks what redisSetting cannot see key by key: Sentinel
// needs both its settings.
func (p *parser) checkRedis(kp string) error {
	r := p.cfg.Redis
	if r == nil || (r.ServiceName == "") == (len(r.SentinelNodes) == 0) {
		return nil
	}
	missing := "service_name"
	if r.ServiceName != "" {
		missing = "sentinel_nodes"
	}
	return &Error{File: p.file, Line: r.Line, Setting: join(kp, missing), Msg: "Sentinel needs both service_name and sentinel_nodes; " + missing + " is missing"}
}

// redisNodes reads LiteLLM's node lists as "host:port": redis_startup_nodes
// is [{host: h, port: p}, ...], sentinel_nodes [[h, p], ...]; each form is
// accepted in either place.
func (p *parser) redisNodes(n *yaml.Node, path string, pairs bool) ([]string, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	want := "a list of {host, port}"
	if pairs {
		want = "a list of [host, port]"
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, path, "expected %s, got %s", want, kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var hostN, portN *yaml.Node
		item = resolve(item)
		switch item.Kind {
		case yaml.MappingNode:
			err := p.each(item, ip, func(key string, _, v *yaml.Node) error {
				switch key {
				case "host":
					hostN = v
				case "port":
					portN = v
				default:
					return p.errAt(v, join(ip, key), "expected only host and port")
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		case yaml.SequenceNode:
			if len(item.Content) == 2 {
				hostN, portN = item.Content[0], item.Content[1]
			}
		}
		if hostN == nil || portN == nil {
			return nil, p.errAt(item, ip, "expected a node as {host: h, port: p} or [h, p], got %s", kindName(item))
		}
		host, err := p.str(hostN, ip+".host")
		if err == nil && host == "" {
			err = p.errAt(hostN, ip+".host", "empty host")
		}
		if err != nil {
			return nil, err
		}
		port, err := p.port(portN, ip+".port")
		if err == nil && port == 0 {
			err = p.errAt(portN, ip+".port", "expected a port (1 to 65535), got 0")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	if len(out) == 0 {
		return nil, p.errAt(n, path, "expected %s, got an empty list", want)
	}
	return out, nil
}

// port reads a TCP port.
func (p *parser) port(n *yaml.Node, path string) (int, error) {
	port, err := p.integer(n, path)
	if err == nil && (port < 0 || port > 65535) {
		err = p.errAt(n, path, "expected a port (1 to 65535), got %d", port)
	}
	return port, err
}

// redisURL reads a redis:// or rediss:// URL, checked as go-redis reads
// it.
func (p *parser) redisURL(n *yaml.Node, path string) (string, error) {
	u, err := p.str(n, path)
	if err != nil || u == "" {
		return u, err
	}
	if _, err := redis.ParseURL(u); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return "", p.errAt(n, path, "expected a redis:// or rediss:// URL, got %q: %v", redactURL(u), err)
	}
	return u, nil
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
		p.at("Aliases["+alias+"]", ap, v)
		if hidden {
			p.cfg.HiddenAliases = append(p.cfg.HiddenAliases, alias)
		} else {
			p.cfg.Aliases = append(p.cfg.Aliases, alias)
		}
		return nil
	})
}
