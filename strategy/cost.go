package strategy

import (
	"github.com/switchyard-go/switchyard/deployment"
)

// defaultExpectedOutputTokens is the completion size cost-based routing
// prices when neither the request (PickInfo.OutputTokens) nor the
// "expected_output_tokens" argument gives one.
const defaultExpectedOutputTokens = 256

// cost is the cost-based-routing strategy (see the package doc); an
// unpriced deployment counts as +Inf. Safe for concurrent use.
//
// In a large group (Sample) it prices the Pool's distinct prices (up to 8)
// and draws among the cheapest, exactly as the scan would choose; with more
// prices, the cheapest of 8 usable draws (see the package doc, "Large
// groups").
type cost struct {
	rnd       *source
	expectOut int
}

func newCost(m map[string]any) (Strategy, error) {
	a := args{strategy: NameCost, m: m}
	a.check("expected_output_tokens")
	s := &cost{rnd: a.source(), expectOut: defaultExpectedOutputTokens}
	if _, ok := m["expected_output_tokens"]; ok {
		s.expectOut = a.positiveInt("expected_output_tokens", defaultExpectedOutputTokens)
	}
	return s, a.err
}

// Name returns "cost-based-routing".
func (*cost) Name() string { return NameCost }

// Pick returns the index of a cheapest candidate, in one pass; it takes no
// lock and allocates nothing.
func (s *cost) Pick(cands []*deployment.Deployment, info *PickInfo) int {
	if len(cands) <= 1 {
		return len(cands) - 1
	}
	if info == nil {
		info = &noInfo
	}
	in, out := s.sizes(info)
	rng := local(s.rnd.uint64())
	best, pick := 0.0, -1
	var ties uint64
	for i, d := range cands {
		c := &d.Config().Info
		p := price(c.InputCostPerToken, c.OutputCostPerToken, in, out)
		switch {
		case pick < 0 || p < best:
			best, pick, ties = p, i, 1
		case p == best:
			ties++
			if rng.chosen(ties) {
				pick = i
			}
		}
	}
	return pick
}

// sizes returns the prompt and completion sizes a call is priced at: the
// request's, else the expected output; 1 and 1 when no size is known.
func (s *cost) sizes(info *PickInfo) (in, out float64) {
	if info.PromptTokens <= 0 && info.OutputTokens <= 0 {
		return 1, 1
	}
	in, out = float64(max(info.PromptTokens, 0)), float64(s.expectOut)
	if info.OutputTokens > 0 {
		out = float64(info.OutputTokens)
	}
	return in, out
}

var _ Strategy = (*cost)(nil)
