package ratelimit

import "time"

// AssumedWindow is how long a remaining count is trusted when the upstream
// gave no reset time (Azure OpenAI sends only x-ratelimit-remaining-*). Its
// quotas are per minute, so after a minute the count says nothing any more
// and the projections return Unknown.
const AssumedWindow = time.Minute

// AssumedExhaustion is how long [Snapshot.ExhaustedUntil] skips a key whose
// remaining count is 0 when the upstream gave neither a reset time nor a
// retry hint. It is short on purpose: the next call through the key
// discovers the real state.
const AssumedExhaustion = time.Second

// RequestsLeftAt projects the remaining request budget forward to now.
//
// OpenAI's buckets refill continuously, so the budget grows linearly from
// RemainingRequests at ObservedAt to LimitRequests at ObservedAt +
// ResetRequests, and stays at the limit after that. When the limit is
// unknown the projection cannot grow: it is RemainingRequests (a lower
// bound) until the reset, and Unknown after it. When the reset is unknown,
// RemainingRequests holds for [AssumedWindow], then the result is Unknown.
// It is Unknown whenever RemainingRequests is. It does not allocate.
func (s Snapshot) RequestsLeftAt(now time.Time) int64 {
	return project(s.LimitRequests, s.RemainingRequests, s.ResetRequests, now.Sub(s.ObservedAt))
}

// TokensLeftAt is [Snapshot.RequestsLeftAt] for the token budget.
func (s Snapshot) TokensLeftAt(now time.Time) int64 {
	return project(s.LimitTokens, s.RemainingTokens, s.ResetTokens, now.Sub(s.ObservedAt))
}

// project returns the budget left elapsed after an observation of
// (limit, remaining, reset).
func project(limit, remaining int64, reset, elapsed time.Duration) int64 {
	if remaining < 0 {
		return Unknown
	}
	if elapsed <= 0 {
		return remaining
	}
	if reset < 0 {
		if elapsed < AssumedWindow {
			return remaining
		}
		return Unknown
	}
	if elapsed >= reset {
		if limit < 0 {
			return Unknown
		}
		return limit
	}
	if limit <= remaining {
		// Unknown limit, or an upstream reporting more left than its
		// limit: nothing to refill towards.
		return remaining
	}
	gap := limit - remaining
	refill := float64(gap) * (float64(elapsed) / float64(reset))
	if refill >= float64(gap) { // float rounding near the reset
		return limit
	}
	return remaining + int64(refill)
}

// ExhaustedUntil reports whether the snapshot says the key had no budget
// left when it was observed, and until when it should be skipped: the
// latest of
//
//   - ObservedAt + RetryAfter, when a positive retry hint was given;
//   - ObservedAt + ResetRequests/LimitRequests, when RemainingRequests is 0:
//     the budget refills continuously and is full again after
//     ResetRequests, so one request fits after that fraction of it (the
//     whole ResetRequests when the limit is unknown). Waiting for the full
//     reset would hold a key out for up to a minute while it could take a
//     request every few hundred milliseconds;
//   - ObservedAt + ResetTokens, when RemainingTokens is 0 (a request needs
//     many tokens, so the key waits for the full reset; the router's
//     projection lets it back earlier when enough has refilled);
//
// where a zero remaining count without a reset time counts as
// ObservedAt + RetryAfter if given, else ObservedAt + [AssumedExhaustion].
// Callers skip the key while now is before the returned time. It does not
// allocate.
func (s Snapshot) ExhaustedUntil() (time.Time, bool) {
	var (
		wait      time.Duration
		exhausted bool
	)
	if s.RetryAfter > 0 {
		wait, exhausted = s.RetryAfter, true
	}
	for i, b := range [2]struct {
		remaining, limit int64
		reset            time.Duration
	}{{s.RemainingRequests, s.LimitRequests, s.ResetRequests}, {s.RemainingTokens, s.LimitTokens, s.ResetTokens}} {
		if b.remaining != 0 {
			continue
		}
		exhausted = true
		d := b.reset
		if i == 0 && d > 0 && b.limit > 0 {
			d = (d + time.Duration(b.limit) - 1) / time.Duration(b.limit) // one request's refill, rounded up
		}
		if d < 0 {
			d = AssumedExhaustion
			if s.RetryAfter > 0 {
				d = s.RetryAfter
			}
		}
		wait = max(wait, d)
	}
	if !exhausted {
		return time.Time{}, false
	}
	return s.ObservedAt.Add(wait), true
}
