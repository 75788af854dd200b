// Package cache points at the two packages in which a Switchyard router
// keeps state beyond one call, in memory or in Redis shared by replicas; it
// has no API of its own:
//
//   - [github.com/switchyard-go/switchyard/cache/sharedstate] shares each
//     deployment's usage, rate-limit snapshot, cooldown and in-flight count
//     between the replicas of a service (in memory or Redis), so that rpm
//     and tpm limits hold across them: router.WithSharedState.
//   - [github.com/switchyard-go/switchyard/cache/respcache] caches complete
//     responses (in memory or Redis) and replays a cached chat answer as a
//     stream: router.WithResponseCache.
package cache
