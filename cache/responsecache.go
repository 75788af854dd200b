package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard-go/switchyard/provider"
)

// Entry is a cached response. An Entry returned by a ResponseCache is
// shared: treat it as read-only.
type Entry struct {
	// Body is the response body as the caller saw it.
	Body []byte
	// Header holds the response headers worth replaying (see
	// [KeptHeaders]); rate-limit headers are not kept: they described the
	// upstream at the time, not now.
	Header http.Header
	// StoredAt is when the response was stored.
	StoredAt time.Time
}

// KeptHeaders are the response headers an Entry keeps.
var KeptHeaders = []string{"Content-Type", "Openai-Model", "Openai-Version", "Openai-Processing-Ms", "X-Request-Id"}

// NewEntry makes an Entry of a complete response, stored at now. It copies
// what it keeps.
func NewEntry(resp *provider.Response, now time.Time) *Entry {
	e := &Entry{Body: bytes.Clone(resp.Body), StoredAt: now}
	for _, k := range KeptHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			if e.Header == nil {
				e.Header = make(http.Header, len(KeptHeaders))
			}
			e.Header[k] = append([]string(nil), v...)
		}
	}
	return e
}

// Age returns how old the entry is at now.
func (e *Entry) Age(now time.Time) time.Duration { return now.Sub(e.StoredAt) }

// ResponseCache stores complete responses by [Key]. Implementations are
// safe for concurrent use. A miss is (nil, false, nil); an error means the
// cache could not be asked, which the router treats as a miss.
type ResponseCache interface {
	Get(ctx context.Context, key string) (*Entry, bool, error)
	// Set stores e for ttl (zero: the cache's default TTL).
	Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Response cache defaults.
const (
	DefaultResponseTTL     = 10 * time.Minute
	DefaultResponseEntries = 1000
	DefaultMaxEntryBytes   = 1 << 20
)

// ResponseCacheOption configures a response cache.
type ResponseCacheOption func(*responseCacheConfig)

type responseCacheConfig struct {
	ttl      time.Duration
	entries  int
	maxBytes int
	prefix   string
	timeout  time.Duration
	now      func() time.Time
}

// WithTTL sets the default time to live of an entry (default 10 min).
func WithTTL(d time.Duration) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.ttl = d }
}

// WithMaxEntries bounds the number of entries of a MemoryResponseCache
// (default 1000); the least recently used go first.
func WithMaxEntries(n int) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.entries = n }
}

// WithMaxEntryBytes sets the largest body stored (default 1 MiB); larger
// responses are not cached.
func WithMaxEntryBytes(n int) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.maxBytes = n }
}

// WithResponseClock sets the clock used for TTLs (default time.Now).
func WithResponseClock(now func() time.Time) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.now = now }
}

// WithKeyPrefix sets a RedisResponseCache's key prefix (default
// DefaultPrefix; keys are prefix + "resp:" + key).
func WithKeyPrefix(p string) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.prefix = p }
}

// WithResponseTimeout bounds each Redis call of a RedisResponseCache
// (default 50 ms), so that a slow Redis costs a miss, not a stall.
func WithResponseTimeout(d time.Duration) ResponseCacheOption {
	return func(c *responseCacheConfig) { c.timeout = d }
}

func newResponseCacheConfig(opts []ResponseCacheOption) responseCacheConfig {
	c := responseCacheConfig{}
	for _, o := range opts {
		o(&c)
	}
	if c.ttl <= 0 {
		c.ttl = DefaultResponseTTL
	}
	if c.entries <= 0 {
		c.entries = DefaultResponseEntries
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxEntryBytes
	}
	if c.prefix == "" {
		c.prefix = DefaultPrefix
	}
	if c.timeout <= 0 {
		c.timeout = DefaultSyncTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// MemoryResponseCache is a [ResponseCache] in process memory: an LRU
// bounded by entry count, with a deadline per entry checked on read (and
// expired entries evicted first by the LRU as they age). It starts no
// goroutine. It is safe for concurrent use.
//
// It uses golang-lru/v2's LRU rather than its expirable package, whose
// v2.0.7 cache starts a cleanup goroutine that can never be stopped, reads
// the wall clock, and has one TTL for all entries (per-request "ttl" needs
// one per entry).
type MemoryResponseCache struct {
	cfg responseCacheConfig
	mu  sync.Mutex // makes Get's check-then-remove atomic
	lru *lru.Cache[string, memResponse]
}

type memResponse struct {
	e   *Entry
	exp time.Time
}

// NewMemoryResponseCache returns an empty MemoryResponseCache.
func NewMemoryResponseCache(opts ...ResponseCacheOption) *MemoryResponseCache {
	cfg := newResponseCacheConfig(opts)
	c, _ := lru.New[string, memResponse](cfg.entries) // fails only for a size <= 0
	return &MemoryResponseCache{cfg: cfg, lru: c}
}

// Get implements [ResponseCache].
func (m *MemoryResponseCache) Get(ctx context.Context, key string) (*Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.lru.Get(key)
	if !ok {
		return nil, false, nil
	}
	if !m.cfg.now().Before(r.exp) {
		m.lru.Remove(key)
		return nil, false, nil
	}
	return r.e, true, nil
}

// Set implements [ResponseCache]. Bodies larger than the entry limit are
// not stored.
func (m *MemoryResponseCache) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if e == nil || len(e.Body) > m.cfg.maxBytes {
		return nil
	}
	if ttl <= 0 {
		ttl = m.cfg.ttl
	}
	m.mu.Lock()
	m.lru.Add(key, memResponse{e: e, exp: m.cfg.now().Add(ttl)})
	m.mu.Unlock()
	return nil
}

// Delete implements [ResponseCache].
func (m *MemoryResponseCache) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	m.lru.Remove(key)
	m.mu.Unlock()
	return nil
}

// Len returns the number of entries, expired ones not yet evicted
// included.
func (m *MemoryResponseCache) Len() int { return m.lru.Len() }

// RedisResponseCache is a [ResponseCache] in Redis, shared by replicas:
// one string per entry under prefix + "resp:" + key, expiring with its TTL
// (Redis evicts them; configure maxmemory-policy to bound the total). It is
// safe for concurrent use.
type RedisResponseCache struct {
	cfg    responseCacheConfig
	client redis.UniversalClient
}

// NewRedisResponseCache returns a response cache using client (not closed
// by the cache); share the client of a [RedisStore] with
// store.Client().
func NewRedisResponseCache(client redis.UniversalClient, opts ...ResponseCacheOption) *RedisResponseCache {
	return &RedisResponseCache{cfg: newResponseCacheConfig(opts), client: client}
}

func (r *RedisResponseCache) key(k string) string { return r.cfg.prefix + "resp:" + k }

// Get implements [ResponseCache].
func (r *RedisResponseCache) Get(ctx context.Context, key string) (*Entry, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	v, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &StoreError{Op: "get", Err: err}
	}
	e, err := decodeEntry(v)
	if err != nil {
		return nil, false, &StoreError{Op: "get", Err: err}
	}
	return e, true, nil
}

// Set implements [ResponseCache].
func (r *RedisResponseCache) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if e == nil || len(e.Body) > r.cfg.maxBytes {
		return nil
	}
	if ttl <= 0 {
		ttl = r.cfg.ttl
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	if err := r.client.Set(ctx, r.key(key), encodeEntry(e), ttl).Err(); err != nil {
		return &StoreError{Op: "set", Err: err}
	}
	return nil
}

// Delete implements [ResponseCache].
func (r *RedisResponseCache) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	if err := r.client.Del(ctx, r.key(key)).Err(); err != nil {
		return &StoreError{Op: "delete", Err: err}
	}
	return nil
}

// encodeEntry encodes an entry as "sy1\n<stored at, unix ns>\n<header
// JSON>\n<body>".
func encodeEntry(e *Entry) []byte {
	h, _ := json.Marshal(e.Header) // a map of string slices cannot fail
	b := make([]byte, 0, 32+len(h)+len(e.Body))
	b = append(b, "sy1\n"...)
	b = strconv.AppendInt(b, e.StoredAt.UnixNano(), 10)
	b = append(b, '\n')
	b = append(b, h...)
	b = append(b, '\n')
	return append(b, e.Body...)
}

func decodeEntry(v []byte) (*Entry, error) {
	rest, ok := bytes.CutPrefix(v, []byte("sy1\n"))
	if !ok {
		return nil, errCodec
	}
	ts, rest, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return nil, errCodec
	}
	n, err := strconv.ParseInt(string(ts), 10, 64)
	if err != nil {
		return nil, errCodec
	}
	hj, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return nil, errCodec
	}
	e := &Entry{StoredAt: time.Unix(0, n), Body: body}
	if err := json.Unmarshal(hj, &e.Header); err != nil {
		return nil, errCodec
	}
	return e, nil
}

var (
	_ ResponseCache = (*MemoryResponseCache)(nil)
	_ ResponseCache = (*RedisResponseCache)(nil)
)
