package ratelimit

import (
	"testing"
	"time"
)

func TestLeftAt(t *testing.T) {
	openai := Snapshot{
		ObservedAt:    t0,
		LimitRequests: 60, RemainingRequests: 0, ResetRequests: time.Minute,
		LimitTokens: 150000, RemainingTokens: 50000, ResetTokens: 10 * time.Second,
		RetryAfter: Unknown,
	}
	azure := Empty(t0)
	azure.RemainingRequests, azure.RemainingTokens = 5, 1000
	noLimit := Empty(t0)
	noLimit.RemainingRequests, noLimit.ResetRequests = 3, 2*time.Second
	overfull := openai
	overfull.RemainingRequests = 80 // more than LimitRequests

	tests := []struct {
		name         string
		s            Snapshot
		at           time.Duration // after ObservedAt
		reqs, tokens int64
	}{
		{"at observation", openai, 0, 0, 50000},
		{"clock before observation", openai, -time.Hour, 0, 50000},
		{"linear refill, quarter way", openai, 15 * time.Second, 15, 150000}, // tokens reset after 10s
		{"linear refill, half way", openai, 30 * time.Second, 30, 150000},
		{"tokens part way", openai, 5 * time.Second, 5, 100000},
		{"just before reset", openai, time.Minute - time.Nanosecond, 59, 150000},
		{"at reset", openai, time.Minute, 60, 150000},
		{"long after reset", openai, 24 * time.Hour, 60, 150000},
		{"azure: no reset, within assumed window", azure, 30 * time.Second, 5, 1000},
		{"azure: no reset, after assumed window", azure, AssumedWindow, Unknown, Unknown},
		{"unknown limit: remaining until reset", noLimit, time.Second, 3, Unknown},
		{"unknown limit: unknown after reset", noLimit, 2 * time.Second, Unknown, Unknown},
		{"remaining above limit stays", overfull, 10 * time.Second, 80, 150000},
		{"unknown remaining", Empty(t0), time.Second, Unknown, Unknown},
	}
	for _, tt := range tests {
		now := t0.Add(tt.at)
		if got := tt.s.RequestsLeftAt(now); got != tt.reqs {
			t.Errorf("%s: RequestsLeftAt(+%v) = %d, want %d", tt.name, tt.at, got, tt.reqs)
		}
		if got := tt.s.TokensLeftAt(now); got != tt.tokens {
			t.Errorf("%s: TokensLeftAt(+%v) = %d, want %d", tt.name, tt.at, got, tt.tokens)
		}
	}
}

func TestLeftAtHugeValues(t *testing.T) {
	// No overflow in the refill arithmetic with extreme (but valid) values.
	s := Snapshot{
		ObservedAt:    t0,
		LimitRequests: 1<<63 - 1, RemainingRequests: 0, ResetRequests: 1<<63 - 1,
		LimitTokens: 1<<63 - 1, RemainingTokens: 1<<62 + 1, ResetTokens: 3 * time.Nanosecond,
		RetryAfter: Unknown,
	}
	now := t0.Add(100 * 365 * 24 * time.Hour)
	if got := s.RequestsLeftAt(now); got < 0 || got > s.LimitRequests {
		t.Errorf("RequestsLeftAt = %d", got)
	}
	if got := s.TokensLeftAt(t0.Add(time.Nanosecond)); got < s.RemainingTokens || got > s.LimitTokens {
		t.Errorf("TokensLeftAt = %d", got)
	}
}

func TestExhaustedUntil(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	with := func(f func(*Snapshot)) Snapshot {
		s := Empty(t0)
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		s     Snapshot
		until time.Time
		ok    bool
	}{
		{"nothing known", Empty(t0), time.Time{}, false},
		{"budget left", with(func(s *Snapshot) {
			s.RemainingRequests, s.ResetRequests, s.RemainingTokens = 3, time.Second, 10
		}), time.Time{}, false},
		{"retry-after zero is not exhaustion", with(func(s *Snapshot) { s.RetryAfter = 0 }), time.Time{}, false},
		{"retry-after alone", with(func(s *Snapshot) { s.RetryAfter = 3 * time.Second }), at(3 * time.Second), true},
		{"requests out, limit unknown: until reset", with(func(s *Snapshot) {
			s.RemainingRequests, s.ResetRequests = 0, 800*time.Millisecond
		}), at(800 * time.Millisecond), true},
		{"requests out, limit known: until one request has refilled", with(func(s *Snapshot) {
			s.LimitRequests, s.RemainingRequests, s.ResetRequests = 60, 0, time.Minute
		}), at(time.Second), true},
		{"requests out, one request's refill rounds up", with(func(s *Snapshot) {
			s.LimitRequests, s.RemainingRequests, s.ResetRequests = 3, 0, time.Second
		}), at(333333334 * time.Nanosecond), true},
		{"tokens out: until the full reset, even with the limit known", with(func(s *Snapshot) {
			s.LimitTokens, s.RemainingTokens, s.ResetTokens = 1000, 0, 6*time.Second
		}), at(6 * time.Second), true},
		{"tokens out, later of both resets", with(func(s *Snapshot) {
			s.RemainingRequests, s.ResetRequests = 0, time.Second
			s.RemainingTokens, s.ResetTokens = 0, 6*time.Minute
		}), at(6 * time.Minute), true},
		{"retry-after longer than reset", with(func(s *Snapshot) {
			s.RemainingTokens, s.ResetTokens, s.RetryAfter = 0, time.Second, 20*time.Second
		}), at(20 * time.Second), true},
		{"azure: zero remaining, no reset, retry hint", with(func(s *Snapshot) {
			s.RemainingRequests, s.RetryAfter = 0, 1500*time.Millisecond
		}), at(1500 * time.Millisecond), true},
		{"azure: zero remaining, nothing else", with(func(s *Snapshot) {
			s.RemainingTokens = 0
		}), at(AssumedExhaustion), true},
		{"zero remaining, reset now", with(func(s *Snapshot) {
			s.RemainingRequests, s.ResetRequests = 0, 0
		}), t0, true},
	}
	for _, tt := range tests {
		until, ok := tt.s.ExhaustedUntil()
		if ok != tt.ok || !until.Equal(tt.until) {
			t.Errorf("%s: ExhaustedUntil = %v, %v; want %v, %v", tt.name, until, ok, tt.until, tt.ok)
		}
	}
}

func TestProjectionAllocs(t *testing.T) {
	s := Parse(benchHeaders()["openai"], t0)
	n := testing.AllocsPerRun(100, func() {
		_ = s.RequestsLeftAt(t0.Add(time.Millisecond))
		_ = s.TokensLeftAt(t0.Add(time.Millisecond))
		_, _ = s.ExhaustedUntil()
	})
	if n != 0 {
		t.Errorf("projections allocate %v times", n)
	}
}

func BenchmarkProjection(b *testing.B) {
	s := Parse(benchHeaders()["openai"], t0)
	now := t0.Add(time.Millisecond)
	b.ReportAllocs()
	var sum int64
	for b.Loop() {
		sum += s.RequestsLeftAt(now) + s.TokensLeftAt(now)
		if _, ok := s.ExhaustedUntil(); ok {
			b.Fatal("exhausted")
		}
	}
	_ = sum
}

func TestLeftAtRoundingNearReset(t *testing.T) {
	// elapsed/reset rounds to 1.0 in float64; the result must be the limit,
	// not an overflowed conversion.
	s := Snapshot{ObservedAt: t0, LimitRequests: 1<<63 - 1, RemainingRequests: 0, ResetRequests: 1<<63 - 1}
	if got := s.RequestsLeftAt(t0.Add(1<<63 - 2)); got != 1<<63-1 {
		t.Errorf("RequestsLeftAt = %d, want %d", got, int64(1<<63-1))
	}
}
