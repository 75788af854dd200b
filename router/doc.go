// Package router spreads LLM API calls over many deployments behind one
// model name: it picks a deployment with a strategy, retries on another one
// when a call fails, falls back to other model groups, and takes failing
// deployments out of rotation with cooldowns and circuit breakers.
//
// # Model groups
//
// A [Config] lists deployments (package deployment): one model on one API
// key, organisation, Azure resource or OpenAI-compatible server. Deployments
// with the same ModelName form a model group, and a caller asks for the
// group, or for an alias of it, as it would ask OpenAI for a model:
//
//	res, err := r.Do(ctx, &provider.Request{Endpoint: provider.EndpointChat, Model: "gpt-4o", Body: body})
//
// Do and Stream carry raw JSON bodies; package router/typed makes the same
// calls with the official OpenAI Go SDK's types (typed.Chat,
// typed.ChatStream, ...).
//
// # Picking a deployment
//
// For each attempt the router keeps the group's deployments that serve the
// call's tags (see [WithTags]) and are available now: not cooling down, not
// waiting for a circuit-breaker probe, under their rpm, tpm and
// max-parallel limits, not known to be exhausted upstream, and (with
// Settings.EnablePreCallChecks) with a context window large enough for the
// prompt. Of those it keeps the lowest Order, and the strategy (package
// strategy; Settings.RoutingStrategy) picks one. Picking takes no lock and
// allocates nothing.
//
// # The caller's mistakes
//
// A request the router can tell is wrong never reaches a deployment: a nil
// request or context, no endpoint, no model, a JSON endpoint whose body is
// not a JSON object, a transcription without its form, streamed
// embeddings. Do and Stream fail at once with a [*RequestError] naming the
// field (it matches provider.ErrBadRequest), with no attempt made and no
// attempt reported to the hooks. A model that is neither a group nor an
// alias fails with an [*UnknownModelError] listing the valid names.
//
// # Retries
//
// One policy, in one place (provider.Error.RetryScope decides the first
// point, the router the rest):
//
//   - Connection errors, timeouts, 408, 409, 429 and 5xx are retried, as
//     the OpenAI SDKs do; quota exhaustion, 401/403, 404 and unclassified
//     errors are retried only on another deployment. An upstream's
//     x-should-retry header overrides the status.
//   - The caller's own errors (400, context window, content policy,
//     cancellation) are never retried in the same group, and never count
//     against a deployment's health.
//   - A retry goes at once to another healthy deployment of the group, never
//     one that already failed during this call. Only when none is left does
//     the router wait: an exponential backoff (0.5s·2^n capped at 8s, up to
//     25% jitter subtracted), lengthened to the server's retry-after (when
//     0–60s), to the earliest end of a cooldown and to Settings.RetryAfter.
//     A wait longer than Settings.MaxRetryWait (default 2s, shorter than a
//     default cooldown, so that an outage fails fast instead of sitting
//     out cooldowns) or past the call's deadline is not made; the call
//     fails (or falls back) instead.
//   - Settings.NumRetries (default 2) bounds retries per group;
//     Settings.RetryPolicy sets it per error class; [WithNumRetries] per call.
//   - An attempt that hung until its timeout (no answer at all) is retried
//     at most once per call, and only on another deployment.
//   - The retry budget (Settings.RetryBudget, on by default) caps retries
//     across the router, as Envoy's does: at most 20% of the calls in
//     flight may be retrying at once (at least 3), and, so that fast
//     failures cannot turn those places over, retries add at most 20% of
//     the calls made (a lone caller may retry on credit). A call refused
//     a retry fails at once with its last error, marked
//     (Error.BudgetRefused, errors.Is [ErrRetryBudget],
//     AttemptInfo.BudgetRefused). Fallback groups are not held back.
//   - The final [*Error] counts the retries and fallbacks, says whether the
//     router's retries were spent (Error.RetriesSpent: a client should not
//     retry at once) and when a deployment is back (Error.RetryAt).
//   - When every deployment of a group is cooling down, the call fails with
//     a [*NoDeploymentError] (errors.Is ErrAllCoolingDown) saying when the
//     first comes back; with retries left and the return within
//     MaxRetryWait and the context's deadline, the router waits for it
//     instead (the wait uses one retry).
//   - Nothing is retried once any part of the answer reached the caller: a
//     stream after its first event, a passed-through body (see below) once
//     Do returned it. Such a failure is an error to the caller, never a
//     silent truncation.
//
// # Fallbacks
//
// When a group fails, the call moves to other groups, each with its own
// retries, at most Settings.MaxFallbacks of them: ContextWindowFallbacks
// for a prompt too long for the group, ContentPolicyFallbacks for content
// refused or filtered (including a 200 chat completion whose finish_reason
// is content_filter, when such a fallback exists), and Fallbacks (else
// DefaultFallbacks) for everything else except the caller's bad requests.
// The final error is an [*Error] that lists every attempt; errors.As
// reaches the last attempt's *provider.Error.
//
// # Timeouts and cancellation
//
// Each attempt is bounded by the call's [WithTimeout], else the
// deployment's Timeout, else Settings.Timeout (default 5 minutes); a
// stream's bound (StreamTimeout first) covers the time to its first event.
// The whole call (attempts, waits, fallbacks; a stream until it opens) is
// bounded by Settings.CallTimeout (default 10 minutes, LiteLLM's default
// request timeout) when the caller's context has no earlier deadline, so a
// hanging upstream costs at most one attempt's timeout plus one retry
// elsewhere, never the client's 10 minutes per attempt. [NoTimeout] turns
// either off. The caller's context bounds everything, streams included;
// when it ends, the attempt
// is not retried and not counted against the deployment, and its class
// says why: ClassCanceled for a cancellation, ClassTimeout for the
// context's deadline (as provider.ClassOf classifies them).
//
// # Streaming
//
// [Router.Stream] opens the upstream stream and reads its first event
// before returning, so a failure before the caller has seen anything is
// retried and falls back like any other. After that the stream is the
// caller's: a failure ends it with an error from Err, never a silent
// truncation. The attempt is ended exactly once, when the stream ends or is
// closed, with its latency, time to first token and usage; a stream the
// caller closes before its end is reported as closed early
// (AttemptInfo.ClosedEarly), with the usage seen so far. No goroutine is
// started per stream; a stream dropped without Close is closed when the
// garbage collector finds it, so it leaks neither its connection nor the
// deployment's in-flight count.
//
// # Mid-stream recovery
//
// With Settings.StreamResume (or [WithStreamResume] for one call), a chat
// stream that breaks after its first event (the connection cut, an error
// event, the stream timeout between chunks) is resumed instead: the router
// sends the original request to another deployment of the same group,
// never the one that broke, with the text delivered so far as a last
// assistant message marked as the provider expects ([Continuation]:
// "prefix": true for DeepSeek and Mistral, continue_final_message for vLLM,
// a plain message otherwise), and splices the continuation into the same
// StreamResult: same chunk id, created and model, no second role chunk,
// "switchyard_resumed": true on the first spliced chunk
// ([StreamResult.Seam]). Both attempts are reported to OnAttempt (the cut
// one with its error and WillRetry, the resume with Resumed and
// ResumedAfterChunks), each is charged to its deployment, and the caller's
// usage is their sum. A resume makes at most the retries the policy allows
// for the cut's class, on deployments not yet tried, and never waits; when
// none opens, the stream ends with the error that cut it. Streams with
// tool calls, reasoning or refusals, n > 1, a finish_reason already
// delivered, and non-chat streams (legacy completions, Responses) are
// never resumed; at most one resume per stream by default. Recovery is off
// by default: the cut attempt is still charged upstream. With it off, a
// stream that breaks ends with its error, as described above.
//
// # Large answers
//
// A Do call whose provider.Request sets PassThrough (router/handler sets it
// for every non-streaming call) may get a large answer as Result.Reader
// instead of Result.Body: the OpenAI client hands over an answer larger
// than its first 32 KiB as it arrives, so that a 100 MB embeddings answer
// is never held whole. The router reads it whole anyway when something
// needs the body: the response cache storing it, or a group's
// ContentPolicyFallbacks (whose finish_reason check reads chat and
// completion answers). Everything before the status and headers is
// retried as usual; a failure while the body flows ends it with an error
// from Read. Like a stream's, the attempt ends when the body has been read
// to its end, failed or been closed: the deployment counts it in flight
// until then, settles its tpm with the usage read from the body as it
// passed (the top-level "usage" object), and the hooks report it then.
// Request.MaxResponseBytes (router/handler's WithMaxResponseBytes) bounds
// the answer, whole or passed through.
//
// # Observability
//
// [Hooks] report every attempt and every request, with latency, time to
// first token, usage, cost and the cooldown an attempt started. They get
// the call's context, and the caller's metadata ([WithMetadata]), so that
// spend and latency can be attributed to a tenant or joined to a trace.
// Results carry the upstream's headers plus X-Switchyard-Model-Group,
// X-Switchyard-Deployment, X-Switchyard-Attempted-Retries and
// X-Switchyard-Attempted-Fallbacks. The router logs each attempt at debug
// level and each cooldown, once per incident, at warn level with log/slog.
//
// # Time
//
// The router keeps one [Clock] (WithClock; the wall clock by default) and
// passes it down to its deployments, the OpenAI clients it makes, shared
// state and the response cache, so that a test steps one fake clock for
// all of them.
//
// # Live updates
//
// [Router.AddDeployment], [Router.RemoveDeployment] and
// [Router.UpdateDeployment] change a running router. The deployments form
// an immutable snapshot behind an atomic pointer, rebuilt copy-on-write
// under a mutex held only for the rebuild; calls in flight keep the
// deployment they picked.
//
// # Replicas: shared state
//
// By default each router keeps its deployments' state in its own memory.
// Replicas of a service that share API keys share that state with
// [WithSharedState] and a sharedstate.RedisStore (cache/sharedstate): rpm and tpm
// limits then hold across all replicas together (in the default batched
// mode most calls make no Redis round trip: a replica spends small leases
// of each limit locally), and cooldowns and rate-limit headers seen by one
// replica reach the others within the sync interval (100 ms by default; a
// cooldown is pushed at once). A Redis that is down, slow or flapping never
// fails a call and never holds one longer than the sync timeout (50 ms):
// the router goes on from local state, reports the incident once to
// Hooks.OnSharedState, and shares again when Redis answers.
//
// # Response cache
//
// [WithResponseCache] answers repeated chat, completions and embeddings
// requests from a respcache.Cache (cache/respcache: in memory, or Redis shared by the
// replicas), keyed by model group and the normalised request; a streaming
// chat request can be answered by replaying a cached answer. Calls control
// it with LiteLLM's "cache" object in the body or with [WithCacheControl];
// answers from the cache carry
// Result.CacheHit, X-Switchyard-Cache-Hit: true and RequestInfo.CacheHit.
package router
