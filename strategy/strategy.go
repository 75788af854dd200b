package strategy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
)

// PickInfo describes the request a deployment is picked for.
type PickInfo struct {
	// Now is the time of the pick.
	Now time.Time
	// PromptTokens is the estimated prompt size.
	PromptTokens int
	// Stream reports whether the call streams (latency routing then uses
	// time to first token).
	Stream bool
	// OutputTokens is the expected completion size (such as the request's
	// max_tokens), 0 when unknown; cost-based routing prices it.
	OutputTokens int
}

// Strategy picks one deployment among candidates. Implementations must be
// safe for concurrent use, and Pick should take no lock and allocate nothing.
type Strategy interface {
	// Name returns the name the strategy was registered under.
	Name() string
	// Pick returns the index in cands of the deployment to use. cands is
	// non-empty and every candidate is available; Pick must not modify
	// cands or keep it. info is never nil. For an empty cands, built-in
	// strategies return -1.
	Pick(cands []*deployment.Deployment, info *PickInfo) int
}

// Factory makes a strategy from its arguments (LiteLLM
// routing_strategy_args). args may be nil.
type Factory func(args map[string]any) (Strategy, error)

// The names of the built-in strategies, as LiteLLM users write them in
// routing_strategy.
const (
	NameSimpleShuffle = "simple-shuffle"
	NameLeastBusy     = "least-busy"
	NameLatency       = "latency-based-routing"
	NameUsage         = "usage-based-routing"
	NameUsageV2       = "usage-based-routing-v2" // an alias of NameUsage
	NameCost          = "cost-based-routing"
	// DefaultName is the strategy New makes for the empty name.
	DefaultName = NameSimpleShuffle
)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a strategy available under name. It replaces an earlier
// registration of the same name, so a custom strategy may override a
// built-in one. Register is safe for concurrent use.
func Register(name string, f Factory) {
	if name == "" || f == nil {
		return
	}
	regMu.Lock()
	registry[name] = f
	regMu.Unlock()
}

// Names returns the registered strategy names, sorted.
func Names() []string {
	regMu.RLock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	regMu.RUnlock()
	slices.Sort(names)
	return names
}

// UnknownStrategyError is returned by New for a name nobody registered.
type UnknownStrategyError struct {
	// Name is the name asked for.
	Name string
	// Valid lists the registered names.
	Valid []string
}

// Error names the unknown strategy and lists the valid ones.
func (e *UnknownStrategyError) Error() string {
	return fmt.Sprintf("strategy: unknown strategy %q (valid: %s)", e.Name, strings.Join(e.Valid, ", "))
}

// New makes the strategy registered under name with args. The empty name
// means simple-shuffle.
func New(name string, args map[string]any) (Strategy, error) {
	if name == "" {
		name = DefaultName
	}
	regMu.RLock()
	f := registry[name]
	regMu.RUnlock()
	if f == nil {
		return nil, &UnknownStrategyError{Name: name, Valid: Names()}
	}
	s, err := f(args)
	if err != nil {
		if ae := (*ArgError)(nil); errors.As(err, &ae) {
			return nil, err // already names the package and the strategy
		}
		return nil, fmt.Errorf("strategy: %s: %w", name, err)
	}
	return s, nil
}

// LowestOrder keeps, in place, the candidates with the lowest Config.Order
// and returns the shortened slice, so priority composes with any strategy.
func LowestOrder(cands []*deployment.Deployment) []*deployment.Deployment {
	if len(cands) == 0 {
		return cands
	}
	low := cands[0].Config().Order
	for _, d := range cands[1:] {
		if o := d.Config().Order; o < low {
			low = o
		}
	}
	n := 0
	for _, d := range cands {
		if d.Config().Order == low {
			cands[n] = d
			n++
		}
	}
	return cands[:n]
}

func init() {
	Register(NameSimpleShuffle, newShuffle)
	Register(NameLeastBusy, newLeastBusy)
	Register(NameLatency, newLatency)
	Register(NameUsage, newUsage(NameUsage))
	Register(NameUsageV2, newUsage(NameUsageV2))
	Register(NameCost, newCost)
}

// noInfo stands in for a nil *PickInfo. It is never written.
var noInfo PickInfo
