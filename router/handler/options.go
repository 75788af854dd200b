package handler

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard-go/switchyard/router"
)

// Default body limits.
const (
	// DefaultMaxBodyBytes bounds a JSON request body: room for a few
	// base64 images or a PDF in a chat request.
	DefaultMaxBodyBytes = 20 << 20
	// DefaultMaxUploadBytes bounds a multipart upload (an audio
	// transcription); OpenAI accepts files up to 25 MB.
	DefaultMaxUploadBytes = 32 << 20
	// DefaultBodyReadTimeout bounds the wait between two reads of a
	// request body (nginx's client_body_timeout is 60 s).
	DefaultBodyReadTimeout = 30 * time.Second
)

// An Option configures a Handler made by New.
type Option func(*Handler)

// WithKeys requires every request (health endpoints excepted) to carry one
// of keys, as "Authorization: Bearer <key>" or "api-key: <key>". Requests
// without a valid key are refused with 401. Empty keys are ignored; with
// no non-empty key, nothing is required. The option may be given more
// than once; the keys add up. Keys are kept only as SHA-256 digests and
// never logged.
func WithKeys(keys ...string) Option {
	return func(h *Handler) {
		for _, k := range keys {
			if k != "" {
				h.auth.add(k)
			}
		}
	}
}

// WithTagRouting sets whether a request's tags (metadata.tags in the
// body, or the X-Switchyard-Tags header) restrict it to the deployments
// carrying them (router.WithTags). Default true. With it off, tags are
// still removed from the body sent upstream, as LiteLLM does when its
// enable_tag_filtering is off (tags then serve only for bookkeeping).
func WithTagRouting(on bool) Option {
	return func(h *Handler) { h.tagRouting = on }
}

// WithMaxBodyBytes bounds JSON request bodies; a larger body is refused
// with 413. Default DefaultMaxBodyBytes; n <= 0 keeps the default.
func WithMaxBodyBytes(n int64) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// WithMaxResponseBytes bounds a non-streaming answer (router
// provider.Request.MaxResponseBytes): an answer declared larger fails with
// 502 and code response_too_large, naming the limit; one that grows past it
// while it is passed through is cut (the connection is closed, never a
// silently truncated answer). Default, or n <= 0: the deployment client's
// own limit (512 MiB for provider/openai).
func WithMaxResponseBytes(n int64) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxResponse = n
		}
	}
}

// WithMaxUploadBytes bounds multipart request bodies (audio
// transcriptions); a larger body is refused with 413. Default
// DefaultMaxUploadBytes; n <= 0 keeps the default.
func WithMaxUploadBytes(n int64) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxUpload = n
		}
	}
}

// WithBodyReadTimeout bounds the wait between two reads of a request
// body: a client that sends nothing more of its body for d is answered 408
// (code body_read_timeout) and its connection closed. The bound is reset
// by every read that brings bytes, so a long upload that keeps arriving is
// never cut, while one that declares a large body and stalls holds its
// connection (and the few bytes it sent) for d at most. It is a read
// deadline on the connection (http.ResponseController.SetReadDeadline),
// set while the body is read and cleared after, so it does not limit how
// long the answer takes. Clearing it also lifts http.Server's ReadTimeout
// for the rest of the request; that timeout, which bounds the whole body,
// is best left unset. Default DefaultBodyReadTimeout; d == 0 keeps
// the default; d < 0 turns the bound off. Behind a ResponseWriter that
// cannot set read deadlines (one that wraps the server's without an
// Unwrap method) there is no bound.
func WithBodyReadTimeout(d time.Duration) Option {
	return func(h *Handler) {
		if d != 0 {
			h.bodyTimeout = d
		}
	}
}

// WithRateLimitHeaders sets whether the upstream's rate-limit headers
// (x-ratelimit-*, anthropic-ratelimit-*) are given back to the client.
// Default true. retry-after and retry-after-ms on error answers are always
// given back: a client needs them to back off.
func WithRateLimitHeaders(on bool) Option {
	return func(h *Handler) { h.rateLimitHeaders = on }
}

// WithProviderHeaders sets whether every upstream response header is also
// given back with an "llm_provider-" prefix, as LiteLLM's proxy does
// ("llm_provider-x-request-id"). Default false.
func WithProviderHeaders(on bool) Option {
	return func(h *Handler) { h.providerHeaders = on }
}

// WithForwardHeaders forwards the named request headers from the client to
// the upstream, such as "OpenAI-Organization" (LiteLLM's
// forward_openai_org_id). By default no client header is forwarded: the
// deployment's own credentials and headers apply.
func WithForwardHeaders(names ...string) Option {
	return func(h *Handler) {
		for _, n := range names {
			n = http.CanonicalHeaderKey(n)
			if n != "" && !slices.Contains(h.forward, n) {
				h.forward = append(h.forward, n)
			}
		}
	}
}

// WithAliases lists extra model names (aliases of model groups) in
// /v1/models and in the message for an unknown model. Hidden aliases are
// simply not given here. Default none: only model groups are listed.
func WithAliases(names ...string) Option {
	return func(h *Handler) {
		for _, n := range names {
			if n != "" && !slices.Contains(h.aliases, n) {
				h.aliases = append(h.aliases, n)
			}
		}
	}
}

// WithProtectedOps sets whether /metrics and /health/readiness, which name
// the deployments, their upstream models and their health, require a key
// as the API does: one of WithOpsKeys when any is given, else one of
// WithKeys; with no key configured at all they refuse every request. The
// key is sent as for the API ("Authorization: Bearer <key>", which a
// Prometheus scrape config gives as authorization.credentials). Liveness
// (/health, /health/liveness) stays open for probes. Default false: open,
// as Prometheus scrapes usually are (LiteLLM's
// litellm_settings.require_auth_for_metrics_endpoint is this option).
func WithProtectedOps(on bool) Option {
	return func(h *Handler) { h.opsProtected = on }
}

// WithOpsKeys gives the keys that open /metrics and /health/readiness and
// turns their protection on (WithProtectedOps): a scraper then needs no
// API key, and API keys do not open them. Empty keys are ignored; the
// option may be given more than once. Keys are kept as SHA-256 digests.
func WithOpsKeys(keys ...string) Option {
	return func(h *Handler) {
		for _, k := range keys {
			if k != "" {
				h.opsKeys.add(k)
				h.opsProtected = true
			}
		}
	}
}

// WithMetrics serves m at /metrics (open unless WithProtectedOps or
// WithOpsKeys is given), counts the handler's own refusals (401, 400, 413) in it, and
// points its gauges (in flight, available, cooldown left) at the handler's
// router. m's Hooks must also be given to that router (router.WithHooks)
// for the request and attempt counts.
func WithMetrics(m *Metrics) Option {
	return func(h *Handler) { h.metrics = m }
}

// WithLogger sets the logger for failed requests (at debug level for the
// caller's errors, warn for upstream and routing failures). Keys are never
// logged. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) {
		if l != nil {
			h.log = l
		}
	}
}

// WithCallOptions sets a function that maps each API request to router
// call options: a per-request timeout, retries, tags or metadata (a
// tenant a middleware authenticated, a request id) from its headers or its
// context. They are applied after the handler's own (tags from the body or
// X-Switchyard-Tags, forwarded headers), so they win. f runs once per
// request, on its goroutine; a nil f (the default) adds nothing.
//
//	handler.WithCallOptions(func(r *http.Request) []router.CallOption {
//		return []router.CallOption{router.WithMetadata(map[string]string{"tenant": tenantOf(r.Context())})}
//	})
func WithCallOptions(f func(*http.Request) []router.CallOption) Option {
	return func(h *Handler) { h.callOptions = f }
}
