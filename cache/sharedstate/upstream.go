package sharedstate

import (
	"context"
	"math"
	"time"

	"github.com/switchyard-go/switchyard/ratelimit"
)

// The upstream's request budget, shared.
//
// A rate-limit snapshot (x-ratelimit-* headers) says how many requests the
// upstream key had left when it was read and how fast the budget refills.
// Each replica's deployment projects it forward and subtracts the requests
// it sent itself since; with several replicas holding the same snapshot,
// every one of them spends the same refill: when the budget is used up,
// every replica's deployment is exhausted until the same instant (the
// snapshot's time plus one request's refill, 500 ms at 120 rpm) and then
// every replica sends at once, one request is answered and the others get a
// 429, whose cooldown ends at the same instant everywhere again. So while
// the newest snapshot says the budget is nearly used up, the Syncer takes
// each request from one bucket in the Store ([Store.Take]) that every
// replica counts in, and refuses the request when the bucket is empty.
//
// The bucket is kept in milliseconds and floating point, identically in Go
// (memoryStore) and in Lua (takeScript).

// lowWater is how many requests a snapshot's projection may have left, at
// most, for the Syncer to take each request from the Store's bucket: a
// tenth of the limit, at least 8. Above it every replica goes by its own
// projection (no round trip), which other replicas' traffic can overtake
// only by what they send in about one sync interval.
func lowWater(limit int64) int64 { return max((limit+9)/10, 8) }

// upstreamLow reports whether s says the upstream's request budget is
// nearly used up at now.
func upstreamLow(s ratelimit.Snapshot, now time.Time) bool {
	if until, ok := s.ExhaustedUntil(); ok && now.Before(until) {
		return true
	}
	left := s.RequestsLeftAt(now)
	return left >= 0 && left < lowWater(s.LimitRequests)
}

// stampMS is a snapshot's observation time in whole milliseconds, rounded
// up, computed as the Lua script does (from the stamp as a float64).
func stampMS(t time.Time) float64 {
	n := t.UnixNano()
	if n < 0 || t.IsZero() {
		n = 0
	}
	return math.Ceil(float64(n) / 1e6)
}

// snapBucket is the request bucket a snapshot describes at now (ms): its
// level, refill rate per ms and capacity. ok is false when the snapshot
// says nothing at now (no remaining count; past its reset with no limit;
// no reset and older than ratelimit.AssumedWindow). It mirrors
// ratelimit.Snapshot.RequestsLeftAt in milliseconds.
func snapBucket(s ratelimit.Snapshot, now float64) (level, rate, capacity float64, ok bool) {
	lim, rem := float64(s.LimitRequests), float64(s.RemainingRequests)
	reset := float64(s.ResetRequests) / 1e6 // ms; negative: unknown
	if rem < 0 {
		return 0, 0, 0, false
	}
	el := now - stampMS(s.ObservedAt)
	assumed := float64(ratelimit.AssumedWindow / time.Millisecond)
	switch {
	case el <= 0:
		level = rem
	case reset < 0:
		if el >= assumed {
			return 0, 0, 0, false
		}
		level = rem
	case el >= reset:
		if lim < 0 {
			return 0, 0, 0, false
		}
		level = lim
	case lim <= rem:
		level = rem
	default:
		level = rem + (lim-rem)*el/reset
	}
	switch {
	case reset > 0 && lim > rem:
		rate = (lim - rem) / reset
	case lim > 0:
		rate = lim / assumed
	}
	return level, rate, max(lim, rem), true
}

// upBucket is a Store's upstream bucket of one deployment.
type upBucket struct {
	level float64
	at    float64   // ms
	obs   time.Time // ObservedAt of the snapshot it last followed
	ok    bool      // exists
}

// take applies a Take of n at now (ms) following snapshot s, and reports
// whether it was granted and, when not, the wait in ms (negative:
// unknown). A snapshot that says nothing at now grants everything and
// leaves the bucket alone.
func (b *upBucket) take(s ratelimit.Snapshot, now float64, n int64) (bool, float64) {
	proj, rate, capacity, known := snapBucket(s, now)
	if !known {
		return true, 0
	}
	level := proj
	if b.ok {
		level = b.level
		if now > b.at {
			level = min(level+rate*(now-b.at), capacity)
		}
		if !b.obs.Equal(s.ObservedAt) {
			level = min(level, proj)
		}
	}
	granted, wait := true, 0.0
	switch k := float64(n); {
	case n < 0:
		level = min(level-k, capacity)
	case level >= k:
		level -= k
	default:
		granted, wait = false, -1
		if rate > 0 {
			wait = math.Ceil((k-level)/rate - 1e-6) // not a whole ms more for float error
		}
	}
	*b = upBucket{level: level, at: max(now, b.at), obs: s.ObservedAt, ok: true}
	return granted, wait
}

// waitDuration turns a Take's wait in ms into a Duration (negative:
// unknown).
func waitDuration(ms float64) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// takeUpstream takes one request from the Store's upstream bucket of d when
// the newest snapshot this replica knows says the budget is nearly used
// up. taken reports that it took one (to give back on Cancel); ok false
// that the bucket is empty, wait then how long until it is not (zero:
// unknown).
func (s *Syncer) takeUpstream(ctx context.Context, d *depState, w Window) (taken, ok bool, wait time.Duration, err error) {
	d.mu.Lock()
	snap, has := d.snap, d.hasSnap
	d.mu.Unlock()
	if !has || !upstreamLow(snap, w.At) {
		return false, true, 0, nil
	}
	if _, local := s.store.(*memoryStore); !local { // cannot hang: no timer needed
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	ok, wait, err = s.store.Take(ctx, d.id, w, snap, 1)
	if err != nil {
		return false, false, 0, err
	}
	return ok, ok, max(wait, 0), nil
}

// giveUpstream gives back a request taken from the upstream bucket by a
// reservation that was never sent.
func (s *Syncer) giveUpstream(id string) {
	if s.closed.Load() || !s.healthy.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	if _, _, err := s.store.Take(ctx, id, s.window(s.cfg.Now()), ratelimit.Snapshot{}, -1); err != nil {
		s.fail(err)
	}
}
