package strategy

import "github.com/switchyard-go/switchyard/deployment"

// leastBusy is the least-busy strategy: the candidate with the fewest calls
// in flight (Deployment.InFlight). Ties are broken uniformly at random, so
// that idle deployments share the load instead of the first one taking it.
//
// In a large group (Sample) it picks the least busy of 8 usable
// deployments drawn at random: Mitzenmacher's power of d choices, which
// keeps the busiest deployment within ln ln n / ln d + O(1) calls of the
// average without every concurrent pick herding onto the one idle
// deployment (see the package doc, "Large groups").
//
// Arguments: "seed" (integer) makes the choices reproducible. It is safe for
// concurrent use.
type leastBusy struct{ rnd *source }

func newLeastBusy(m map[string]any) (Strategy, error) {
	a := args{strategy: NameLeastBusy, m: m}
	a.check()
	return &leastBusy{rnd: a.source()}, a.err
}

// Name returns "least-busy".
func (*leastBusy) Name() string { return NameLeastBusy }

// Pick returns the index of a least busy candidate, in one pass; it takes
// no lock and allocates nothing.
func (s *leastBusy) Pick(cands []*deployment.Deployment, _ *PickInfo) int {
	if len(cands) <= 1 {
		return len(cands) - 1
	}
	rng := local(s.rnd.uint64())
	best, pick := int64(0), -1
	var ties uint64
	for i, d := range cands {
		v := d.InFlight()
		switch {
		case pick < 0 || v < best:
			best, pick, ties = v, i, 1
		case v == best:
			ties++
			if rng.chosen(ties) {
				pick = i
			}
		}
	}
	return pick
}

var _ Strategy = (*leastBusy)(nil)
