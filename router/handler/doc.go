// Package handler serves a [router.Router] over HTTP with OpenAI's API, so
// that any OpenAI client (the official SDKs, LangChain, curl) can use a
// Switchyard router as if it were OpenAI: the role LiteLLM's proxy plays
// for Python.
//
// A [Handler] serves, with and without the "/v1" prefix:
//
//	POST /v1/chat/completions      JSON or server-sent events ("stream": true)
//	POST /v1/completions           legacy completions, streaming too
//	POST /v1/embeddings
//	POST /v1/responses             JSON or named server-sent events
//	POST /v1/audio/transcriptions  multipart/form-data
//	GET  /v1/models, /v1/models/{id}
//	GET  /health                   liveness (also /health/liveness, /health/liveliness)
//	GET  /health/readiness         which deployments are healthy or cooling down
//	GET  /metrics                  Prometheus metrics, when [WithMetrics] is given
//
// Readiness and metrics name the deployments and their upstream models;
// [WithProtectedOps] or [WithOpsKeys] put them behind a key. Liveness is
// always open.
//
// Azure OpenAI clients are served too: POST
// /openai/deployments/{model}/{endpoint} takes the model from the path.
//
// # The hot path
//
// The handler reads the body once into a pooled buffer that grows with
// what arrives (a declared Content-Length reserves 64 KiB at most), waiting
// at most [WithBodyReadTimeout] between two reads, and decodes only
// "model", "stream" and "metadata.tags" from it, and hands the raw body to
// the router, which changes nothing but "model" on its way upstream.
// Answers are written as the upstream sent them, byte for byte, so fields
// this library does not model reach the client unchanged. Streams are
// relayed event by event and flushed as each arrives. A non-streaming
// answer larger than 32 KiB is passed through as it arrives (the handler
// sets provider.Request.PassThrough; see package router), with the
// upstream's Content-Length, so that the handler holds a 32 KiB buffer of
// it, not all of it; one that fails while it flows (cut upstream, or past
// [WithMaxResponseBytes]) cuts the client's connection
// (http.ErrAbortHandler), never a silently truncated answer.
//
// # Errors
//
// Every failure is answered in OpenAI's error shape,
// {"error": {"message", "type", "param", "code"}}, with a status a client
// can act on: the upstream's own status (and retry-after) when an upstream
// failed, 429 with retry-after when every deployment is cooling down (the
// message says which failure put each out and until when; the code is
// deployment_authentication_failed when upstream 401s did), 404
// listing the valid names for an unknown model, 400 for malformed JSON or a
// missing model, 413 for a body over the limit, 408 for a body that
// stopped arriving, 401 without a valid key, 503 once [Handler.Drain] was
// called, 502 response_too_large for an answer over
// [WithMaxResponseBytes]. Names a client sent (a model, a path, tags) are cut to a few
// hundred bytes in answers and logs. A client that goes away cancels the
// upstream call.
//
// # Shutdown
//
// [Handler.Drain] turns new requests away (503, Connection: close) and
// fails readiness while the calls in flight finish; follow it with
// http.Server.Shutdown.
//
// An error answered after routing says what the router already did, so
// that a client does not retry it again: X-Switchyard-Attempted-Retries
// and X-Switchyard-Attempted-Fallbacks, as on a success;
// x-should-retry: false when the router's retries were spent (or its retry
// budget refused one) and the status is one an SDK would retry (408, 409,
// 429, 5xx); and retry-after (and retry-after-ms) when a deployment is
// back at a known time. A retry refused by the budget also says so in the
// message. Caller mistakes (400s) keep their shape.
//
// # Client settings
//
// The router is the one place that retries. The official OpenAI SDKs honour
// x-should-retry, so their default retries add no load once the router
// gave up; to stop them retrying anything (connection errors to the
// gateway included), turn them off: option.WithMaxRetries(0) in openai-go,
// max_retries=0 in Python, maxRetries: 0 in Node. Give the client a timeout
// above the router's call deadline (router.Settings.CallTimeout, 10
// minutes by default) so the router's answer, not the client's own
// timeout, ends a slow call.
//
// # Metrics
//
// [NewMetrics] registers Prometheus collectors fed by router hooks: pass
// [Metrics.Hooks] to router.WithHooks and [WithMetrics] to [New].
// switchyard_retry_budget_refusals_total counts the calls the router's
// retry budget refused a retry.
package handler
