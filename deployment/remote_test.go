package deployment_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/ratelimit"
)

// snap is a request-budget snapshot observed at t0+at.
func snap(at time.Duration, limit, remaining int64, reset time.Duration) ratelimit.Snapshot {
	s := ratelimit.Empty(t0.Add(at))
	s.LimitRequests, s.RemainingRequests, s.ResetRequests = limit, remaining, reset
	return s
}

func TestObserveSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name string
		// local is read from this deployment's own response at t0 (nil:
		// none); remote is observed afterwards.
		local  *ratelimit.Snapshot
		remote ratelimit.Snapshot
		stored bool
		// headroom at t0+1s and the reason at t0+1s.
		headroom float64
		reason   deployment.Reason
	}{
		{name: "first snapshot", remote: snap(0, 100, 40, time.Minute), stored: true, headroom: 0.41, reason: deployment.ReasonOK},
		{name: "newer replaces", local: ptr(snap(0, 100, 90, time.Minute)), remote: snap(time.Second, 100, 20, time.Minute),
			stored: true, headroom: 0.20, reason: deployment.ReasonOK},
		{name: "older is ignored", local: ptr(snap(time.Second, 100, 90, time.Minute)), remote: snap(0, 100, 20, time.Minute),
			stored: false, headroom: 0.90, reason: deployment.ReasonOK},
		{name: "same time is an echo", local: ptr(snap(0, 100, 90, time.Minute)), remote: snap(0, 100, 20, time.Minute),
			stored: false, headroom: 0.91, reason: deployment.ReasonOK},
		{name: "exhausted keeps the deployment out", remote: snap(0, 10, 0, 20*time.Second), // one request refills after 2s
			stored: true, headroom: 0, reason: deployment.ReasonExhausted},
		{name: "bare retry hint only exhausts", local: ptr(snap(0, 100, 90, time.Minute)),
			remote: func() ratelimit.Snapshot { s := ratelimit.Empty(t0); s.RetryAfter = 5 * time.Second; return s }(),
			stored: false, headroom: 0, reason: deployment.ReasonExhausted},
		{name: "nothing known", remote: ratelimit.Empty(t0), stored: false, headroom: 1, reason: deployment.ReasonOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDep(t, deployment.Config{}, deployment.Settings{})
			if tc.local != nil {
				s := *tc.local
				a, err := d.Begin(s.ObservedAt, 0)
				if err != nil {
					t.Fatal(err)
				}
				a.End(s.ObservedAt, deployment.Outcome{Header: rlHeader(itoa(s.LimitRequests), itoa(s.RemainingRequests), "60s")})
			}
			if got := d.ObserveSnapshot(tc.remote); got != tc.stored {
				t.Errorf("ObserveSnapshot = %v, want %v", got, tc.stored)
			}
			now := t0.Add(time.Second)
			if h := d.Headroom(now); math.Abs(h-tc.headroom) > 0.011 {
				t.Errorf("Headroom = %v, want %v", h, tc.headroom)
			}
			if r := d.Available(now, 0); r != tc.reason {
				t.Errorf("Available = %v, want %v", r, tc.reason)
			}
			if tc.stored {
				if s := d.Snapshot(); s == nil || !s.ObservedAt.Equal(tc.remote.ObservedAt) || s.RemainingRequests != tc.remote.RemainingRequests {
					t.Errorf("Snapshot = %+v, want %+v", s, tc.remote)
				}
			}
		})
	}
}

func TestObserveSnapshotRestartsCountSince(t *testing.T) {
	d := newDep(t, deployment.Config{}, deployment.Settings{})
	d.ObserveSnapshot(snap(0, 100, 50, time.Hour))
	for range 10 {
		if _, err := d.Begin(t0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if h := d.Headroom(t0); math.Abs(h-0.40) > 1e-9 {
		t.Fatalf("Headroom after 10 calls = %v, want 0.40", h)
	}
	// Another replica saw 30 left a moment later: its count already holds
	// every call made before it.
	d.ObserveSnapshot(snap(time.Millisecond, 100, 30, time.Hour))
	if h := d.Headroom(t0.Add(time.Millisecond)); math.Abs(h-0.30) > 1e-3 {
		t.Fatalf("Headroom after the remote snapshot = %v, want 0.30", h)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
