// Package sharedstate shares a router's per-deployment state between the
// replicas of a service (usage counters, the newest rate-limit snapshot of
// each deployment, cooldowns, in-flight counts), in memory or in Redis, so
// that rpm and tpm limits hold across all replicas together.
//
// A [Store] is the shared truth: [NewMemoryStore] (zero configuration, one
// process) or a [RedisStore] (every replica pointed at the same Redis,
// standalone, Cluster or Sentinel). Keys are namespaced by a prefix (default
// "switchyard:") and by deployment id, never by an API key, and every key
// carries a TTL so nothing accumulates. The Store interface is exactly what
// the Syncer needs: Lease (a reservation is a lease of one), Sync (one
// round trip pushing and reading back every deployment's state) and Take
// (the upstream's request budget, shared).
//
// On a Redis Cluster every key of a deployment carries the deployment id as
// a hash tag ("switchyard:{id}:u:..."): each script's keys sit in one slot,
// so no script fails with CROSSSLOT, and deployments spread over the
// masters; a Prefix with '{' or '}' is refused for that reason. Behind
// Sentinel the client follows the primary the Sentinels name. While a
// failover leaves no primary answering, the Syncer serves from local state
// and pushes what it counted to the new primary. .ci/redis-cluster.sh and
// .ci/redis-sentinel.sh start both on loopback for the integration tests
// (REDIS_CLUSTER_ADDRS, REDIS_SENTINEL_ADDRS, REDIS_SENTINEL_MASTER).
//
// Usage is counted in windows (one minute by default) with the sliding
// window approximation: the estimate at time t is the count of the current
// fixed window plus the previous window's count weighted by the part of the
// previous window still inside the trailing minute. Unlike LiteLLM's fixed
// calendar-minute counters it does not let a burst of 2N through around a
// minute boundary, and the count of any fixed window never exceeds the limit.
//
// A [Syncer] sits between the router and the Store and keeps the hot path
// cheap: in [SyncEveryRequest] mode each reservation is one atomic Lua call
// (exact across replicas, one round trip); in [SyncBatched] mode replicas
// lease small slices of each limit from the Store and serve from the lease
// locally, while snapshots, cooldowns, token corrections and in-flight
// counts are pushed and shared state refreshed in the background every
// interval (100 ms by default). When the Store is down, slow or flapping,
// no call waits longer than a short timeout (50 ms by default): the Syncer
// falls back to local state, reports the incident once, and resumes sharing
// when the Store answers again. A [Config] whose zero fields all have
// documented defaults configures it; its clock is Config.Now.
//
// The upstream's own request budget, as its x-ratelimit-* headers report
// it, is shared too: while the newest snapshot any replica read says it is
// nearly used up, every replica takes each request from one bucket in the
// Store that follows that snapshot ([Store.Take], one round trip), so that
// the replicas together send no more than the upstream refills, instead of
// each spending the whole refill its copy of the snapshot projects (see
// [Syncer.Reserve]).
//
// go-redis logs each failed dial through its own process-wide logger, as
// unstructured lines on standard error. [RouteRedisLogs] turns them into
// log/slog records; it replaces any logger set with redis.SetLogger, for
// every go-redis client in the process, so nothing calls it for you. The
// Syncer itself logs through log/slog, once when an incident starts and
// once when it ends.
//
// # Wiring into a router
//
// router.WithSharedState(store, cfg) does all of the following for a
// Switchyard router, with the router's clock. By hand, for another router:
//
//	sy := sharedstate.NewSyncer(store, sharedstate.Config{ // nil store: memory
//		Now:        clock.Now,
//		OnCooldown: func(id string, c sharedstate.Cooldown) { byID[id].SetCooldown(c.Until, c.Reason) },
//	})
//	defer sy.Close()
//
//	// per attempt, after the pick and before Deployment.Begin:
//	res, err := sy.Reserve(ctx, d.ID(), estTokens, sharedstate.Limits{RPM: rpm, TPM: tpm})
//	// *LimitError: the deployment is full across replicas, pick another
//	// after the upstream call (or res.Cancel() if it was never sent):
//	res.Done(actualTokens)
//	if s := d.Snapshot(); s != nil { sy.ObserveSnapshot(d.ID(), *s) }
//	if u := d.CooldownUntil(); u.After(now) { sy.SetCooldown(d.ID(), u, reason) }
package sharedstate
