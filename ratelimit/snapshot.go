package ratelimit

import "time"

// Unknown marks a count or duration the upstream did not report, or reported
// in a form that could not be read. It is distinct from zero, which means
// "exhausted" for a remaining count.
const Unknown = -1

// Snapshot is what one response's headers said about the caller's limits,
// stamped with the time it was observed. Counts and durations are Unknown
// (-1) when absent or malformed. The zero value is not meaningful; use
// [Parse] or start from [Empty].
type Snapshot struct {
	// ObservedAt is when the headers were received.
	ObservedAt time.Time

	LimitRequests     int64 // requests allowed per window
	RemainingRequests int64 // requests left in the window
	LimitTokens       int64 // tokens allowed per window
	RemainingTokens   int64 // tokens left in the window

	// ResetRequests and ResetTokens are the time from ObservedAt until the
	// budget is full again.
	ResetRequests time.Duration
	ResetTokens   time.Duration

	// RetryAfter is the server's retry hint (retry-after-ms, then
	// retry-after), measured from ObservedAt.
	RetryAfter time.Duration
}

// Empty returns a snapshot observed at t with every value Unknown.
func Empty(t time.Time) Snapshot {
	return Snapshot{
		ObservedAt:        t,
		LimitRequests:     Unknown,
		RemainingRequests: Unknown,
		LimitTokens:       Unknown,
		RemainingTokens:   Unknown,
		ResetRequests:     Unknown,
		ResetTokens:       Unknown,
		RetryAfter:        Unknown,
	}
}

// Known reports whether the snapshot holds any value at all.
func (s Snapshot) Known() bool {
	return s.LimitRequests >= 0 || s.RemainingRequests >= 0 || s.LimitTokens >= 0 ||
		s.RemainingTokens >= 0 || s.ResetRequests >= 0 || s.ResetTokens >= 0 || s.RetryAfter >= 0
}
