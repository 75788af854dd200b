package strategy

import "github.com/switchyard-go/switchyard/deployment"

// usage is the usage-based-routing strategy and its -v2 alias (see the
// package doc): the most Deployment.Headroom. Safe for concurrent use.
//
// In a large group (Sample) it picks the most headroom of 8 usable
// deployments drawn at random: headroom falls as a key is used, so, as in
// Mitzenmacher's power of d choices, best of 8 keeps the keys' use even
// without scanning them all (see the package doc, "Large groups").
type usage struct {
	rnd  *source
	name string
}

func newUsage(name string) Factory {
	return func(m map[string]any) (Strategy, error) {
		a := args{strategy: name, m: m}
		a.check()
		return &usage{rnd: a.source(), name: name}, a.err
	}
}

// Name returns the name the strategy was made with (NameUsage or
// NameUsageV2).
func (s *usage) Name() string { return s.name }

// tieEpsilon is how close two headroom fractions must be to count as equal.
const tieEpsilon = 1e-9

// Pick returns the index of a candidate with the most headroom, in one pass;
// it takes no lock and allocates nothing.
func (s *usage) Pick(cands []*deployment.Deployment, info *PickInfo) int {
	if len(cands) <= 1 {
		return len(cands) - 1
	}
	if info == nil {
		info = &noInfo
	}
	rng := local(s.rnd.uint64())
	best, pick := 0.0, -1
	var ties uint64
	for i, d := range cands {
		h := d.Headroom(info.Now)
		switch {
		case pick < 0 || h > best+tieEpsilon:
			best, pick, ties = h, i, 1
		case h >= best-tieEpsilon:
			ties++
			if rng.chosen(ties) {
				pick = i
			}
		}
	}
	return pick
}

var _ Strategy = (*usage)(nil)
