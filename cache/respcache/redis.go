package respcache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewRedis returns a Cache in Redis through client (non-nil, and not
// closed by the cache), shared by the replicas that use the same Redis and
// Config.Prefix: one string per entry under Prefix + "resp:" + key,
// expiring with its TTL on the server's clock (Redis evicts them;
// configure maxmemory-policy to bound the total). Share the client of the
// shared state's store with sharedstate.RedisStore.Client. It is safe for
// concurrent use.
func NewRedis(client redis.UniversalClient, cfg Config) Cache {
	return &redisCache{cfg: cfg.withDefaults(), client: client}
}

// redisCache is the Cache of NewRedis.
type redisCache struct {
	cfg    Config // immutable
	client redis.UniversalClient
}

// redisError is a failed Redis call of a Redis cache.
type redisError struct {
	op  string // "get", "set", "delete"
	err error
}

func (e *redisError) Error() string { return fmt.Sprintf("respcache: redis %s: %v", e.op, e.err) }
func (e *redisError) Unwrap() error { return e.err }

var errCodec = errors.New("respcache: malformed stored value")

func (r *redisCache) key(k string) string { return r.cfg.Prefix + "resp:" + k }

// Get implements [Cache]. Entries expire by their Redis TTL; now is not
// needed.
func (r *redisCache) Get(ctx context.Context, key string, now time.Time) (*Entry, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	v, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &redisError{op: "get", err: err}
	}
	e, err := decodeEntry(v)
	if err != nil {
		return nil, false, &redisError{op: "get", err: err}
	}
	return e, true, nil
}

// Set implements [Cache]. The TTL is counted by Redis from the Set.
func (r *redisCache) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if e == nil || len(e.Body) > r.cfg.MaxEntryBytes {
		return nil
	}
	if ttl <= 0 {
		ttl = r.cfg.TTL
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.client.Set(ctx, r.key(key), encodeEntry(e), ttl).Err(); err != nil {
		return &redisError{op: "set", err: err}
	}
	return nil
}

// Delete implements [Cache].
func (r *redisCache) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.client.Del(ctx, r.key(key)).Err(); err != nil {
		return &redisError{op: "delete", err: err}
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

var _ Cache = (*redisCache)(nil)
