// Package respcache caches complete LLM API responses, so that a router
// answers a repeated request without calling a deployment: exact-match
// caching of chat, completions and embeddings answers, in memory or in
// Redis shared by the replicas of a service.
//
// A [Cache] (Get, Set, Delete) stores an [Entry] per key: [NewMemory] (a
// bounded LRU with a TTL per entry) or [NewRedis] (shared by replicas). A
// cache reads no clock: Get is given the time, and an entry's TTL runs from
// its StoredAt, so the router's clock is the only one. [Config] sizes a
// cache; every zero field has a documented default.
//
// [Prepare] turns a request into a key of its normalised body (field order,
// whitespace, number spelling, "stream", "user" and "metadata" do not
// matter; the model is replaced by its model group) and reads its
// per-request [Control]: LiteLLM's "cache" object (no-cache, no-store, ttl,
// s-maxage, namespace, use-cache), which it removes from the body sent
// upstream. A malformed "cache" object is a [ControlError]. [Replay] turns a
// cached chat completion into a stream of chat.completion.chunk events, so
// that streaming requests can be answered from the cache too.
//
// router.WithResponseCache(c, policy) wires a Cache into a Switchyard
// router; [Policy] says which endpoints and calls use it.
package respcache
