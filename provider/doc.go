// Package provider is the boundary between the router and an upstream LLM
// API: the [Client] interface the router calls once per attempt, the
// [Request], [Response], [Stream] and [Event] it exchanges, the [Usage] it
// counts, and the typed [Error] whose [Class] and [Error.RetryScope] tell
// the router whether to retry, where, whether to cool a deployment down and
// which fallbacks apply.
//
// Requests and responses carry the raw JSON bodies, so that every field the
// library does not model reaches the upstream, and every field the upstream
// sends reaches the caller, unchanged. A large answer may instead flow
// through as [Response].Reader, when the [Request] asks for PassThrough. Typed requests and responses are the
// official SDK's types (github.com/openai/openai-go/v3), used through the
// typed calls of package router/typed (typed.Chat, ...); this package does
// not decode bodies.
//
// # Errors
//
// Every failure a Client returns is an *Error; errors.As reads it and
// [ClassOf] reads the class of any error (context.DeadlineExceeded is
// ClassTimeout, context.Canceled ClassCanceled). Each ErrX sentinel
// matches one class with errors.Is: ErrBadRequest does not match the
// context window and content policy 400s, which have their own sentinels.
// To ask whether a failure is the caller's fault rather than the
// deployment's, use [Class.CallerFault].
//
// The OpenAI implementation (OpenAI, Azure OpenAI and any OpenAI-compatible
// server) lives in the openai sub-package; a fake upstream for tests lives in
// openaitest.
package provider
