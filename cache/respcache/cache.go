package respcache

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/switchyard-go/switchyard/internal/usage"
	"github.com/switchyard-go/switchyard/provider"
)

// Cache stores complete responses by the key [Prepare] computes.
// Implementations are safe for concurrent use. A miss is (nil, false,
// nil); an error means the cache could not be asked, which the router
// treats as a miss. Times come from the caller (Get's now, Set's
// e.StoredAt), so a cache reads no clock of its own and tests need only
// the router's.
type Cache interface {
	// Get returns the entry stored under key unless it has expired at now.
	Get(ctx context.Context, key string, now time.Time) (*Entry, bool, error)
	// Set stores e under key for ttl from e.StoredAt (zero ttl: the
	// cache's default TTL).
	Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error
	// Delete removes the entry stored under key, if any.
	Delete(ctx context.Context, key string) error
}

// Entry is a cached response. An Entry returned by a Cache is shared:
// treat it as read-only.
type Entry struct {
	// Body is the response body as the caller saw it.
	Body []byte
	// Header holds the response headers worth replaying (Content-Type,
	// Openai-Model, Openai-Version, Openai-Processing-Ms, X-Request-Id);
	// rate-limit headers are not kept: they described the upstream at the
	// time, not now.
	Header http.Header
	// StoredAt is when the response was stored; its TTL runs from then.
	StoredAt time.Time
}

// Usage reads the token usage of the cached answer from its body; zero
// when the body reports none.
func (e *Entry) Usage() provider.Usage { return usage.FromBody(e.Body) }

// keptHeaders are the response headers an Entry keeps.
var keptHeaders = []string{"Content-Type", "Openai-Model", "Openai-Version", "Openai-Processing-Ms", "X-Request-Id"}

// NewEntry makes an Entry of a complete response, stored at now. It copies
// what it keeps.
func NewEntry(resp *provider.Response, now time.Time) *Entry {
	e := &Entry{Body: bytes.Clone(resp.Body), StoredAt: now}
	for _, k := range keptHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			if e.Header == nil {
				e.Header = make(http.Header, len(keptHeaders))
			}
			e.Header[k] = append([]string(nil), v...)
		}
	}
	return e
}

// Defaults of a Config.
const (
	defaultTTL           = 10 * time.Minute
	defaultMaxEntries    = 1000
	defaultMaxEntryBytes = 1 << 20
	defaultPrefix        = "switchyard:"
	defaultTimeout       = 50 * time.Millisecond
)

// Config configures a cache made by [NewMemory] or [NewRedis]. Every zero
// field has the default its comment gives; the zero Config is ready to
// use.
type Config struct {
	// TTL is how long an entry is kept when Set is given none; zero means
	// ten minutes.
	TTL time.Duration
	// MaxEntryBytes is the largest body stored; larger responses are not
	// cached. Zero means 1 MiB.
	MaxEntryBytes int
	// MaxEntries bounds a memory cache (NewMemory); the least recently used
	// entries go first. Zero means 1000.
	MaxEntries int
	// Prefix namespaces a Redis cache's keys (NewRedis): an entry is stored
	// under Prefix + "resp:" + key. Empty means "switchyard:", the prefix
	// of the shared state's keys too, which the "resp:" part keeps apart.
	Prefix string
	// Timeout bounds each call of a Redis cache (NewRedis), so that a slow
	// Redis costs a miss, not a stall. Zero means 50 ms.
	Timeout time.Duration
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = defaultTTL
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = defaultMaxEntries
	}
	if c.MaxEntryBytes <= 0 {
		c.MaxEntryBytes = defaultMaxEntryBytes
	}
	if c.Prefix == "" {
		c.Prefix = defaultPrefix
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	return c
}

// Policy says how a router uses a response cache (router.WithResponseCache).
// The zero Policy caches the chat, completions and embeddings answers of
// every call that does not opt out, for the cache's TTL, and replays each
// message's content in one chunk.
type Policy struct {
	// TTL is how long an answer is kept when the call does not say
	// ("ttl"); zero leaves it to the cache (Config.TTL, ten minutes by
	// default).
	TTL time.Duration
	// Endpoints are the endpoints whose answers are cached; empty means
	// chat, completions and embeddings. Only complete JSON answers can be
	// cached, so responses and transcriptions are best left out.
	Endpoints []provider.Endpoint
	// OptIn caches only the calls that ask for it (router.WithCacheControl,
	// or "cache": {"use-cache": true} in the
	// body: LiteLLM's mode "default_off"). By default every call of a
	// cached endpoint uses the cache unless it opts out.
	OptIn bool
	// ReplayChunkRunes splits a replayed message's content into chunks of
	// at most this many characters, so that a streaming client sees
	// several deltas; zero sends each message's content in one chunk.
	ReplayChunkRunes int
}
