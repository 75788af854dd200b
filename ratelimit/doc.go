// Package ratelimit reads an upstream's rate-limit headers into a [Snapshot]
// and keeps local request and token limits, so that the router can spend each
// API key's budget without being sent 429s.
//
// [Parse] covers OpenAI's x-ratelimit-* set, Azure OpenAI's subset with
// retry-after-ms, retry-after in seconds or as an HTTP date, and
// Anthropic-style anthropic-ratelimit-* headers with RFC 3339 reset times.
// A missing or malformed value is [Unknown], never zero. [ParseDuration] and
// [ParseRetryAfter] are the same readers, for error responses.
//
// A Snapshot is a picture taken at one instant. [Snapshot.RequestsLeftAt]
// and [Snapshot.TokensLeftAt] project it forward, since OpenAI's buckets
// refill continuously until the reset time, and [Snapshot.ExhaustedUntil]
// says how long a key with nothing left should be skipped. All of these run
// on the router's hot path and do not allocate.
//
// A [Limiter] enforces a deployment's configured rpm and tpm on this
// router's own traffic with token buckets from golang.org/x/time/rate. Like
// rate.Limiter, it takes the time as an argument: [Limiter.Reserve] takes a
// request and its estimated tokens before a call, and the [Reservation] is
// settled with the real usage after it, or canceled if the call was never
// sent.
package ratelimit
