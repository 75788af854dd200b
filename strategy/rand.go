package strategy

import (
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
)

// source is a strategy's random source. Unseeded, it draws from
// math/rand/v2's top-level generator, which is per-thread, lock-free and safe for
// concurrent use. Seeded (for reproducible tests), it is a SplitMix64
// sequence advanced with one atomic add: deterministic for one goroutine,
// still safe and lock-free for many.
type source struct {
	seeded bool
	state  atomic.Uint64
}

func newSource(seed uint64, seeded bool) *source {
	s := &source{seeded: seeded}
	s.state.Store(seed)
	return s
}

// uint64 returns a random 64-bit value.
func (s *source) uint64() uint64 {
	if !s.seeded {
		return rand.Uint64()
	}
	z := s.state.Add(0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n) for n > 0 (Lemire's multiply-shift; the
// bias is at most n/2^64).
func (s *source) intn(n int) int {
	hi, _ := bits.Mul64(s.uint64(), uint64(n))
	return int(hi)
}

// float64 returns a value in [0, 1).
func (s *source) float64() float64 {
	return float64(s.uint64()>>11) / (1 << 53)
}

// local is a per-pick generator (wyrand) seeded from a source, for the
// reservoir sampling of ties: cheaper than a draw from the source per tie,
// and on the stack.
type local uint64

// chosen reports, for the n-th of n equal candidates seen so far, whether it
// replaces the current choice (with probability 1/n), giving each tie the
// same chance.
func (l *local) chosen(n uint64) bool {
	*l += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*l), uint64(*l)^0xe7037ed1a0b428db)
	hi, _ = bits.Mul64(hi^lo, n)
	return hi == 0
}
