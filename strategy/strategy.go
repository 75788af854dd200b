package strategy

import (
	"errors"
	"fmt"
	"maps"
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
//
// A Strategy need not be registered: [New] makes the registered ones by
// name, and a value can equally be handed to the router directly.
type Strategy interface {
	// Name names the strategy in logs and errors. For a strategy made by
	// New it is the name asked for (an alias keeps its own name); for one
	// built by hand it is whatever the implementation chooses.
	Name() string
	// Pick returns the index in cands of the deployment to use. cands is
	// non-empty and every candidate is available; Pick must not modify
	// cands or keep it. info is never nil. For an empty cands, built-in
	// strategies return -1.
	Pick(cands []*deployment.Deployment, info *PickInfo) int
}

// Factory makes a strategy from its arguments (LiteLLM
// routing_strategy_args). args may be nil. It should report a bad argument
// as an *ArgError; New wraps any other error with the strategy's name.
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
)

// defaultName is the strategy New makes for the empty name.
const defaultName = NameSimpleShuffle

// builtins are the strategies this package provides. Being package
// variables, they are registered before any init function runs, so no
// Register call can take their names.
var builtins = map[string]Factory{
	NameSimpleShuffle: newShuffle,
	NameLeastBusy:     newLeastBusy,
	NameLatency:       newLatency,
	NameUsage:         newUsage(NameUsage),
	NameUsageV2:       newUsage(NameUsageV2),
	NameCost:          newCost,
}

var (
	regMu    sync.RWMutex
	registry = maps.Clone(builtins)
)

// Register makes a strategy available to [New] under name, so that
// configuration (such as a YAML routing_strategy) can select it. A name is
// registered once: Register refuses, with an error naming it, a name
// already taken (the built-in names above are taken before any user code
// runs, so they can never be replaced), as well as an empty name or a nil
// factory. Register is safe for concurrent use.
//
// Register from an init function, so the name exists before configuration
// is read, and panic on the error: a clash means two packages claim one
// name, a mistake to stop the program at start-up rather than route with
// the wrong strategy. To use a variant of a built-in, register it under a
// name of its own, or give the value to the router without registering it.
func Register(name string, f Factory) error {
	if name == "" {
		return errors.New("strategy: Register: empty name")
	}
	if f == nil {
		return fmt.Errorf("strategy: Register %q: nil factory", name)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, taken := registry[name]; taken {
		if builtins[name] != nil {
			return fmt.Errorf("strategy: Register %q: a built-in strategy cannot be replaced", name)
		}
		return fmt.Errorf("strategy: Register %q: name already registered", name)
	}
	registry[name] = f
	return nil
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
		name = defaultName
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

// noInfo stands in for a nil *PickInfo. It is never written.
var noInfo PickInfo
