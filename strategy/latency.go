package strategy

import (
	"math"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
)

// defaultLatencyTTL is how long a latency sample stays fresh for
// latency-based routing when the "ttl" argument is not given. LiteLLM keeps
// samples for an hour; a shorter life lets a deployment that had one slow
// call be tried again within a minute.
const defaultLatencyTTL = time.Minute

// latency is the latency-based-routing strategy (see the package doc). A
// deployment without a fresh sample counts as 0 while idle, else its old
// average (+Inf if none). Safe for concurrent use.
//
// In a large group (Sample) it compares 8 usable deployments drawn at
// random, and the buffer applies to the fastest of those: the pick is
// never slower than the 8 drawn, and the load spreads as in the power of
// d choices, since a deployment's latency rises with its load (see the
// package doc, "Large groups").
type latency struct {
	rnd    *source
	buffer float64
	ttl    time.Duration
}

func newLatency(m map[string]any) (Strategy, error) {
	a := args{strategy: NameLatency, m: m}
	a.check("lowest_latency_buffer", "ttl", "max_latency_list_size")
	s := &latency{
		rnd:    a.source(),
		buffer: a.nonNegative("lowest_latency_buffer", 0),
		ttl:    a.duration("ttl", defaultLatencyTTL),
	}
	if _, ok := m["max_latency_list_size"]; ok {
		a.positiveInt("max_latency_list_size", 10)
	}
	return s, a.err
}

// Name returns "latency-based-routing".
func (*latency) Name() string { return NameLatency }

// Pick returns the index of a fastest candidate. It makes one pass when the
// buffer is 0 and two otherwise, takes no lock and allocates nothing.
func (s *latency) Pick(cands []*deployment.Deployment, info *PickInfo) int {
	if len(cands) <= 1 {
		return len(cands) - 1
	}
	if info == nil {
		info = &noInfo
	}
	now := info.Now.UnixNano()
	ttl := s.ttl
	rng := local(s.rnd.uint64())
	if s.buffer == 0 {
		best, pick := 0.0, -1
		var ties uint64
		for i, d := range cands {
			// effective, by hand: this loop is the hot path.
			v, at := d.LatencyFor(info.Stream)
			e := float64(v)
			if v == 0 || now-at >= int64(ttl) {
				e = s.unfresh(d, v)
			}
			switch {
			case pick < 0 || e < best:
				best, pick, ties = e, i, 1
			case e == best:
				ties++
				if rng.chosen(ties) {
					pick = i
				}
			}
		}
		return pick
	}
	best := math.Inf(1)
	for _, d := range cands {
		if e := s.effective(d, now, info.Stream, ttl); e < best {
			best = e
		}
	}
	limit := best * (1 + s.buffer)
	pick := 0
	var n uint64
	for i, d := range cands {
		if s.effective(d, now, info.Stream, ttl) <= limit {
			n++
			if rng.chosen(n) {
				pick = i
			}
		}
	}
	return pick
}

// effective returns the latency d counts with, in nanoseconds.
func (s *latency) effective(d *deployment.Deployment, now int64, stream bool, ttl time.Duration) float64 {
	v, at := d.LatencyFor(stream)
	if v > 0 && now-at < int64(ttl) {
		return float64(v)
	}
	return s.unfresh(d, v)
}

// unfresh returns the latency a deployment without a fresh sample counts
// with, given its old average v (0 if never measured).
func (s *latency) unfresh(d *deployment.Deployment, v time.Duration) float64 {
	switch {
	case d.InFlight() == 0:
		return 0 // never measured or stale: explore it, one call at a time
	case v > 0:
		return float64(v)
	default:
		return math.Inf(1)
	}
}

var _ Strategy = (*latency)(nil)
