package litellmconfig

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-go/switchyard/cache/sharedstate"
	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/router"
)

// Config is a LiteLLM config.yaml translated for Switchyard: the data,
// which a program may read or change before NewRouter, and what NewRouter
// and HandlerOptions wire from it. It remembers where the file wrote each
// field of Router, so that NewRouter's errors name the line; after changes
// to Router (an added deployment), errors about what was changed name no
// line. It holds secrets (API keys, the master key, Redis passwords);
// String prints it without them.
type Config struct {
	// Router is the router's configuration: model_list and the routing
	// parts of router_settings and litellm_settings.
	Router router.Config
	// DeploymentLines holds the line of each model_list entry, parallel to
	// Router.Deployments, for messages of the program's own about an
	// entry (NewRouter's errors name the line already).
	DeploymentLines []int
	// Aliases lists the model_group_alias names that are not hidden, for
	// the models list; HiddenAliases those written with hidden: true.
	Aliases, HiddenAliases []string

	// MasterKey is general_settings.master_key: the key clients must send.
	MasterKey string
	// EnableTagFiltering is router_settings.enable_tag_filtering: whether
	// a request's metadata.tags restrict it to deployments with those
	// tags. Off by default, as in LiteLLM, where tags otherwise serve
	// only for spend tracking.
	EnableTagFiltering bool
	// ForwardOpenAIOrgID is general_settings.forward_openai_org_id: forward
	// the client's OpenAI-Organization header upstream.
	ForwardOpenAIOrgID bool
	// MaxResponseBytes is general_settings.max_response_size_mb in bytes:
	// the largest non-streaming answer given to a client
	// (handler.WithMaxResponseBytes). Zero when not set: the client's
	// default (512 MiB).
	MaxResponseBytes int64
	// RequireAuthForMetrics is litellm_settings.require_auth_for_metrics_endpoint:
	// /metrics and /health/readiness, which name the deployments and their
	// upstream models, need the master key too.
	RequireAuthForMetrics bool

	// Redis is router_settings' redis_host/redis_port/redis_password or
	// redis_url: where LiteLLM keeps router state shared between
	// replicas. Nil when not configured.
	Redis *Redis
	// Cache is litellm_settings' cache and cache_params: the response
	// cache. Nil when cache is not true.
	Cache *Cache

	// Warnings list, once each, the settings read but not supported, by
	// name, with the line of their first use.
	Warnings []Warning

	// file is the file's name, for errors.
	file string
	// src records where the file wrote each field of Router, keyed by the
	// field's path as router.ConfigError names it ("Deployments[1].RPM"),
	// so that NewRouter's errors name the line.
	src map[string]source
}

// Redis says where a Redis server is.
type Redis struct {
	Host     string
	Port     int
	Password string
	// URL is a redis:// or rediss:// URL; it wins over Host and Port.
	URL string
	// StartupNodes is redis_startup_nodes ([{host, port}, ...]): the
	// seed nodes of a Redis Cluster, as "host:port". It wins over Host,
	// Port and URL.
	StartupNodes []string
	// ServiceName and SentinelNodes are service_name and sentinel_nodes
	// ([[host, port], ...]): the master a Sentinel group watches and the
	// Sentinels, as "host:port". They win over everything else;
	// SentinelPassword is sentinel_password, for the Sentinels.
	ServiceName      string
	SentinelNodes    []string
	SentinelPassword string
	// Line is where the setting was found.
	Line int
}

// String describes r without its password.
func (r Redis) String() string {
	pw := ""
	if r.Password != "" {
		pw = ", password: ***"
	}
	switch {
	case r.ServiceName != "" || len(r.SentinelNodes) > 0:
		return "redis{sentinel " + r.ServiceName + " " + strings.Join(r.SentinelNodes, ",") + pw + "}"
	case len(r.StartupNodes) > 0:
		return "redis{cluster " + strings.Join(r.StartupNodes, ",") + pw + "}"
	}
	if r.URL != "" {
		return "redis{url: " + redactURL(r.URL) + "}"
	}
	s := "redis{" + r.Host + ":" + strconv.Itoa(r.Port)
	if r.Password != "" {
		s += ", password: ***"
	}
	return s + "}"
}

// addr returns "host:port", with LiteLLM's default port 6379.
func (r *Redis) addr() string {
	port := r.Port
	if port == 0 {
		port = 6379
	}
	return r.Host + ":" + strconv.Itoa(port)
}

// config translates r for sharedstate.NewRedisStore.
func (r *Redis) config() sharedstate.RedisConfig {
	switch {
	case r.ServiceName != "" || len(r.SentinelNodes) > 0:
		return sharedstate.RedisConfig{MasterName: r.ServiceName, Addrs: r.SentinelNodes,
			Password: r.Password, SentinelPassword: r.SentinelPassword}
	case len(r.StartupNodes) > 0:
		return sharedstate.RedisConfig{Addrs: r.StartupNodes, Cluster: true, Password: r.Password}
	}
	if r.URL != "" {
		return sharedstate.RedisConfig{URL: r.URL}
	}
	return sharedstate.RedisConfig{Addr: r.addr(), Password: r.Password}
}

// sameServer reports whether r and o name the same Redis, with the same
// password.
func (r *Redis) sameServer(o *Redis) bool {
	return o != nil && r.URL == o.URL && r.addr() == o.addr() && r.Password == o.Password &&
		slices.Equal(r.StartupNodes, o.StartupNodes) && r.ServiceName == o.ServiceName &&
		slices.Equal(r.SentinelNodes, o.SentinelNodes) && r.SentinelPassword == o.SentinelPassword
}

// Cache is the response cache configuration (litellm_settings.cache_params).
type Cache struct {
	// Type is "local" or "redis" (LiteLLM also has "redis-semantic",
	// "qdrant-semantic", "s3" and "disk", which are reported as
	// unsupported). Default "redis", as in LiteLLM.
	Type string
	// Redis is set for Type "redis": cache_params' host, port, password
	// (or url).
	Redis *Redis
	// TTL is how long an answer is kept; 0 means the cache's default.
	TTL time.Duration
	// Namespace prefixes the cache keys.
	Namespace string
	// Line is where cache: true was found.
	Line int
}

// Warning is a setting that was read but is not supported.
type Warning struct {
	// Setting is the setting's path, such as
	// "router_settings.allowed_fails_policy" or
	// "model_list[].litellm_params.temperature".
	Setting string
	// Line is the line of its first occurrence.
	Line int
	// Count is how many times it occurs (in several model_list entries).
	Count int
	// Msg says what happens instead.
	Msg string
}

// String returns "line N: setting: msg".
func (w Warning) String() string {
	s := fmt.Sprintf("line %d: %s: %s", w.Line, w.Setting, w.Msg)
	if w.Count > 1 {
		s += fmt.Sprintf(" (%d occurrences)", w.Count)
	}
	return s
}

// String describes the configuration on a few lines without secrets.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d deployments", len(c.Router.Deployments))
	for _, d := range c.Router.Deployments {
		b.WriteString("\n  ")
		b.WriteString(d.String())
	}
	if c.MasterKey != "" {
		b.WriteString("\n  master_key: " + deployment.RedactKey(c.MasterKey))
	}
	if c.Redis != nil {
		b.WriteString("\n  " + c.Redis.String())
	}
	if c.Cache != nil {
		b.WriteString("\n  cache: " + c.Cache.Type)
	}
	return b.String()
}

// An Option configures Load and Parse.
type Option func(*parser)

// WithLookupEnv sets how "os.environ/NAME" values are read. Default
// os.LookupEnv. The gateway's --fake flag uses it to point the sample
// config at its fake upstreams.
func WithLookupEnv(f func(name string) (string, bool)) Option {
	return func(p *parser) {
		if f != nil {
			p.lookup = f
		}
	}
}

// WithFileName names the file in errors when parsing bytes.
func WithFileName(name string) Option {
	return func(p *parser) { p.file = name }
}

// Load reads and translates the config file at path.
func Load(path string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the file", Err: err}
	}
	return Parse(data, append([]Option{WithFileName(path)}, opts...)...)
}

// redactURL hides the password of a URL such as
// redis://user:secret@host:6379.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}
