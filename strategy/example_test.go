package strategy_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/strategy"
)

// Latency-based routing sends the call to the deployment with the lowest
// latency average; outcomes reported through Begin and End feed it.
func ExampleNew() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	var cands []*deployment.Deployment
	for i, lat := range []time.Duration{900 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond} {
		d, _ := deployment.New(deployment.Config{ID: fmt.Sprint("key-", i), ModelName: "gpt-4o", Model: "openai/gpt-4o"}, nil, deployment.Settings{})
		a, _ := d.Begin(now, 100)
		a.End(now, deployment.Outcome{Latency: lat})
		cands = append(cands, d)
	}

	s, err := strategy.New("latency-based-routing", map[string]any{"lowest_latency_buffer": 0.1})
	if err != nil {
		fmt.Println(err)
		return
	}
	i := s.Pick(cands, &strategy.PickInfo{Now: now.Add(time.Second)})
	fmt.Println(s.Name(), "picked", cands[i].ID())

	_, err = strategy.New("fastest", nil)
	var unknown *strategy.UnknownStrategyError
	fmt.Println(errors.As(err, &unknown), unknown.Name)
	// Output:
	// latency-based-routing picked key-1
	// true fastest
}
