// Package deployment describes one concrete upstream target (a model on one
// API key, organisation, Azure resource or OpenAI-compatible server) and
// keeps its live state: requests in flight, latency averages, the latest
// rate-limit snapshot, local usage, cooldown and circuit-breaker state.
package deployment
