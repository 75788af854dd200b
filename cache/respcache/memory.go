package respcache

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// NewMemory returns an empty Cache in process memory: an LRU bounded by
// entry count (Config.MaxEntries), with a deadline per entry checked on
// read against Get's now (and expired entries evicted first by the LRU as
// they age). It starts no goroutine and is safe for concurrent use.
//
// It uses golang-lru/v2's LRU rather than its expirable package, whose
// v2.0.7 cache starts a cleanup goroutine that can never be stopped, reads
// the wall clock, and has one TTL for all entries (per-request "ttl" needs
// one per entry).
func NewMemory(cfg Config) Cache {
	cfg = cfg.withDefaults()
	c, _ := lru.New[string, memEntry](cfg.MaxEntries) // fails only for a size <= 0
	return &memory{cfg: cfg, lru: c}
}

// memory is the Cache of NewMemory.
type memory struct {
	cfg Config     // immutable
	mu  sync.Mutex // makes Get's check-then-remove atomic
	lru *lru.Cache[string, memEntry]
}

type memEntry struct {
	e   *Entry
	exp time.Time
}

// Get implements [Cache].
func (m *memory) Get(ctx context.Context, key string, now time.Time) (*Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.lru.Get(key)
	if !ok {
		return nil, false, nil
	}
	if !now.Before(r.exp) {
		m.lru.Remove(key)
		return nil, false, nil
	}
	return r.e, true, nil
}

// Set implements [Cache]. Bodies larger than the entry limit are not
// stored.
func (m *memory) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if e == nil || len(e.Body) > m.cfg.MaxEntryBytes {
		return nil
	}
	if ttl <= 0 {
		ttl = m.cfg.TTL
	}
	m.mu.Lock()
	m.lru.Add(key, memEntry{e: e, exp: e.StoredAt.Add(ttl)})
	m.mu.Unlock()
	return nil
}

// Delete implements [Cache].
func (m *memory) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	m.lru.Remove(key)
	m.mu.Unlock()
	return nil
}

var _ Cache = (*memory)(nil)
