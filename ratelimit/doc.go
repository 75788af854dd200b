// Package ratelimit reads an upstream's rate-limit headers into a [Snapshot]
// and keeps local request and token limits, so that the router can spend each
// API key's budget without being sent 429s.
//
// Parsing covers OpenAI's x-ratelimit-* set, Azure OpenAI's subset with
// retry-after-ms, retry-after in seconds or as an HTTP date, and
// Anthropic-style anthropic-ratelimit-* headers with RFC 3339 reset times.
// A missing or malformed value is [Unknown], never zero.
package ratelimit
