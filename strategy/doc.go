// Package strategy chooses one deployment among the healthy candidates of a
// model group: weighted shuffle, least-busy, lowest latency, most rate-limit
// headroom, lowest cost, composed with priority order. Strategies are
// registered by the names LiteLLM users already write in routing_strategy.
package strategy
