package router

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/provider"
)

// recorder is a slog.Handler that keeps records.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.records = append(r.records, rec.Clone())
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) find(level slog.Level, msg string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.records {
		if rec.Level == level && rec.Message == msg {
			m := map[string]string{}
			rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
			out = append(out, m)
		}
	}
	return out
}

func TestLogsAttemptsAndCooldowns(t *testing.T) {
	rec := &recorder{}
	deps := grp("g", "a", "b")
	deps[1].Order = 1 // a first, then b
	h := newHarness(t, Config{Deployments: deps}, WithLogger(slog.New(rec)))
	e := perr(provider.ClassRateLimited, 429)
	e.RetryAfter = 30 * time.Second
	h.client("a").setScript(step{err: e})
	if _, err := h.r.Do(t.Context(), chatReq("g")); err != nil {
		t.Fatal(err)
	}
	attempts := rec.find(slog.LevelDebug, "router: attempt")
	if len(attempts) != 2 {
		t.Fatalf("debug records %v, want one per attempt", attempts)
	}
	cool := rec.find(slog.LevelWarn, "router: deployment cooling down")
	if len(cool) == 0 {
		t.Fatal("no warning when a deployment went into cooldown")
	}
	if c := cool[0]; c["class"] != "rate_limited" || c["for"] != "30s" || c["model_group"] != "g" {
		t.Errorf("cooldown record %v", c)
	}
}
