// Package cache holds the router state that replicas share (usage counters,
// rate-limit snapshots, cooldowns), in memory by default or in Redis, and
// caches responses.
package cache
