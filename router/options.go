package router

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// ClientFactory makes the provider.Client for one deployment.
type ClientFactory func(cfg deployment.Config) (provider.Client, error)

// An Option configures a Router made by New.
type Option func(*Router)

// WithClock sets the clock used for cooldowns, rate limits, latencies and
// waits. Default time.Now. Tests pass a fake clock and a matching WithSleep.
func WithClock(now func() time.Time) Option {
	return func(r *Router) {
		if now != nil {
			r.now = now
		}
	}
}

// WithSleep sets how the router waits before a retry that has to wait. It
// must return early with ctx's error when ctx ends. Default: a timer. Tests
// pass a function that advances their fake clock instead of sleeping.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(r *Router) {
		if sleep != nil {
			r.sleep = sleep
		}
	}
}

// WithClientFactory sets how a deployment's client is made. Default: an
// OpenAI-compatible client from provider/openai built from the
// deployment's config.
func WithClientFactory(f ClientFactory) Option {
	return func(r *Router) {
		if f != nil {
			r.factory = f
		}
	}
}

// WithHooks sets observability callbacks, run after each attempt and each
// request. Hooks run on the caller's goroutine, never under a lock; they
// must be quick and safe for concurrent use.
func WithHooks(h Hooks) Option {
	return func(r *Router) { r.hooks = h }
}

// WithLogger sets the logger: debug records for each attempt, a warning when
// a deployment goes into cooldown. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(r *Router) {
		if l != nil {
			r.log = l
		}
	}
}

// WithRand seeds the random source used for retry jitter, so that waits
// are reproducible in tests. Default: a random seed.
func WithRand(seed uint64) Option {
	return func(r *Router) { r.jitter = newJitter(seed) }
}

// WithDeploymentSettings sets the health tracking of every deployment:
// failure window, auth and quota cooldowns, latency averaging. The
// router's Settings.AllowedFails and Settings.CooldownTime, when set, and
// its clock win over the fields of s.
func WithDeploymentSettings(s deployment.Settings) Option {
	return func(r *Router) { r.depSet = s }
}

// A CallOption configures one call to Do or Stream.
type CallOption func(*callOptions)

// callOptions are the per-call settings. The zero value means "as the
// router is configured".
type callOptions struct {
	tags          []string
	timeout       time.Duration
	numRetries    int
	hasNumRetries bool
	header        http.Header
	noFallbacks   bool
	promptTokens  int
	cache         cacheCall
}

// WithTags restricts the call to deployments carrying at least one of the
// tags (LiteLLM metadata.tags). When none carries any of them, deployments
// tagged "default" serve the call. A call without tags is served by the
// deployments tagged "default" when the group has any, else by all.
func WithTags(tags ...string) CallOption {
	tags = slices.Clone(tags)
	return func(o *callOptions) { o.tags = tags }
}

// WithTimeout bounds each attempt of this call (for a stream, until its
// first event). It wins over the deployment's and the router's timeouts.
// The caller's context still bounds the whole call.
func WithTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = d }
}

// WithNumRetries sets how many retries each model group gets for this
// call, for every error class; 0 turns retries off.
func WithNumRetries(n int) CallOption {
	return func(o *callOptions) {
		o.numRetries, o.hasNumRetries = max(n, 0), true
	}
}

// WithHeader adds headers to every upstream request of this call; they win
// over the deployment's extra headers.
func WithHeader(h http.Header) CallOption {
	h = h.Clone()
	return func(o *callOptions) { o.header = h }
}

// WithoutFallbacks keeps the call within the requested model group.
func WithoutFallbacks() CallOption {
	return func(o *callOptions) { o.noFallbacks = true }
}

// WithPromptTokens gives the prompt's token count, so that the router need
// not count it. The count is checked against each deployment's context
// window (even without Settings.EnablePreCallChecks: the caller said how
// long the prompt is) and reserved against tpm limits.
func WithPromptTokens(n int) CallOption {
	return func(o *callOptions) { o.promptTokens = max(n, 0) }
}
