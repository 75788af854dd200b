package router

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/strategy"
)

// An Option wires an object into a Router made by New: a client factory,
// hooks, a logger, a clock, a strategy, shared state, a response cache.
// What is data (limits, retries, fallbacks, timeouts) is in Config.
type Option func(*Router)

// Clock is the router's time: Now for cooldowns, rate limits, latencies
// and the ages of cached answers, and Sleep for the wait before a retry
// that has to wait. The router passes Now down to what it builds and
// wires (its deployments, the OpenAI clients of its default factory, the
// shared-state Syncer, the response cache's freshness checks, the
// handler's metrics), so a test that steps one fake clock steps them all.
// Per-attempt timeouts and the caller's deadline stay on the wall clock.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// wallClock is the default Clock: time.Now and a timer.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WithClock sets the router's clock (default: the wall clock). Tests pass
// a fake one whose Sleep advances its Now instead of sleeping.
func WithClock(c Clock) Option {
	return func(r *Router) {
		if c != nil {
			r.clock = c
		}
	}
}

// ClientFactory makes the provider.Client for one deployment.
type ClientFactory func(cfg deployment.Config) (provider.Client, error)

// WithClientFactory sets how a deployment's client is made. Default: an
// OpenAI-compatible client from provider/openai built from the
// deployment's config, on the router's clock.
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

// WithStrategy routes with s, a strategy value made by the caller, instead
// of the one Settings.RoutingStrategy names (which must then be empty or
// s's own Name). s is used by every call at once: it must be safe for
// concurrent use, and Pick must not allocate if the pick path is to stay
// allocation-free.
func WithStrategy(s strategy.Strategy) Option {
	return func(r *Router) { r.strat = s }
}

// A CallOption configures one call to Do or Stream.
type CallOption func(*callOptions)

// callOptions are the per-call settings. The zero value means "as the
// router is configured".
type callOptions struct {
	tags         []string
	timeout      time.Duration
	numRetries   *int
	header       http.Header
	metadata     map[string]string
	noFallbacks  bool
	promptTokens int
	cache        cacheCall
	resume       resumeCall
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
	n = max(n, 0)
	return func(o *callOptions) { o.numRetries = &n }
}

// WithHeader adds headers to every upstream request of this call; they win
// over the deployment's extra headers.
func WithHeader(h http.Header) CallOption {
	h = h.Clone()
	return func(o *callOptions) { o.header = h }
}

// WithMetadata attaches the caller's metadata to the call: a tenant, a
// user, a request id. It is not sent upstream; the hooks see it in
// AttemptInfo.Metadata and RequestInfo.Metadata, so that spend and latency
// can be attributed. Given more than once, the maps merge (later keys
// win).
func WithMetadata(md map[string]string) CallOption {
	md = maps.Clone(md)
	return func(o *callOptions) {
		if o.metadata == nil {
			o.metadata = md
			return
		}
		merged := maps.Clone(o.metadata)
		maps.Copy(merged, md)
		o.metadata = merged
	}
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

// WithStreamResume turns mid-stream recovery on or off for this call,
// whatever Settings.StreamResume.Enabled says: when a chat stream breaks
// after part of the answer reached the caller, the router continues it on
// another deployment of the group and splices the rest into the same
// StreamResult (see StreamResume). Other calls ignore it.
func WithStreamResume(on bool) CallOption {
	return func(o *callOptions) { o.resume.set, o.resume.on = true, on }
}
