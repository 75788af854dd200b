package strategy_test

import (
	"fmt"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// alwaysFirst is a custom strategy: the first candidate.
type alwaysFirst struct{}

func (alwaysFirst) Name() string                                          { return "always-first" }
func (alwaysFirst) Pick([]*deployment.Deployment, *strategy.PickInfo) int { return 0 }

// A package providing a strategy registers it in init, so the name exists
// before any configuration is read, and panics if the name is taken: two
// packages claiming one name is a mistake to catch at start-up.
func init() {
	err := strategy.Register("always-first", func(args map[string]any) (strategy.Strategy, error) {
		if len(args) != 0 {
			return nil, fmt.Errorf("takes no arguments")
		}
		return alwaysFirst{}, nil
	})
	if err != nil {
		panic(err)
	}
}

// A registered strategy is made by New like the built-in ones, for instance
// from a YAML routing_strategy. A built-in name cannot be taken.
func ExampleRegister() {
	s, err := strategy.New("always-first", nil)
	fmt.Println(s.Name(), err)

	err = strategy.Register("simple-shuffle", func(map[string]any) (strategy.Strategy, error) { return alwaysFirst{}, nil })
	fmt.Println(err)
	// Output:
	// always-first <nil>
	// strategy: Register "simple-shuffle": a built-in strategy cannot be replaced
}
