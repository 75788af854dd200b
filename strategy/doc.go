// Package strategy chooses one deployment among the healthy candidates of a
// model group: weighted shuffle, least-busy, lowest latency, most rate-limit
// headroom, lowest cost, composed with priority order. Strategies are
// registered by the names LiteLLM users already write in routing_strategy.
//
// [New] makes a strategy by name with LiteLLM's routing_strategy_args:
//
//	name                     picks                                      arguments
//	simple-shuffle (default) weighted random: weight, else rpm, else    seed
//	                         tpm, else uniform
//	least-busy               fewest calls in flight                     seed
//	latency-based-routing    lowest latency (TTFT for streams), random  lowest_latency_buffer, ttl,
//	                         within the buffer                          max_latency_list_size, seed
//	usage-based-routing(-v2) most rate-limit headroom                   seed
//	cost-based-routing       cheapest for the prompt and answer         expected_output_tokens, seed
//
// Ties are broken uniformly at random. "seed" makes the random choices
// reproducible, for tests. Latency samples older than "ttl" (default one
// minute) count as unmeasured; cost-based routing prices 256 output tokens
// when neither the request nor "expected_output_tokens" gives a size.
// [LowestOrder] filters candidates to the lowest Config.Order first, so
// priority composes with any strategy.
//
// A custom strategy implements [Strategy]. It can be handed to the router as
// a value, or registered with [Register] under a name of its own so that
// configuration selects it by name; a registered name, a built-in one
// above included, is never replaced.
//
// Pick runs on every call: the built-in strategies take no lock and
// allocate nothing, read each candidate's state with atomic loads, and make
// one pass over the candidates (two for simple-shuffle and for a latency
// buffer above 0). The random source is math/rand/v2's per-thread
// generator, or a lock-free seeded sequence.
package strategy
