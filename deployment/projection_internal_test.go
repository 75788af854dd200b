package deployment

import (
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// FuzzBudgetMatchesSnapshot pins the pick path's integer projection to
// ratelimit.Snapshot's: they may differ by one from float rounding only,
// and agree on what is unknown.
func FuzzBudgetMatchesSnapshot(f *testing.F) {
	for _, c := range []struct {
		limit, remaining int64
		reset, el        time.Duration
	}{
		{100, 50, time.Minute, 30 * time.Second},
		{100, 0, 10 * time.Second, 10 * time.Second},
		{-1, 7, -1, time.Second},
		{-1, 7, -1, 2 * time.Minute},
		{1000, 2, time.Minute, 60 * time.Millisecond},
		{-1, 5, time.Second, 2 * time.Second},
		{50, 80, time.Second, time.Millisecond},
		{150000, 149984, 6 * time.Minute, -time.Second},
		{-1, -1, -1, 0},
	} {
		f.Add(c.limit, c.remaining, int64(c.reset), int64(c.el))
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, limit, remaining, reset, el int64) {
		// Keep to values headers can carry and times a Time can add.
		limit, remaining = max(limit%1e12, -1), max(remaining%1e12, -1)
		reset, el = max(reset%int64(24*time.Hour), -1), el%int64(24*time.Hour)
		s := ratelimit.Empty(t0)
		s.LimitRequests, s.RemainingRequests, s.ResetRequests = limit, remaining, time.Duration(reset)
		u := newUpstream(s)
		now := t0.Add(time.Duration(el))
		want := s.RequestsLeftAt(now)
		f := u.req.left(now.UnixNano() - u.obs)
		got := int64(f)
		if f < 0 {
			got = ratelimit.Unknown
		}
		if d := got - want; d < -1 || d > 1 || (want < 0) != (got < 0) {
			t.Fatalf("limit %d remaining %d reset %v at +%v: leftAt = %d, Snapshot says %d",
				limit, remaining, time.Duration(reset), time.Duration(el), got, want)
		}
	})
}
