package sharedstate

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of
// go-redis's background goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRouteRedisLogs forces a connection failure (a Store pointed at a
// port nothing listens on): with RouteRedisLogs, go-redis's dial error is
// a structured slog record, and nothing reaches the standard log.
func TestRouteRedisLogs(t *testing.T) {
	var std lockedBuffer
	log.SetOutput(&std)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	var out lockedBuffer
	RouteRedisLogs(slog.New(slog.NewJSONHandler(&out, nil)))
	// go-redis's logger is process-wide: keep later tests quiet.
	t.Cleanup(func() { RouteRedisLogs(slog.New(slog.DiscardHandler)) })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	store, err := NewRedisStore(RedisConfig{Addr: addr, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Sync(context.Background(), Window{At: t0}, nil); err == nil {
		t.Fatal("Sync succeeded with nothing listening")
	}

	var rec map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["component"] == "go-redis" {
			rec = r
			break
		}
	}
	if rec == nil {
		t.Fatalf("no go-redis record in the slog output %q", out.String())
	}
	if rec["level"] != "WARN" || !strings.Contains(rec["msg"].(string), "dial") || strings.HasPrefix(rec["msg"].(string), "redis: ") {
		t.Errorf("record %v, want a WARN about the failed dial without the \"redis: \" prefix", rec)
	}
	if s := std.String(); s != "" {
		t.Errorf("the standard log got %q", s)
	}
}
