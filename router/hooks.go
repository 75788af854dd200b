package router

import (
	"context"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
)

// Hooks are observability callbacks. Each may be nil. They run on the
// goroutine that made the call (for a stream, the one that ends it), never
// under a lock, and must be safe for concurrent use.
//
// OnAttempt and OnRequest get the call's context, so that what a
// middleware put there (a tenant, a trace span) can be read, and the
// infos carry the caller's metadata (WithMetadata) for the same purpose.
type Hooks struct {
	// OnAttempt runs after each upstream call; for the stream that is
	// handed to the caller, when that stream ends or is closed.
	OnAttempt func(context.Context, AttemptInfo)
	// OnRequest runs once per Do or Stream call, when it has an answer or
	// an error; for a stream handed to the caller, when it ends or is
	// closed.
	OnRequest func(context.Context, RequestInfo)
	// OnSharedState runs once when the shared state of WithSharedState,
	// or the response cache of WithResponseCache, stops working, and once
	// when it works again; calls go on meanwhile from local state (or
	// without the cache). It may run on a background goroutine.
	OnSharedState func(SharedStateEvent)
}

// AttemptInfo describes one upstream call.
type AttemptInfo struct {
	// Model is what the caller asked for; ModelGroup the group the
	// deployment belongs to.
	Model, ModelGroup string
	// Deployment is the deployment's ID; UpstreamModel its provider model.
	Deployment, UpstreamModel string
	// Endpoint and Stream describe the call.
	Endpoint provider.Endpoint
	Stream   bool
	// Metadata is the caller's, from WithMetadata; it must not be
	// modified.
	Metadata map[string]string
	// Start is when the call began.
	Start time.Time
	// Latency is the call's duration (for a stream handed to the caller,
	// until it ended); TTFT the time to a stream's first event.
	Latency, TTFT time.Duration
	// Usage is the token usage the upstream reported (for a stream, what
	// it reported before it ended or was closed).
	Usage provider.Usage
	// Cost is the usage priced with the deployment's model info, in US
	// dollars; 0 when prices are unknown.
	Cost float64
	// StatusCode is the upstream's HTTP status (200 for a stream that
	// opened), 0 when none arrived.
	StatusCode int
	// Err is the call's error, nil on success; Class describes it.
	Err   error
	Class provider.Class
	// ClosedEarly reports a stream that the caller closed (or dropped)
	// before its end: not an error, and Usage is what was seen so far.
	ClosedEarly bool
	// Cooldown is set when this attempt put its deployment in cooldown, or
	// tripped its breaker and so lengthened a cooldown already running:
	// when the cooldown ends. Each incident is reported once.
	Cooldown time.Time
	// Retry is the attempt's index within its model group (0 for the
	// first); Fallback the index of its group (0 for the requested one,
	// 1 for the first fallback group).
	Retry, Fallback int
	// WillRetry reports whether the router decided to try again, in the
	// same group or a fallback group. The next attempt may still not
	// happen when no deployment is left or the wait would be too long.
	// For a stream cut midway it reports that the router will try to
	// resume it (see StreamResume).
	WillRetry bool
	// Resumed reports an attempt made to resume a stream that broke after
	// ResumedAfterChunks events had reached the caller (see StreamResume):
	// its request carried the partial answer, and its events were spliced
	// into the caller's stream.
	Resumed            bool
	ResumedAfterChunks int
	// UsageEstimated reports a Usage the router estimated because the
	// upstream reported none: a stream cut before its usage chunk, and
	// resumed (prompt and delivered text counted with provider/tokens).
	UsageEstimated bool
	// BudgetRefused reports that the retry policy allowed a retry after
	// this attempt but the retry budget (Settings.RetryBudget) refused it.
	BudgetRefused bool
}

// RequestInfo describes one Do or Stream call from start to end.
type RequestInfo struct {
	// Model is what the caller asked for.
	Model string
	// ModelGroup and Deployment served the call; empty when it failed
	// before reaching a group or a deployment.
	ModelGroup, Deployment string
	// Endpoint and Stream describe the call.
	Endpoint provider.Endpoint
	Stream   bool
	// Metadata is the caller's, from WithMetadata; it must not be
	// modified.
	Metadata map[string]string
	// Start is when the call began; Latency its total duration (for a
	// stream, until it ended); TTFT a stream's time to first event
	// measured from Start.
	Start         time.Time
	Latency, TTFT time.Duration
	// Attempts counts upstream calls; Retries and Fallbacks count the
	// retries within groups and the fallback groups tried.
	Attempts, Retries, Fallbacks int
	// Usage and Cost are those of the attempt that served the call; for
	// a resumed stream, of every attempt whose events reached the caller,
	// summed.
	Usage provider.Usage
	Cost  float64
	// Resumes counts the times a stream was resumed on another deployment
	// after it broke midway (see StreamResume).
	Resumes int
	// Err is the call's error, nil on success. A caller's mistake found
	// before any attempt is a *RequestError inside it.
	Err error
	// ClosedEarly reports a stream the caller closed before its end.
	ClosedEarly bool
	// BudgetRefused reports that the retry budget refused the call a
	// retry (see Error.BudgetRefused).
	BudgetRefused bool
	// CacheHit reports an answer from the response cache: no deployment
	// was called (Deployment is empty, Attempts 0, Cost 0; Usage is the
	// cached answer's).
	CacheHit bool
}

// cost prices usage at d's per-token prices.
func cost(u provider.Usage, d *deployment.Deployment) float64 {
	info := &d.Config().Info
	return float64(u.PromptTokens)*info.InputCostPerToken + float64(u.CompletionTokens)*info.OutputCostPerToken
}

// attemptHook reports attempt a on d: a failed one, or the one that
// served a Do call (a stream's is reported when it ends).
func (c *call) attemptHook(g *group, d *deployment.Deployment, a *attemptResult, retry, fallback int, willRetry bool) {
	h := c.r.hooks.OnAttempt
	if h == nil {
		return
	}
	info := AttemptInfo{
		Model: c.model, ModelGroup: g.name, Deployment: d.ID(), UpstreamModel: d.Config().Model,
		Endpoint: c.req.Endpoint, Stream: c.stream, Metadata: c.opts.metadata, Start: a.start,
		Latency: a.latency(), TTFT: a.ttft, StatusCode: a.status,
		Retry: retry, Fallback: fallback, WillRetry: willRetry, BudgetRefused: a.budgetRefused,
		Resumed: c.opts.resume.after > 0, ResumedAfterChunks: c.opts.resume.after,
	}
	info.Cooldown = announced(a.fx)
	if a.err != nil {
		info.Err, info.Class = a.err, a.err.Class
	} else {
		info.Usage, info.Cost = a.usage, cost(a.usage, d)
	}
	h(c.ctx, info)
}

// requestHook reports a call that ended with err (nil on success; a Do
// call, or a Stream call that failed to open).
func (c *call) requestHook(err error) {
	h := c.r.hooks.OnRequest
	if h == nil {
		return
	}
	info := RequestInfo{
		Model: c.model, Stream: c.stream, Metadata: c.opts.metadata,
		Start: c.start, Latency: c.r.clock.Now().Sub(c.start),
		Attempts: len(c.attempts), Retries: c.retries, Fallbacks: c.fallbacks, Err: err,
		BudgetRefused: c.budgetRefused,
	}
	if c.req != nil {
		info.Endpoint = c.req.Endpoint
	}
	if err == nil {
		s := &c.served
		info.ModelGroup, info.Deployment = s.group.name, s.dep.ID()
		info.Usage, info.Cost = s.usage, cost(s.usage, s.dep)
	}
	h(ctxOrBackground(c.ctx), info)
}

// ctxOrBackground is ctx, or context.Background for a call made with a nil
// context (which fails before any attempt), so that hooks always get one.
func ctxOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
