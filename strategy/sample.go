package strategy

import (
	"math"
	"math/bits"

	"github.com/switchyard-go/switchyard/deployment"
)

// SampleAbove is the group size above which [Pool.Sampled] reports true and
// the built-in strategies sample (see the package doc, "Large groups"):
// groups of at most SampleAbove deployments keep the exact scan of Pick.
const SampleAbove = 32

const (
	// sampleChoices is k of best-of-k: how many usable deployments the
	// value-based strategies (least-busy, latency, usage, cost with many
	// prices) compare.
	sampleChoices = 8
	// maxDraws bounds the draws of one Sample call; when they find no
	// usable deployment Sample returns -1 and the caller scans exactly.
	maxDraws = 32
	// maxPriceClasses is how many distinct prices a pool may have for
	// cost-based routing to stay exact (cheapest class first).
	maxPriceClasses = 8
)

// Filter says which deployments of a [Pool] may be picked for a call (they
// serve its tags, are not left out, are available now). The router's
// per-call state implements it; Usable must not allocate.
type Filter interface {
	Usable(d *deployment.Deployment) bool
}

// Sampler is implemented by strategies that can pick in a large group
// without looking at every deployment. The built-in strategies implement
// it; a custom strategy need not, and is then always given the filtered
// candidates through Pick.
type Sampler interface {
	Strategy
	// Sample returns the index in p.Deployments() of a deployment that ok
	// accepts, chosen as Pick would choose among the usable ones as
	// closely as sampling allows, in time that does not grow with the
	// group. It returns -1 when p is not sampled (Pool.Sampled) or when its
	// draws found no usable deployment: the caller then filters the group
	// and calls Pick, so a group with a single usable deployment still
	// finds it. It takes no lock and allocates nothing.
	Sample(p *Pool, ok Filter, info *PickInfo) int
}

// Pool is one model group's deployments prepared for sampling: a weighted
// alias table for simple-shuffle and the distinct prices for
// cost-based-routing. Build it once per set of deployments with [NewPool]
// (it copies nothing and reads only immutable configuration) and share it:
// it is read-only, so safe for concurrent use. A nil *Pool is empty.
type Pool struct {
	deps    []*deployment.Deployment
	sampled bool
	// prob and alias are Vose's alias table over the shuffle weights;
	// nil when the weights are uniform.
	prob  []float64
	alias []uint32
	// classes groups deployments by price, nil when there are more than
	// maxPriceClasses prices.
	classes []priceClass
}

type priceClass struct {
	in, out float64 // per-token prices; both 0 means unpriced
	members []uint32
}

// NewPool prepares deps for sampling. deps must not be modified afterwards.
func NewPool(deps []*deployment.Deployment) *Pool {
	p := &Pool{deps: deps}
	if len(deps) <= SampleAbove {
		return p
	}
	p.sampled = true
	for _, d := range deps[1:] {
		if d.Config().Order != deps[0].Config().Order {
			p.sampled = false // priority needs the exact scan
			return p
		}
	}
	p.buildAlias()
	p.buildClasses()
	return p
}

// Deployments returns the pool's deployments; do not modify them.
func (p *Pool) Deployments() []*deployment.Deployment {
	if p == nil {
		return nil
	}
	return p.deps
}

// Sampled reports whether Sample works on p: it has more than SampleAbove
// deployments, all of one Config.Order.
func (p *Pool) Sampled() bool { return p != nil && p.sampled }

// buildAlias builds the alias table for the weights simple-shuffle uses
// (weight, else rpm, else tpm, unset ones at the average of the set ones).
func (p *Pool) buildAlias() {
	n := len(p.deps)
	w := make([]float64, n)
	for _, field := range []int{fieldWeight, fieldRPM, fieldTPM} {
		sum, set := 0.0, 0
		for i, d := range p.deps {
			w[i] = fieldValue(d.Config(), field)
			if w[i] > 0 {
				sum += w[i]
				set++
			}
		}
		if set == 0 {
			continue
		}
		avg := sum / float64(set)
		total := sum + avg*float64(n-set)
		for i := range w {
			if w[i] <= 0 {
				w[i] = avg
			}
			w[i] *= float64(n) / total
		}
		p.prob, p.alias = vose(w)
		return
	}
}

func fieldValue(c *deployment.Config, field int) float64 {
	switch field {
	case fieldWeight:
		return c.Weight
	case fieldRPM:
		return float64(c.RPM)
	}
	return float64(c.TPM)
}

// vose builds an alias table from weights scaled to average 1.
func vose(w []float64) ([]float64, []uint32) {
	n := len(w)
	prob, alias := make([]float64, n), make([]uint32, n)
	small, large := make([]uint32, 0, n), make([]uint32, 0, n)
	for i, v := range w {
		if v < 1 {
			small = append(small, uint32(i))
		} else {
			large = append(large, uint32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		prob[s], alias[s] = w[s], l
		w[l] -= 1 - w[s]
		if w[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		prob[i], alias[i] = 1, i
	}
	for _, i := range small { // rounding
		prob[i], alias[i] = 1, i
	}
	return prob, alias
}

// buildClasses groups the deployments by price, giving up past
// maxPriceClasses prices.
func (p *Pool) buildClasses() {
	var cl []priceClass
next:
	for i, d := range p.deps {
		in, out := d.Config().Info.InputCostPerToken, d.Config().Info.OutputCostPerToken
		for j := range cl {
			if cl[j].in == in && cl[j].out == out {
				cl[j].members = append(cl[j].members, uint32(i))
				continue next
			}
		}
		if len(cl) == maxPriceClasses {
			return
		}
		cl = append(cl, priceClass{in: in, out: out, members: []uint32{uint32(i)}})
	}
	p.classes = cl
}

// intn returns a value in [0, n) for n > 0 from the per-pick generator.
func (l *local) intn(n int) int {
	*l += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*l), uint64(*l)^0xe7037ed1a0b428db)
	hi, _ = bits.Mul64(hi^lo, uint64(n))
	return int(hi)
}

// float64 returns a value in [0, 1) from the per-pick generator.
func (l *local) float64() float64 {
	*l += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*l), uint64(*l)^0xe7037ed1a0b428db)
	return float64((hi^lo)>>11) / (1 << 53)
}

// bestOf draws deployments of p uniformly until it has found
// sampleChoices usable ones (or made maxDraws draws) and returns the one
// with the lowest score, the first drawn among equals (a random one, as
// draws are random); -1 when no draw was usable. score must be cheap.
func bestOf(p *Pool, ok Filter, rng *local, score func(d *deployment.Deployment) float64) int {
	n := len(p.deps)
	pick, best, found := -1, 0.0, 0
	for range maxDraws {
		i := rng.intn(n)
		d := p.deps[i]
		if !ok.Usable(d) {
			continue
		}
		if v := score(d); pick < 0 || v < best {
			pick, best = i, v
		}
		if found++; found == sampleChoices {
			break
		}
	}
	return pick
}

// Sample draws by weight from the alias table and returns the first usable
// deployment: rejection sampling, so the result follows the weights of the
// usable deployments exactly (see the package doc for the one deviation).
func (s *shuffle) Sample(p *Pool, ok Filter, _ *PickInfo) int {
	if !p.Sampled() {
		return -1
	}
	rng := local(s.rnd.uint64())
	n := len(p.deps)
	for range maxDraws {
		i := rng.intn(n)
		if p.prob != nil && rng.float64() >= p.prob[i] {
			i = int(p.alias[i])
		}
		if ok.Usable(p.deps[i]) {
			return i
		}
	}
	return -1
}

// Sample returns the least busy of sampleChoices usable deployments drawn
// at random (best of k).
func (s *leastBusy) Sample(p *Pool, ok Filter, _ *PickInfo) int {
	if !p.Sampled() {
		return -1
	}
	rng := local(s.rnd.uint64())
	return bestOf(p, ok, &rng, func(d *deployment.Deployment) float64 { return float64(d.InFlight()) })
}

// Sample returns the most headroom of sampleChoices usable deployments
// drawn at random (best of k).
func (s *usage) Sample(p *Pool, ok Filter, info *PickInfo) int {
	if !p.Sampled() {
		return -1
	}
	if info == nil {
		info = &noInfo
	}
	now := info.Now
	rng := local(s.rnd.uint64())
	return bestOf(p, ok, &rng, func(d *deployment.Deployment) float64 {
		return -d.Headroom(now)
	})
}

// Sample returns the fastest of sampleChoices usable deployments drawn at
// random, or with a buffer a random one of those within the buffer of the
// fastest drawn.
func (s *latency) Sample(p *Pool, ok Filter, info *PickInfo) int {
	if !p.Sampled() {
		return -1
	}
	if info == nil {
		info = &noInfo
	}
	now, stream, ttl := info.Now.UnixNano(), info.Stream, s.ttl
	rng := local(s.rnd.uint64())
	if s.buffer == 0 {
		return bestOf(p, ok, &rng, func(d *deployment.Deployment) float64 { return s.effective(d, now, stream, ttl) })
	}
	var (
		idx   [sampleChoices]int
		lat   [sampleChoices]float64
		found int
	)
	n := len(p.deps)
	for range maxDraws {
		i := rng.intn(n)
		if d := p.deps[i]; ok.Usable(d) {
			idx[found], lat[found] = i, s.effective(d, now, stream, ttl)
			if found++; found == sampleChoices {
				break
			}
		}
	}
	if found == 0 {
		return -1
	}
	best := math.Inf(1)
	for _, v := range lat[:found] {
		best = min(best, v)
	}
	limit := best * (1 + s.buffer)
	pick := idx[0]
	var ties uint64
	for j, v := range lat[:found] {
		if v <= limit {
			ties++
			if rng.chosen(ties) {
				pick = idx[j]
			}
		}
	}
	return pick
}

// Sample prices each distinct price of the pool once and draws uniformly
// among the deployments of the cheapest; with more than maxPriceClasses
// prices it returns the cheapest of sampleChoices usable deployments drawn
// at random.
func (s *cost) Sample(p *Pool, ok Filter, info *PickInfo) int {
	if !p.Sampled() {
		return -1
	}
	if info == nil {
		info = &noInfo
	}
	in, out := s.sizes(info)
	rng := local(s.rnd.uint64())
	if p.classes == nil {
		return bestOf(p, ok, &rng, func(d *deployment.Deployment) float64 {
			c := &d.Config().Info
			return price(c.InputCostPerToken, c.OutputCostPerToken, in, out)
		})
	}
	cheapest, best := 0, math.Inf(1)
	for j := range p.classes {
		c := &p.classes[j]
		if v := price(c.in, c.out, in, out); v < best || j == 0 {
			cheapest, best = j, v
		}
	}
	m := p.classes[cheapest].members
	for range maxDraws {
		i := int(m[rng.intn(len(m))])
		if ok.Usable(p.deps[i]) {
			return i
		}
	}
	return -1 // the cheapest may all be unusable: the exact scan decides
}

// price is what a call of in prompt and out completion tokens costs at the
// given per-token prices, +Inf when unpriced.
func price(inCost, outCost, in, out float64) float64 {
	if inCost > 0 || outCost > 0 {
		return in*inCost + out*outCost
	}
	return math.Inf(1)
}

var (
	_ Sampler = (*shuffle)(nil)
	_ Sampler = (*leastBusy)(nil)
	_ Sampler = (*latency)(nil)
	_ Sampler = (*usage)(nil)
	_ Sampler = (*cost)(nil)
)
