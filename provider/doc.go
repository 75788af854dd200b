// Package provider is the boundary between the router and an upstream LLM API:
// a small [Client] interface that the router calls once per attempt, the
// wire-level [Request], [Response] and [Stream] types it exchanges, and the
// typed [Error] with its [Class], which tells the router whether to retry,
// cool a deployment down or fall back.
//
// Requests and responses carry the raw JSON bodies, so that every field the
// library does not model reaches the upstream, and every field the upstream
// sends reaches the caller, unchanged. For typed requests and answers, the
// helpers of package router/typed (typed.Chat, ...) take and return the
// official OpenAI Go SDK's types (github.com/openai/openai-go/v3).
//
// The OpenAI implementation (OpenAI, Azure OpenAI and any OpenAI-compatible
// server) lives in the openai sub-package; a fake upstream for tests lives in
// openaitest.
package provider
