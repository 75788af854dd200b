package litellmconfig

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/cache/respcache"
	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/router"
	"github.com/switchyard-go/switchyard/router/handler"
)

// NewRouter makes the router the file describes, with what the file wires
// into it:
//
//   - router_settings' redis_host, redis_port, redis_password (or
//     redis_url) share rate limits, cooldowns and usage with the other
//     replicas: router.WithSharedState over a sharedstate.RedisStore;
//   - litellm_settings.cache answers repeated requests from a response
//     cache: router.WithResponseCache over respcache.NewMemory (type
//     local) or respcache.NewRedis (type redis, on the shared state's
//     connection when both name the same Redis), with cache_params' ttl
//     and namespace.
//
// opts come after these, so the caller's options win (a WithSharedState or
// WithResponseCache of the caller's replaces the file's); hooks, a logger
// or a clock are given here.
//
// The Redis connections NewRouter opens are its own, and the router's
// Close does not close them (a store may serve several routers), so
// NewRouter returns closeRouter, which closes the router and then them.
// Call it instead of the router's Close when done; it may be called more
// than once:
//
//	rt, closeRouter, err := cfg.NewRouter(router.WithLogger(log))
//	if err != nil {
//		return err // names the file, the line and the setting
//	}
//	defer closeRouter()
//
// Opening a connection does not wait for Redis: a router whose Redis is
// down routes on its own state until Redis answers (see
// router.WithSharedState). When the router refuses the configuration
// (possible even after Load: a client factory of the caller's, or the
// default one, refusing a deployment, such as an Azure model without
// api_version), the error is an *Error naming the file, the line and the
// setting, whose cause is the *router.ConfigError; NewRouter then closes
// what it opened.
func (c *Config) NewRouter(opts ...router.Option) (rt *router.Router, closeRouter func() error, err error) {
	var (
		wired   []router.Option
		closers []func() error
		state   *sharedstate.RedisStore
	)
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	if r := c.Redis; r != nil {
		s, err := sharedstate.NewRedisStore(r.config())
		if err != nil {
			return nil, nil, c.redisError(r, "router_settings", err)
		}
		state = s
		closers = append(closers, s.Close)
		wired = append(wired, router.WithSharedState(s, sharedstate.Config{}))
	}
	if ch := c.Cache; ch != nil {
		cc := respcache.Config{TTL: ch.TTL}
		var rc respcache.Cache
		if r := ch.Redis; ch.Type == "redis" && r != nil {
			var client redis.UniversalClient
			if state != nil && r.sameServer(c.Redis) {
				client = state.Client()
			} else {
				s, err := sharedstate.NewRedisStore(r.config())
				if err != nil {
					_ = closeAll()
					return nil, nil, c.redisError(r, "litellm_settings.cache_params", err)
				}
				closers = append(closers, s.Close)
				client = s.Client()
			}
			if ch.Namespace != "" {
				cc.Prefix = ch.Namespace + ":"
			}
			rc = respcache.NewRedis(client, cc)
		} else {
			rc = respcache.NewMemory(cc)
		}
		wired = append(wired, router.WithResponseCache(rc, respcache.Policy{TTL: ch.TTL}))
	}
	rt, err = router.New(c.Router, append(wired, opts...)...)
	if err != nil {
		_ = closeAll()
		return nil, nil, c.refused(err)
	}
	return rt, sync.OnceValue(func() error { return errors.Join(rt.Close(), closeAll()) }), nil
}

// redisError reports that the Redis settings of section were refused.
func (c *Config) redisError(r *Redis, section string, err error) error {
	setting := section + ".redis_host"
	if section != "router_settings" {
		setting = section + ".host"
	}
	if r.URL != "" {
		setting = section + ".redis_url"
		if section != "router_settings" {
			setting = section + ".url"
		}
	}
	return &Error{File: c.file, Line: r.Line, Setting: setting, Msg: err.Error(), Err: err}
}

// HandlerOptions returns the options of router/handler the file sets, for
// handler.New:
//
//   - general_settings.master_key is the key clients must send
//     (handler.WithKeys); without one the handler answers anyone;
//   - the model_group_alias names not marked hidden are listed in
//     /v1/models (handler.WithAliases);
//   - router_settings.enable_tag_filtering says whether a request's tags
//     restrict it to the deployments carrying them (handler.WithTagRouting;
//     off unless set, as in LiteLLM);
//   - general_settings.forward_openai_org_id forwards the client's
//     OpenAI-Organization header upstream (handler.WithForwardHeaders);
//   - general_settings.max_response_size_mb bounds each non-streaming
//     answer (handler.WithMaxResponseBytes).
//   - litellm_settings.require_auth_for_metrics_endpoint puts /metrics and
//     /health/readiness behind the master key (handler.WithProtectedOps).
//
// Give the caller's options after them, so that they win:
//
//	h := handler.New(rt, append(cfg.HandlerOptions(), handler.WithMetrics(m))...)
func (c *Config) HandlerOptions() []handler.Option {
	opts := []handler.Option{
		handler.WithAliases(c.Aliases...),
		handler.WithTagRouting(c.EnableTagFiltering),
	}
	if c.MasterKey != "" {
		opts = append(opts, handler.WithKeys(c.MasterKey))
	}
	if c.ForwardOpenAIOrgID {
		opts = append(opts, handler.WithForwardHeaders("OpenAI-Organization"))
	}
	if c.MaxResponseBytes > 0 {
		opts = append(opts, handler.WithMaxResponseBytes(c.MaxResponseBytes))
	}
	if c.RequireAuthForMetrics {
		opts = append(opts, handler.WithProtectedOps(true))
	}
	return opts
}

// validate checks Router as router.New does (deployments, aliases,
// fallbacks, the strategy and its arguments), so that Load refuses what
// NewRouter would, with the line. No client is made: the router's client
// factory, which NewRouter's caller may choose, checks the rest.
func (c *Config) validate() error {
	rt, err := router.New(c.Router, router.WithClientFactory(func(deployment.Config) (provider.Client, error) {
		return noClient{}, nil
	}))
	if err != nil {
		return c.refused(err)
	}
	return rt.Close()
}

// noClient is the client of the router validate makes, never called.
type noClient struct{}

var errNoClient = errors.New("litellmconfig: no client")

func (noClient) Do(context.Context, *provider.Request) (*provider.Response, error) {
	return nil, errNoClient
}

func (noClient) Stream(context.Context, *provider.Request) (provider.Stream, error) {
	return nil, errNoClient
}
