// Package deployment describes one concrete upstream target (a model on one
// API key, organisation, Azure resource or OpenAI-compatible server) and
// keeps its live state: requests in flight, latency averages, the latest
// rate-limit snapshot, local usage, cooldown and circuit-breaker state.
//
// # Lifecycle of a call
//
// The router filters candidates with [Deployment.Available], lets a
// strategy pick one, then wraps the upstream call in [Deployment.Begin] and
// [Attempt.End]:
//
//	a, err := d.Begin(now, estTokens) // *UnavailableError if it cannot take the call
//	...                               // the upstream call
//	fx := a.End(time.Now(), deployment.Outcome{Err: err, Latency: lat, Header: resp.Header, Usage: resp.Usage})
//
// End returns its [Effects]: the cooldown it started or extended, whether it
// tripped or closed the breaker, the rate-limit snapshot it stored. The
// router logs, shares and counts those, rather than comparing the state
// before and after.
//
// Every method takes the time as an argument, as golang.org/x/time/rate
// does, so that tests step a fake clock instead of sleeping.
//
// # Health
//
// Errors count by their [provider.Class]. A caller's fault (bad request,
// context window, content policy, cancellation) and 409 never count. A 429
// with a retry hint or an exhausted budget in its headers cools the
// deployment down until then, without counting as a failure. 401/403 and
// insufficient_quota cool it down for [Settings.AuthCooldown] and
// [Settings.QuotaCooldown]. Any other failure counts, and more than
// [Settings.AllowedFails] of them within [Settings.FailureWindow] (LiteLLM's
// allowed_fails: that many are tolerated) cool it down for the cooldown
// time. After a breaker cooldown (or an auth or quota one) the deployment is
// half-open: a single probe call is admitted, whose success closes the
// breaker and whose failure opens it again. The breaker is sony/gobreaker's
// TwoStepCircuitBreaker; as gobreaker reads the wall clock, its open state
// lasts a nanosecond and the cooldown deadline, kept here with the caller's
// clock, gates the probe.
//
// # Rate limits
//
// [Deployment.Headroom] and the ReasonExhausted check combine the
// upstream's x-ratelimit-* headers (see package ratelimit), projected to
// now and less the calls this router began since they were read, with the
// local rpm and tpm limits of the config. A key whose headers say nothing is
// left is skipped until its reset rather than sent a call that would 429.
//
// # Concurrency
//
// A Deployment is safe for concurrent use. The pick-path reads take no lock
// and allocate nothing; Begin and End take short locks only when local
// limits are configured or a failure is counted.
package deployment
