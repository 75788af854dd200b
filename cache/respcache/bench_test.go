package respcache

import (
	"context"
	"testing"
)

func BenchmarkKey(b *testing.B) {
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},` +
		`{"role":"user","content":"What is the capital of France? Answer in one word."}],"temperature":0,"stream":true,"user":"u1"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Prepare("gpt-4o", "chat", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryResponseCacheGet is a hit in a memory cache (NewMemory),
// from many goroutines.
func BenchmarkMemoryResponseCacheGet(b *testing.B) {
	ctx := context.Background()
	c := NewMemory(Config{})
	_ = c.Set(ctx, "k", NewEntry(testResponse(), t0), 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, _ := c.Get(ctx, "k", t0); !ok {
				b.Error("miss")
				return
			}
		}
	})
}

func BenchmarkReplay(b *testing.B) {
	e := &Entry{Body: []byte(chatBody)}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Replay(e, ReplayOptions{IncludeUsage: true})
		if err != nil {
			b.Fatal(err)
		}
		for s.Next() {
		}
	}
}
