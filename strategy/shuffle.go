package strategy

import "github.com/switchyard-go/switchyard/deployment"

// shuffle is the simple-shuffle strategy (see the package doc): a weighted
// random choice. Safe for concurrent use.
//
// In a large group (Sample) it draws from the Pool's alias table by weight
// and retries unusable draws: rejection sampling keeps the shares of the
// usable deployments exact (see the package doc, "Large groups").
type shuffle struct{ rnd *source }

func newShuffle(m map[string]any) (Strategy, error) {
	a := args{strategy: NameSimpleShuffle, m: m}
	a.check()
	s := &shuffle{rnd: a.source()}
	return s, a.err
}

// Name returns "simple-shuffle".
func (*shuffle) Name() string { return NameSimpleShuffle }

// Pick returns a random index, weighted as described on shuffle. It makes
// two passes over cands, takes no lock and allocates nothing.
func (s *shuffle) Pick(cands []*deployment.Deployment, _ *PickInfo) int {
	n := len(cands)
	if n <= 1 {
		return n - 1
	}
	var (
		sumW, sumR, sumT float64
		nW, nR, nT       int
	)
	for _, d := range cands {
		c := d.Config()
		if c.Weight > 0 {
			sumW += c.Weight
			nW++
		}
		if c.RPM > 0 {
			sumR += float64(c.RPM)
			nR++
		}
		if c.TPM > 0 {
			sumT += float64(c.TPM)
			nT++
		}
	}
	var (
		field, set int
		sum        float64
	)
	switch {
	case nW > 0:
		field, sum, set = fieldWeight, sumW, nW
	case nR > 0:
		field, sum, set = fieldRPM, sumR, nR
	case nT > 0:
		field, sum, set = fieldTPM, sumT, nT
	default:
		return s.rnd.intn(n)
	}
	avg := sum / float64(set)
	r := s.rnd.float64() * (sum + avg*float64(n-set))
	// One loop per field, so that the loop body has no switch.
	switch field {
	case fieldWeight:
		for i, d := range cands {
			w := d.Config().Weight
			if w <= 0 {
				w = avg
			}
			if r -= w; r < 0 {
				return i
			}
		}
	case fieldRPM:
		for i, d := range cands {
			w := float64(d.Config().RPM)
			if w <= 0 {
				w = avg
			}
			if r -= w; r < 0 {
				return i
			}
		}
	default:
		for i, d := range cands {
			w := float64(d.Config().TPM)
			if w <= 0 {
				w = avg
			}
			if r -= w; r < 0 {
				return i
			}
		}
	}
	return n - 1 // rounding
}

const (
	fieldWeight = iota
	fieldRPM
	fieldTPM
)

var _ Strategy = (*shuffle)(nil)
