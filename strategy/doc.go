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
// Ties are broken uniformly at random. "seed" (an integer) makes the random
// choices reproducible, for tests. [LowestOrder] filters candidates to the
// lowest Config.Order first, so priority composes with any strategy.
//
// # Built-in strategies
//
// simple-shuffle is a weighted random choice. The weight is Config.Weight
// when any candidate sets it, else Config.RPM when any sets it, else
// Config.TPM when any sets it; otherwise the choice is uniform. The field is
// chosen per candidate set, looking at every candidate (LiteLLM looks at the
// first one only), and a candidate that leaves the field unset gets the
// average weight of those that set it, so adding one without a weight gives
// it a normal share rather than none.
//
// least-busy picks the candidate with the fewest calls in flight
// (Deployment.InFlight), so that idle deployments share the load instead of
// the first one taking it.
//
// latency-based-routing picks the lowest latency average
// (Deployment.Latency, or Deployment.TTFT for streams), at random among
// those within (1+lowest_latency_buffer) of the best (a fraction >= 0,
// default 0), so that near-equal deployments share the load. A deployment
// whose latest sample is older than "ttl" (seconds or a duration string,
// default one minute; LiteLLM keeps an hour) or that was never measured
// counts as 0, so it is tried, while it has no call in flight; with calls in
// flight it keeps its old average (+Inf if none), so exploration sends it one
// call at a time, not a burst. As the average forgets old samples after a
// quiet spell (deployment.Settings.LatencyHalfLife), a single slow outlier
// does not starve a deployment for ever. "max_latency_list_size" is accepted
// for compatibility (a positive integer) and unused: the moving average
// replaces LiteLLM's sample list.
//
// usage-based-routing (alias usage-based-routing-v2) picks the most
// rate-limit headroom left (Deployment.Headroom), which combines the
// upstream's x-ratelimit headers projected to now, this router's own traffic
// since, and the configured rpm and tpm. Exhausted keys never reach it:
// Deployment.Available filters them. Headrooms within 1e-9 tie.
//
// cost-based-routing picks the cheapest candidate for the request, priced as
// PromptTokens·InputCostPerToken + OutputTokens·OutputCostPerToken from
// Config.Info (filled from provider/models). OutputTokens is the request's
// (PickInfo.OutputTokens), else "expected_output_tokens" (an integer > 0,
// default 256). With no size known at all it compares InputCostPerToken +
// OutputCostPerToken, as LiteLLM does. A deployment with no price (both
// costs 0) counts as the most expensive, as in LiteLLM: give a free
// deployment a tiny price to prefer it.
//
// # Large groups
//
// In a group of more than [SampleAbove] (32) deployments that share one
// Config.Order, the router does not filter and scan the whole group: it
// builds a [Pool] once per set of deployments and a [Sampler] draws from it,
// checking availability (a [Filter]) only for the deployments it draws, so
// a pick costs about the same at 1,000 deployments as at 40 (well under a
// microsecond) and allocates nothing. When 32 draws find nothing usable,
// Sample returns -1 and the router runs the exact scan, so a group with a
// single usable deployment still finds it. Smaller groups, and groups with
// several orders, keep the exact scan described above. How each strategy
// samples, and how far that departs from its exact rule:
//
//   - simple-shuffle draws by weight from an alias table (Vose) and retries
//     a draw that is not usable: rejection sampling, which gives each
//     usable deployment exactly its share of the usable weight. The one
//     deviation: the weight field, and the average weight given to a
//     deployment that sets none, come from the whole group rather than from
//     the usable ones.
//   - least-busy, latency-based-routing and usage-based-routing draw
//     deployments uniformly until they have 8 usable ones, and pick the best
//     of those (best of k): fewest in flight, lowest latency (with a buffer,
//     at random among the drawn ones within it), most headroom. The pick is
//     the best of a random sample, not of the group; in return the load
//     stays spread, which is what these strategies are for. Mitzenmacher's
//     power of two choices ("The Power of Two Choices in Randomized Load
//     Balancing", IEEE TPDS 2001; Azar, Broder, Karlin and Upfal 1994)
//     shows that placing each job on the less loaded of d >= 2 random
//     servers keeps the maximum load within ln ln n / ln d + O(1) of the
//     average, against ln n / ln ln n for one random choice, and close to
//     the greedy "globally least loaded" rule without its herding (every
//     concurrent pick rushing to the same deployment before its count
//     moves). In-flight calls, a latency average that rises with load and
//     headroom that falls with use are all such loads. A deployment worse
//     than all 8 drawn is never picked; one in the best eighth of the group
//     wins about 2 picks in 3.
//   - cost-based-routing prices each distinct price of the group once (up
//     to 8 distinct prices; a group of keys usually has one to three) and
//     draws uniformly among the deployments of the cheapest price, which is
//     exact; when 32 draws find none of them usable the exact scan decides.
//     With more than 8 prices it picks the cheapest of 8 usable draws.
//
// # Custom strategies
//
// A custom strategy implements [Strategy]. It can be handed to the router as
// a value, or registered with [Register] under a name of its own so that
// configuration selects it by name. A registered name, a built-in one above
// included, is never replaced.
//
// # Cost
//
// Pick runs on every call: the built-in strategies take no lock and
// allocate nothing, read each candidate's state with atomic loads, and make
// one pass over the candidates (two for simple-shuffle and for a latency
// buffer above 0). Sample (large groups) looks at no more than 32
// deployments. The random source is math/rand/v2's per-thread
// generator, or a lock-free seeded sequence.
package strategy
