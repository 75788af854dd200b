package router

import (
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

// Hooks are observability callbacks. Each may be nil. They run on the
// goroutine that made the call (for a stream, the one that ends it), never
// under a lock, and must be safe for concurrent use.
type Hooks struct {
	// OnAttempt runs after each upstream call; for the stream that is
	// handed to the caller, when that stream ends or is closed.
	OnAttempt func(AttemptInfo)
	// OnRequest runs once per Do or Stream call, when it has an answer or
	// an error; for a stream handed to the caller, when it ends or is
	// closed.
	OnRequest func(RequestInfo)
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
	// Start is when the call began.
	Start time.Time
	// Latency is the call's duration (for a stream handed to the caller,
	// until it ended); TTFT the time to a stream's first event.
	Latency, TTFT time.Duration
	// Usage is the token usage the upstream reported.
	Usage provider.Usage
	// Cost is the usage priced with the deployment's model info, in US
	// dollars; 0 when prices are unknown.
	Cost float64
	// Err is the call's error, nil on success; Class and StatusCode
	// describe it.
	Err        error
	Class      provider.Class
	StatusCode int
	// Retry is the attempt's index within its model group (0 for the
	// first); Fallback the index of its group (0 for the requested one,
	// 1 for the first fallback group).
	Retry, Fallback int
	// WillRetry reports whether the router decided to try again, in the
	// same group or a fallback group. The next attempt may still not
	// happen when no deployment is left or the wait would be too long.
	WillRetry bool
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
	// Start is when the call began; Latency its total duration (for a
	// stream, until it ended); TTFT a stream's time to first event
	// measured from Start.
	Start         time.Time
	Latency, TTFT time.Duration
	// Attempts counts upstream calls; Retries and Fallbacks count the
	// retries within groups and the fallback groups tried.
	Attempts, Retries, Fallbacks int
	// Usage and Cost are those of the attempt that served the call.
	Usage provider.Usage
	Cost  float64
	// Err is the call's error, nil on success.
	Err error
	// CacheHit reports an answer from the response cache: no deployment
	// was called (Deployment is empty, Attempts 0, Cost 0; Usage is the
	// cached answer's).
	CacheHit bool
}

// cost prices usage at the given per-token prices.
func cost(u provider.Usage, in, out float64) float64 {
	return float64(u.PromptTokens)*in + float64(u.CompletionTokens)*out
}
