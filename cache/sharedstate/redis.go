package sharedstate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// defaultPrefix namespaces every key Switchyard writes to Redis.
const defaultPrefix = "switchyard:"

// RedisConfig says how [NewRedisStore] reaches Redis. The zero value
// connects to 127.0.0.1:6379, database 0. Exactly one way of naming the
// server is used, first match wins: URL, MasterName (Sentinel), Addrs
// (Cluster when more than one, or when Cluster is set), Addr. To bring your
// own go-redis client, use [NewRedisStoreFromClient].
type RedisConfig struct {
	// URL is a redis:// or rediss:// (TLS) URL, such as
	// "redis://:password@host:6379/0". With Cluster set it may list more
	// nodes: "redis://host1:6379?addr=host2:6379".
	URL string

	// Addr is a single server's host:port.
	Addr string
	// Addrs are Cluster seed nodes, or Sentinel addresses with MasterName.
	Addrs []string
	// MasterName selects Sentinel: the name of the monitored master.
	MasterName string
	// Cluster forces Cluster mode even with one address.
	Cluster bool

	Username string
	Password string
	// SentinelPassword authenticates to the Sentinels, when they need it.
	SentinelPassword string
	// DB is the database number (not for Cluster).
	DB int
	// TLS, when non-nil, connects over TLS ("rediss://" URLs set it).
	TLS *tls.Config

	// Prefix namespaces every key; empty means "switchyard:". It may not
	// contain '{' or '}' (NewRedisStore refuses it), which would defeat the
	// per-deployment hash tags that spread deployments over Cluster slots
	// and keep each deployment's keys in one.
	Prefix string
	// Timeout bounds dialing, reading and writing; zero means one second.
	// Individual calls are further bounded by their context (the Syncer
	// uses 50 ms on the hot path).
	Timeout time.Duration
	// PoolSize is the connection pool size per node; zero means go-redis's
	// default (10 per CPU).
	PoolSize int
}

// String describes the configuration without the password.
func (c RedisConfig) String() string {
	var b strings.Builder
	b.WriteString("redis(")
	switch {
	case c.URL != "":
		b.WriteString(redactURL(c.URL))
	case c.MasterName != "":
		fmt.Fprintf(&b, "sentinel %s %v", c.MasterName, c.Addrs)
	case len(c.Addrs) > 0:
		fmt.Fprintf(&b, "%v", c.Addrs)
	default:
		b.WriteString(c.Addr)
	}
	fmt.Fprintf(&b, " prefix=%q)", c.prefix())
	return b.String()
}

// LogValue logs the configuration without the password.
func (c RedisConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "<invalid url>"
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

func (c RedisConfig) prefix() string {
	if c.Prefix == "" {
		return defaultPrefix
	}
	return c.Prefix
}

// universalOptions turns the configuration into go-redis options.
func (c RedisConfig) universalOptions() (*redis.UniversalOptions, error) {
	o := &redis.UniversalOptions{}
	switch {
	case c.URL != "" && c.Cluster:
		co, err := redis.ParseClusterURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("sharedstate: redis url: %w", err)
		}
		o.Addrs, o.Username, o.Password, o.TLSConfig = co.Addrs, co.Username, co.Password, co.TLSConfig
		o.IsClusterMode = true
	case c.URL != "":
		so, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, fmt.Errorf("sharedstate: redis url: %w", err)
		}
		o.Addrs, o.Username, o.Password, o.DB, o.TLSConfig = []string{so.Addr}, so.Username, so.Password, so.DB, so.TLSConfig
	case c.MasterName != "":
		if len(c.Addrs) == 0 {
			return nil, errors.New("sharedstate: redis: MasterName needs the Sentinel Addrs")
		}
		o.Addrs, o.MasterName = c.Addrs, c.MasterName
	case len(c.Addrs) > 0:
		o.Addrs, o.IsClusterMode = c.Addrs, c.Cluster || len(c.Addrs) > 1
	default:
		addr := c.Addr
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		o.Addrs, o.IsClusterMode = []string{addr}, c.Cluster
	}
	if c.URL == "" {
		o.Username, o.Password, o.DB = c.Username, c.Password, c.DB
	}
	if c.TLS != nil {
		o.TLSConfig = c.TLS
	}
	o.SentinelPassword = c.SentinelPassword
	t := c.Timeout
	if t <= 0 {
		t = time.Second
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t, t, t, t
	// One dial attempt per command: while Redis is down, go-redis's own
	// retries (5 by default, 100 ms apart) only add waiting and log lines.
	o.DialerRetries, o.DialerRetryTimeout = 1, 10*time.Millisecond
	o.ContextTimeoutEnabled = true // the Syncer's short per-call deadlines must reach the socket
	o.PoolSize = c.PoolSize
	// The scripts add to counters: a command that timed out may have run,
	// and running it again would count twice. The Syncer recovers from a
	// failed call by itself.
	o.MaxRetries = -1
	return o, nil
}

// RedisStore is a [Store] in Redis, shared by every replica that uses the
// same server (or Cluster, or Sentinel group) and prefix. Each operation is
// one Lua script on one deployment's keys; [RedisStore.Sync] pipelines one
// script per deployment in one round trip. It is safe for concurrent use.
// Key TTLs run on the server's clock; everything else takes its time from
// the Window of each call.
//
// Keys, for deployment id and prefix p:
//
//	p{id}:u:<window index>  hash r, t    usage of one window; TTL two windows + 10 s
//	p{id}:snap              string       newest rate-limit snapshot; TTL >= 10 min
//	p{id}:cd                string       cooldown; TTL until it ends + 1 min
//	p{id}:if                hash         in-flight count per replica; TTL 30 s
//	p{id}:up                hash l, a, o upstream request bucket (Take); TTL as the snapshot's
type RedisStore struct {
	client redis.UniversalClient
	owned  bool
	prefix string
}

// NewRedisStore connects to Redis as configured. It does not wait for the
// server: go-redis connects lazily and reconnects on its own, so a Store
// created while Redis is down starts working when Redis comes up. Check the
// connection with Client().Ping, or Sync with no ops.
func NewRedisStore(cfg RedisConfig) (*RedisStore, error) {
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("sharedstate: redis: Prefix %q contains '{' or '}', which would take the hash tag off the deployment id (on a Cluster: every deployment in one slot, or one deployment's keys in several, CROSSSLOT)", cfg.Prefix)
	}
	o, err := cfg.universalOptions()
	if err != nil {
		return nil, err
	}
	return &RedisStore{client: redis.NewUniversalClient(o), owned: true, prefix: cfg.prefix()}, nil
}

// NewRedisStoreFromClient wraps an existing, non-nil client (your own
// options, or one shared with a response cache); Close does not close it.
// An empty prefix means "switchyard:".
func NewRedisStoreFromClient(c redis.UniversalClient, prefix string) *RedisStore {
	return &RedisStore{client: c, prefix: RedisConfig{Prefix: prefix}.prefix()}
}

// Client returns the underlying go-redis client, for sharing with a
// response cache (respcache.NewRedis), adding hooks or pinging.
func (s *RedisStore) Client() redis.UniversalClient { return s.client }

// Close closes the client if NewRedisStore created it.
func (s *RedisStore) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

func (s *RedisStore) key(id, suffix string) string {
	return s.prefix + "{" + id + "}" + suffix
}

func (s *RedisStore) usageKeys(id string, w Window) []string {
	i := w.Index()
	return []string{
		s.key(id, ":u:"+strconv.FormatInt(i, 10)),
		s.key(id, ":u:"+strconv.FormatInt(i-1, 10)),
	}
}

func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// Lease implements [Store].
func (s *RedisStore) Lease(ctx context.Context, id string, w Window, want, min Usage, lim Limits) (Usage, Usage, error) {
	res, err := reserveScript.Run(ctx, s.client, s.usageKeys(id, w),
		want.Requests, want.Tokens, min.Requests, min.Tokens, lim.RPM, lim.TPM, w.prevWeight(), ms(w.ttl())).Int64Slice()
	if err != nil {
		return Usage{}, Usage{}, &StoreError{Op: "lease", Err: err}
	}
	if len(res) != 4 {
		return Usage{}, Usage{}, &StoreError{Op: "lease", Err: fmt.Errorf("unexpected reply %v", res)}
	}
	return Usage{Requests: res[0], Tokens: res[1]}, Usage{Requests: res[2], Tokens: res[3]}, nil
}

// Take implements [Store]: one script call.
func (s *RedisStore) Take(ctx context.Context, id string, w Window, snap ratelimit.Snapshot, n int64) (bool, time.Duration, error) {
	enc, ttl := "", ms(10*time.Minute)
	if !snap.ObservedAt.IsZero() {
		enc, ttl = encodeSnapshot(snap), ms(snapshotTTL(snap))
	}
	res, err := takeScript.Run(ctx, s.client, []string{s.key(id, ":snap"), s.key(id, ":up")},
		enc, ttl, w.At.UnixMilli(), n, ratelimit.AssumedWindow.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, &StoreError{Op: "take", Err: err}
	}
	if len(res) != 2 {
		return false, 0, &StoreError{Op: "take", Err: fmt.Errorf("unexpected reply %v", res)}
	}
	return res[0] == 1, waitDuration(float64(res[1])), nil
}

// Sync implements [Store]: one pipeline, one script call per op.
func (s *RedisStore) Sync(ctx context.Context, w Window, ops []SyncOp) error {
	if len(ops) == 0 {
		if err := s.client.Ping(ctx).Err(); err != nil {
			return &StoreError{Op: "sync", Err: err}
		}
		return nil
	}
	return s.sync(ctx, w, ops)
}

func (s *RedisStore) syncArgs(w Window, op *SyncOp) ([]string, []any) {
	keys := append(s.usageKeys(op.ID, w), s.key(op.ID, ":snap"), s.key(op.ID, ":cd"), s.key(op.ID, ":if"))
	snap, snapTTL := "", int64(0)
	if op.HasSnapshot {
		snap, snapTTL = encodeSnapshot(op.Snapshot), ms(snapshotTTL(op.Snapshot))
	}
	cd, cdTTL := "", int64(0)
	if !op.Cooldown.Until.IsZero() {
		cd, cdTTL = encodeCooldown(op.Cooldown), ms(cooldownTTL(w.At, op.Cooldown.Until))
	}
	args := []any{
		op.Incr.Requests, op.Incr.Tokens, op.IncrPrev.Requests, op.IncrPrev.Tokens, ms(w.ttl()),
		snap, snapTTL, cd, cdTTL,
		op.Replica, op.InFlight, w.At.UnixMilli(), inFlightTTL.Milliseconds(),
	}
	return keys, args
}

func (s *RedisStore) sync(ctx context.Context, w Window, ops []SyncOp) error {
	cmds := make([]*redis.Cmd, len(ops))
	pipe := s.client.Pipeline()
	for i := range ops {
		keys, args := s.syncArgs(w, &ops[i])
		cmds[i] = syncScript.EvalSha(ctx, pipe, keys, args...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below
	// Scripts missing from the server's cache (after a restart or a
	// SCRIPT FLUSH) are sent in full; the ones that ran are not repeated.
	var retry []int
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		pipe := s.client.Pipeline()
		for _, i := range retry {
			keys, args := s.syncArgs(w, &ops[i])
			cmds[i] = syncScript.Eval(ctx, pipe, keys, args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	wt := w.prevWeight()
	var firstErr error
	for i, c := range cmds {
		err := s.readSync(c, wt, &ops[i])
		ops[i].Err = err
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return &StoreError{Op: "sync", Err: firstErr}
	}
	return nil
}

func (s *RedisStore) readSync(c *redis.Cmd, wt int64, op *SyncOp) error {
	res, err := c.Slice()
	if err != nil {
		return err
	}
	if len(res) != 7 {
		return fmt.Errorf("unexpected reply of %d values", len(res))
	}
	var n [4]int64
	for i := range n {
		v, ok := res[i].(int64)
		if !ok {
			return fmt.Errorf("unexpected reply %v", res)
		}
		n[i] = v
	}
	op.Usage = Usage{Requests: estimate(n[0], n[2], wt), Tokens: estimate(n[1], n[3], wt)}
	op.SharedSnapshot, op.HasSharedSnapshot = ratelimit.Snapshot{}, false
	if v, _ := res[4].(string); v != "" {
		snap, err := decodeSnapshot(v)
		if err != nil {
			return fmt.Errorf("snapshot of %q: %w", op.ID, err)
		}
		op.SharedSnapshot, op.HasSharedSnapshot = snap, true
	}
	op.SharedCooldown = Cooldown{}
	if v, _ := res[5].(string); v != "" {
		cd, err := decodeCooldown(v)
		if err != nil {
			return fmt.Errorf("cooldown of %q: %w", op.ID, err)
		}
		op.SharedCooldown = cd
	}
	op.SharedInFlight, _ = res[6].(int64)
	return nil
}

var _ Store = (*RedisStore)(nil)
